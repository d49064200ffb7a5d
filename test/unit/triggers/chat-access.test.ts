import { describe, expect, it } from 'vitest'
import { authorizeChat } from '../../../broker/triggers/chat-access.ts'
import { triggerCatalog } from './fixtures.ts'

const slack = triggerCatalog().document.chatops!.slack!
const allowed = { team: 'T1DC2JH3J', user: 'U2CERLKJA' }

describe('who may do what from chat', () => {
  it('an allowed user acts for their app in the default environment', () => {
    expect(authorizeChat(slack, allowed, {})).toEqual({
      allowed: true,
      app: 'checkout',
      environment: 'dev',
    })
    expect(authorizeChat(slack, allowed, { app: 'checkout', environment: 'dev' })).toMatchObject({
      allowed: true,
    })
  })

  it.each([
    [
      'an unknown workspace',
      { team: 'TOTHER1', user: 'U2CERLKJA' },
      {},
      /workspace \(TOTHER1\) may not use capbroker: it is not in chatops.slack.teams/,
    ],
    [
      'an unlisted user',
      { team: 'T1DC2JH3J', user: 'UNOBODY1' },
      { app: 'checkout' },
      /your Slack user \(UNOBODY1\) may not use capbroker: it is not in chatops.slack.users/,
    ],
    [
      'another app',
      allowed,
      { app: 'billing' },
      /you may not act for app "billing" \(you may act for: checkout\)/,
    ],
    [
      'prod, which chat may not touch',
      allowed,
      { environment: 'prod' },
      /chat may not touch environment "prod" \(chatops.slack.environments allows: dev\)/,
    ],
  ])('%s is denied, saying why', (_what, who, wanted, message) => {
    const decision = authorizeChat(slack, who, wanted)
    expect(decision).toMatchObject({ allowed: false, kind: 'denied' })
    expect(!decision.allowed && decision.message).toMatch(message)
  })

  it('a user with a glob must name the app; the glob then allows it', () => {
    const platform = { team: 'T1DC2JH3J', user: 'UPLATFORM1' }
    expect(authorizeChat(slack, platform, {})).toMatchObject({
      allowed: false,
      kind: 'usage',
      message: /say which app with --app/,
    })
    expect(authorizeChat(slack, platform, { app: 'billing' })).toMatchObject({
      allowed: true,
      app: 'billing',
    })
  })

  it('prod is reachable only when it is named', () => {
    const withProd = { ...slack, environments: ['dev', 'prod'] }
    expect(authorizeChat(withProd, allowed, { environment: 'prod' })).toMatchObject({
      allowed: true,
      environment: 'prod',
    })
  })

  it('a user id that is an Object.prototype name is not a user', () => {
    expect(
      authorizeChat(slack, { team: 'T1DC2JH3J', user: 'constructor' }, { app: 'checkout' }),
    ).toMatchObject({ allowed: false })
  })
})
