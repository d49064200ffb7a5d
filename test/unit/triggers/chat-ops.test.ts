import { describe, expect, it } from 'vitest'
import { UnavailableError } from '../../../broker/errors.ts'
import type { RequestResult } from '../../../broker/pipeline.ts'
import type { ReleaseRequest } from '../../../broker/release.ts'
import {
  acceptSlashCommand,
  type ChatWork,
  parseChatJob,
  performChatWork,
} from '../../../broker/triggers/chat-ops.ts'
import { triggerCatalog } from './fixtures.ts'

const slack = triggerCatalog().document.chatops!.slack!
const now = new Date('2025-01-01T00:00:00Z')
const accept = (text: string, who: Partial<{ team: string; user: string }> = {}) =>
  acceptSlashCommand(
    slack,
    { team: 'T1DC2JH3J', user: 'U2CERLKJA', command: '/capability', text, ...who },
    'slack-1',
    now,
  )

describe('accepting a slash command', () => {
  it('a request becomes a requested event from /chatops/slack/<team>, acknowledged at once', () => {
    const accepted = accept('request orders-db postgres --app checkout --env dev')
    expect(accepted.verdict).toBe('accepted')
    expect(accepted.ack.visibility).toBe('ephemeral')
    expect(accepted.ack.text).toMatch(/requesting orders-db \(postgres\) for checkout\/dev/)
    const work = accepted.work as Extract<ChatWork, { kind: 'request' }>
    expect(work.event).toMatchObject({
      source: '/chatops/slack/T1DC2JH3J',
      id: 'slack-1',
      subject: 'checkout/dev',
      data: {
        app: 'checkout',
        environment: 'dev',
        capabilities: [{ name: 'orders-db', type: 'postgres' }],
      },
    })
  })

  it('key=value pairs become params', () => {
    const work = accept('request stripe secret key=stripe').work as Extract<
      ChatWork,
      { kind: 'request' }
    >
    expect(work.event.data.capabilities?.[0]?.params).toEqual({ key: 'stripe' })
  })

  it('release and status become work too', () => {
    expect(accept('release orders-db').work).toEqual({
      kind: 'release',
      release: {
        app: 'checkout',
        environment: 'dev',
        names: ['orders-db'],
        reason: 'chat release by U2CERLKJA',
        request: { source: '/chatops/slack/T1DC2JH3J', id: 'slack-1' },
      },
    })
    expect(accept('status').work).toEqual({
      kind: 'status',
      target: { app: 'checkout', environment: 'dev' },
    })
  })

  it.each([
    ['an unknown workspace', 'request db postgres', { team: 'TOTHER1' }, 'denied', /TOTHER1/],
    [
      'an unlisted user',
      'request orders-db postgres --app checkout --env dev',
      { user: 'UNOBODY1' },
      'denied',
      /UNOBODY1\) may not use capbroker/,
    ],
    [
      'prod',
      'request db postgres --env prod',
      {},
      'denied',
      /chat may not touch environment "prod"/,
    ],
    ['a typo', 'requets db postgres', {}, 'usage', /unknown command "requets"/],
    ['help', 'help', {}, 'help', /capbroker commands/],
  ])('%s is answered at once, with no work', (_what, text, who, verdict, message) => {
    const accepted = accept(text, who)
    expect(accepted.verdict).toBe(verdict)
    expect(accepted.work).toBeUndefined()
    expect(`${accepted.ack.text} ${JSON.stringify(accepted.ack.blocks)}`).toMatch(message)
  })
})

describe('performing chat work', () => {
  const result = (status: RequestResult['status']): RequestResult => ({
    status,
    duplicate: false,
    events: [],
    capabilities: [
      {
        name: 'orders-db',
        type: 'postgres',
        status: 'ready',
        provider: 'local',
        store: 'local',
        key: 'postgres/checkout',
        version: '1',
        entries: ['host'],
        secretEntries: [],
      },
    ],
  })
  const deps = (overrides: Partial<Parameters<typeof performChatWork>[0]> = {}) => ({
    handle: async () => result('resolved'),
    release: async (r: ReleaseRequest) => ({
      released: r.names === 'all' ? [] : [...r.names],
      events: [],
    }),
    listBindings: async () => [],
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...overrides,
  })
  const work = accept('request orders-db postgres').work as ChatWork

  it('renders the outcome of a request', async () => {
    const message = await performChatWork(deps(), work)
    expect(message.text).toBe('capbroker checkout/dev: resolved — 1 ready, 0 failed, 0 denied')
  })

  it('a fault becomes a message, never an exception; internals are not shown', async () => {
    const broken = deps({
      handle: async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=canary')
      },
    })
    const message = await performChatWork(broken, work)
    expect(message.text).toMatch(/could not finish the request: chat request: internal error/)
    expect(JSON.stringify(message)).not.toContain('canary')
    const unavailable = deps({
      handle: async () => {
        throw new UnavailableError('store down')
      },
    })
    expect((await performChatWork(unavailable, work)).text).toMatch(/unavailable; try again/)
  })

  it('jobs survive a trip through JSON (to the notify function), and bad ones are refused', () => {
    const job = { work, replyTo: { url: 'https://hooks.slack.com/commands/T1/1/x' } }
    expect(parseChatJob(JSON.parse(JSON.stringify(job)))).toEqual(job)
    expect(() => parseChatJob({ work: { kind: 'drop-tables' }, replyTo: job.replyTo })).toThrow(
      /work.kind/,
    )
    expect(() => parseChatJob({ work, replyTo: {} })).toThrow(/replyTo.url/)
    const forged = {
      ...job,
      work: {
        kind: 'request',
        event: {
          ...(work as { event: object }).event,
          type: 'io.capbroker.capability.released.v1',
        },
      },
    }
    expect(() => parseChatJob(JSON.parse(JSON.stringify(forged)))).toThrow()
    const release = accept('release orders-db').work as Extract<ChatWork, { kind: 'release' }>
    expect(parseChatJob({ work: release, replyTo: job.replyTo }).work).toEqual(release)
    const climbing = { ...release, release: { ...release.release, app: '../billing' } }
    expect(() => parseChatJob({ work: climbing, replyTo: job.replyTo })).toThrow(
      /work.release.app: must match/,
    )
    expect(() =>
      parseChatJob({ work: { kind: 'status', target: { app: 'a' } }, replyTo: job.replyTo }),
    ).toThrow(/work.target.environment: is required/)
  })
})
