import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { buildBinding, InvalidSecretError, SecretValue } from '../../../broker/index.ts'

const subject = { name: 'db', type: 'postgresql', provider: 'local', key: 'postgres/checkout' }
const details = JSON.stringify({
  host: 'db.local',
  port: 5432,
  dbname: 'orders',
  username: 'app',
  password: 'hunter2-canary',
})

const reveal = (m: ReadonlyMap<string, SecretValue>) =>
  Object.fromEntries([...m].map(([k, v]) => [k, v.reveal()]))

describe('buildBinding', () => {
  it('maps outputs to entries and marks secret ones', () => {
    const b = buildBinding(
      subject,
      {
        outputs: { host: 'host', port: 'port', database: 'dbname', password: 'password' },
        secret: ['password'],
      },
      new SecretValue(details),
    )
    expect(reveal(b.entries)).toEqual({
      host: 'db.local',
      port: '5432',
      database: 'orders',
      password: 'hunter2-canary',
    })
    expect(b.secretEntries).toEqual(['password'])
  })

  it('without outputs takes every top-level property, all secret by default, skipping reserved names', () => {
    const b = buildBinding(
      subject,
      {},
      new SecretValue(
        JSON.stringify({ a: 'x', nested: { b: 1 }, type: 'spoof', provider: 'spoof' }),
      ),
    )
    expect(reveal(b.entries)).toEqual({ a: 'x', nested: '{"b":1}' })
    expect(b.secretEntries).toEqual(['a', 'nested'])
  })

  it('binds a non-JSON secret as `value`', () => {
    for (const raw of ['sk_live_canary', '[1,2]', '{not json', '42']) {
      expect(reveal(buildBinding(subject, {}, new SecretValue(raw)).entries)).toEqual({
        value: raw,
      })
    }
  })

  it.each([
    ['not JSON', 'plain-canary-value', /secret "postgres\/checkout" is not a JSON object/],
    [
      'a missing property',
      JSON.stringify({ host: 'h' }),
      /has no property "dbname" \(for entry "database"\)/,
    ],
  ])('refuses %s, naming key and property but not the value', (_what, raw, message) => {
    const attempt = () =>
      buildBinding(subject, { outputs: { host: 'host', database: 'dbname' } }, new SecretValue(raw))
    expect(attempt).toThrow(InvalidSecretError)
    expect(attempt).toThrow(message)
    try {
      attempt()
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('canary')
    }
  })

  it('refuses property names that cannot be file names', () => {
    expect(() =>
      buildBinding(subject, {}, new SecretValue(JSON.stringify({ '../x': 'v' }))),
    ).toThrow(/not a valid entry name/)
  })
})

describe('SecretValue', () => {
  it('redacts itself everywhere but reveal()', () => {
    const v = new SecretValue('canary-123')
    const printed = [
      String(v),
      `${v}`,
      JSON.stringify({ v }),
      inspect(v),
      inspect({ nested: [v] }),
      v.toString(),
      String([v]),
    ]
    for (const text of printed) expect(text).not.toContain('canary')
    expect(v.reveal()).toBe('canary-123')
    expect(v.equals(new SecretValue('canary-123'))).toBe(true)
    expect(v.byteLength).toBe(10)
  })
})
