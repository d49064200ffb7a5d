import { describe, expect, it } from 'vitest'
import { ChatUsageError, parseChatCommand } from '../../../broker/triggers/chat-command.ts'

describe('the slash command language', () => {
  it.each([
    [
      'request orders-db postgres --app checkout --env dev',
      {
        kind: 'request',
        name: 'orders-db',
        type: 'postgres',
        app: 'checkout',
        environment: 'dev',
        params: {},
      },
    ],
    [
      'request stripe secret key=stripe --env=staging',
      {
        kind: 'request',
        name: 'stripe',
        type: 'secret',
        environment: 'staging',
        params: { key: 'stripe' },
      },
    ],
    ['  REQUEST   db   postgres  ', { kind: 'request', name: 'db', type: 'postgres', params: {} }],
    ['release orders-db --app checkout', { kind: 'release', name: 'orders-db', app: 'checkout' }],
    ['status --environment dev', { kind: 'status', environment: 'dev' }],
    ['status', { kind: 'status' }],
    ['help', { kind: 'help' }],
    ['', { kind: 'help' }],
    [
      'request x secret note=a&amp;b',
      { kind: 'request', name: 'x', type: 'secret', params: { note: 'a&b' } },
    ],
  ])('%j', (text, expected) => {
    expect({ ...parseChatCommand(text) }).toEqual(expected)
  })

  it.each([
    ['deploy db', /unknown command "deploy"/],
    ['request db', /usage: request <name> <type>/],
    ['request db postgres extra', /usage: request/],
    ['release', /usage: release <name>/],
    ['status db', /usage: status/],
    ['request db postgres --app', /--app needs a value/],
    ['request db postgres --app --env dev', /--app needs a value/],
    ['request db postgres --force', /unknown option "--force"/],
    ['request ../etc postgres', /capability name "..\/etc" must match/],
    ['request db Postgres', /capability type "Postgres" must match/],
    ['request db postgres --app ../billing', /--app "..\/billing" must match/],
    ['release db key=value', /release takes no key=value parameters/],
    ['request db postgres bad/key=v', /parameter name "bad\/key" must match/],
    [`request db postgres note=${'x'.repeat(1025)}`, /longer than 1024/],
  ])('%j is a usage error that says why', (text, message) => {
    expect(() => parseChatCommand(text)).toThrow(ChatUsageError)
    expect(() => parseChatCommand(text)).toThrow(message)
  })

  it('a __proto__ parameter is just a name', () => {
    const command = parseChatCommand('request s secret __proto__=x')
    expect(command.kind === 'request' && Object.keys(command.params)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).x).toBeUndefined()
  })
})
