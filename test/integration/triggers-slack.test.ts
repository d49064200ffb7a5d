import { createHmac } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { EventTypes } from '../../events/index.ts'
import { ResponseUrlReceiver } from '../unit/adapters/slack/receiver.ts'
import { SLACK_EXAMPLE } from '../unit/triggers/fixtures.ts'
import { pgSecret, startTriggerServer } from './triggers-fixtures.ts'

// Canaries: none of these may appear in an answer, a post to Slack, a log line or an event.
const SIGNING_SECRET = 'canary-slack-signing-41'
const PG_PASSWORD = 'canary-pg-password-42'
const TEAM = 'TTEAM0001'

let receiver: ResponseUrlReceiver
let broker: Awaited<ReturnType<typeof startTriggerServer>>

const catalog = () => `
version: 1
stores:
  local: { adapter: local }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
  prod:
    inject: { to: service-binding, root: bindings-prod }
classes:
  - type: postgres
    store: local
    key: "postgres/{app}"
    outputs: { host: host, port: port, database: dbname, username: username, password: password }
    secret: [password]
policies:
  - apps: [checkout]
    environments: ["*"]
    types: [postgres]
    keys: ["postgres/checkout"]
chatops:
  slack:
    teams: [${TEAM}]
    signingSecret: { store: local, key: slack/signing-secret }
    users:
      UALLOWED1: [checkout]
    environments: [dev]
    responseUrls: ["${receiver.url}/commands/"]
`

let n = 0
/** A slash command as Slack sends it: form-encoded, signed with v0 over the raw body. */
function slash(text: string, fields: Record<string, string> = {}) {
  n++
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: TEAM,
    team_domain: 'acme',
    channel_id: 'C0123',
    channel_name: 'platform',
    user_id: 'UALLOWED1',
    user_name: 'ada',
    command: '/capability',
    text,
    response_url: `${receiver.url}/commands/${TEAM}/${n}/hook-${n}`,
    trigger_id: `trigger.${n}`,
    ...fields,
  }).toString()
}

function signed(body: string, options: { secret?: string; timestamp?: number } = {}) {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000))
  const digest = createHmac('sha256', options.secret ?? SIGNING_SECRET)
    .update(`v0:${timestamp}:${body}`)
    .digest('hex')
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': `v0=${digest}`,
  }
}

const send = (body: string, headers = signed(body)) => broker.post('/chatops/slack', body, headers)
const quiet = () => new Promise((resolve) => setTimeout(resolve, 300))
const blocksOf = (post: { json: Record<string, unknown> }) => JSON.stringify(post.json.blocks)

beforeAll(async () => {
  receiver = await new ResponseUrlReceiver().start()
  broker = await startTriggerServer({
    catalog,
    secrets: { 'slack/signing-secret': SIGNING_SECRET, 'postgres/checkout': pgSecret(PG_PASSWORD) },
  })
})
afterAll(async () => {
  await broker?.close()
  await receiver?.stop()
})
beforeEach(() => {
  receiver.posted.length = 0
})

describe('/capability from Slack, end to end', () => {
  it('request from an allowed user: acknowledged at once, the outcome posted to response_url', async () => {
    const body = slash('request orders-db postgres --app checkout --env dev')
    const r = await send(body)
    expect(r.status).toBe(200)
    expect(r.ms).toBeLessThan(3_000)
    expect(r.json).toMatchObject({
      response_type: 'ephemeral',
      text: 'capbroker: requesting orders-db (postgres) for checkout/dev…',
    })
    const [post] = await receiver.waitFor(1)
    expect(post?.path).toBe(`/commands/${TEAM}/${n}/hook-${n}`)
    expect(post?.json).toMatchObject({
      response_type: 'ephemeral',
      text: 'capbroker checkout/dev: resolved — 1 ready, 0 failed, 0 denied',
    })
    expect(blocksOf(post!)).toContain(
      ':white_check_mark: *orders-db* (postgres) — ready · local · postgres/checkout@1',
    )
    expect(post?.body).not.toContain(PG_PASSWORD)
    expect(existsSync(join(broker.dir, 'bindings/checkout/dev/orders-db/password'))).toBe(true)
    const resolved = broker.events().find((e) => e.type === EventTypes.resolved)
    expect(resolved?.data).toMatchObject({ request: { source: `/chatops/slack/${TEAM}` } })
  })

  it('the same from an unlisted user is denied and says why; nothing is emitted or posted', async () => {
    const count = broker.events().length
    const r = await send(
      slash('request orders-db postgres --app checkout --env dev', { user_id: 'UNLISTED9' }),
    )
    expect(r.status).toBe(200)
    expect(r.json.response_type).toBe('ephemeral')
    expect(r.json.text).toBe(
      'capbroker: denied — your Slack user (UNLISTED9) may not use capbroker: it is not in chatops.slack.users',
    )
    await quiet()
    expect(receiver.posted).toEqual([])
    expect(broker.events()).toHaveLength(count)
  })

  it.each([
    [
      'prod, which chat may not touch',
      () => slash('request orders-db postgres --env prod'),
      /chat may not touch environment "prod" \(chatops.slack.environments allows: dev\)/,
    ],
    [
      'another app',
      () => slash('request ledger-db postgres --app ledger'),
      /you may not act for app "ledger" \(you may act for: checkout\)/,
    ],
    [
      'an unknown workspace',
      () => slash('request orders-db postgres', { team_id: 'TSTRANGER' }),
      /this Slack workspace \(TSTRANGER\) may not use capbroker/,
    ],
  ])('%s is denied, saying why', async (_what, body, why) => {
    const count = broker.events().length
    const r = await send(body())
    expect(r.status).toBe(200)
    expect(r.json.text).toMatch(why)
    await quiet()
    expect(receiver.posted).toEqual([])
    expect(broker.events()).toHaveLength(count)
  })

  it('status lists the bindings, names only; release removes one and says so', async () => {
    await send(slash('status'))
    const [status] = await receiver.waitFor(1)
    expect(status?.json.text).toBe('capbroker: 1 bound for checkout/dev')
    expect(blocksOf(status!)).toContain('*orders-db* (postgres)')
    receiver.posted.length = 0
    const r = await send(slash('release orders-db'))
    expect(r.json.text).toMatch(/releasing orders-db from checkout\/dev/)
    const [released] = await receiver.waitFor(1)
    expect(released?.json.text).toBe(
      'capbroker: released orders-db from checkout/dev: its binding was removed',
    )
    expect(existsSync(join(broker.dir, 'bindings/checkout/dev/orders-db'))).toBe(false)
    expect(
      broker
        .events()
        .filter((e) => e.type === EventTypes.released)
        .map((e) => e.data),
    ).toEqual([
      {
        app: 'checkout',
        environment: 'dev',
        name: 'orders-db',
        type: 'postgres',
        reason: 'chat release by UALLOWED1',
      },
    ])
  })

  it('help and typos are answered at once with the commands', async () => {
    const r = await send(slash('requets orders-db'))
    expect(r.json.text).toBe(
      'capbroker: unknown command "requets": use request, release, status or help',
    )
    expect(JSON.stringify(r.json.blocks)).toContain('/capability request &lt;name&gt; &lt;type&gt;')
  })
})

describe('requests that are not Slack’s, rejected with nothing emitted or posted', () => {
  const now = () => Math.floor(Date.now() / 1000)

  it.each([
    [
      'unsigned',
      (_b: string) => ({ 'content-type': 'application/x-www-form-urlencoded' }),
      401,
      /not signed/,
    ],
    [
      'signed with another secret',
      (b: string) => signed(b, { secret: 'another-secret' }),
      403,
      /does not match/,
    ],
    [
      'older than 5 minutes',
      (b: string) => signed(b, { timestamp: now() - 301 }),
      401,
      /more than 5 minutes/,
    ],
    [
      'from the future',
      (b: string) => signed(b, { timestamp: now() + 301 }),
      401,
      /more than 5 minutes/,
    ],
    [
      'tampered after signing',
      (b: string) => signed(b.replace('orders-db', 'other-db')),
      403,
      /does not match/,
    ],
    [
      'JSON instead of a form',
      (b: string) => ({ ...signed(b), 'content-type': 'application/json' }),
      415,
      /x-www-form-urlencoded/,
    ],
  ])('%s: refused', async (_what, headers, status, detail) => {
    const count = broker.events().length
    const body = slash('request orders-db postgres')
    const r = await send(body, headers(body) as ReturnType<typeof signed>)
    expect(r.status).toBe(status)
    expect(r.type).toBe('application/problem+json')
    expect(String(r.json.detail)).toMatch(detail)
    await quiet()
    expect(receiver.posted).toEqual([])
    expect(broker.events()).toHaveLength(count)
  })

  it('a replay of a signed request inside the window → 403, and the first one counts once', async () => {
    const body = slash('status')
    const headers = signed(body)
    expect((await send(body, headers)).status).toBe(200)
    await receiver.waitFor(1)
    const count = broker.events().length
    const replay = await send(body, headers)
    expect(replay.status).toBe(403)
    expect(replay.json.detail).toMatch(/already received/)
    await quiet()
    expect(receiver.posted).toHaveLength(1)
    expect(broker.events()).toHaveLength(count)
  })

  it('a response_url the catalog does not allow → 400, and nothing is posted anywhere', async () => {
    const other = await new ResponseUrlReceiver().start()
    try {
      const r = await send(
        slash('request orders-db postgres', { response_url: `${other.url}/commands/x` }),
      )
      expect(r.status).toBe(400)
      expect(r.json.detail).toMatch(/response_url is not one the broker answers to/)
      await quiet()
      expect(other.posted).toEqual([])
    } finally {
      await other.stop()
    }
  })
})

describe("Slack's published signing example through POST /chatops/slack", () => {
  const catalogFor = () => `
version: 1
stores:
  local: { adapter: local }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
classes: []
chatops:
  slack:
    teams: [T1DC2JH3J]
    signingSecret: { store: local, key: slack/signing-secret }
    users: { U2CERLKJA: [checkout] }
    environments: [dev]
`
  const headers = (signature = SLACK_EXAMPLE.signature) => ({
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': SLACK_EXAMPLE.timestamp,
    'x-slack-signature': signature,
  })

  it('is accepted at the moment it was sent (its empty text asks for help), and refused with one byte changed', async () => {
    const example = await startTriggerServer({
      catalog: catalogFor,
      secrets: { 'slack/signing-secret': SLACK_EXAMPLE.secret },
      clock: () => new Date(Number(SLACK_EXAMPLE.timestamp) * 1000 + 10_000),
    })
    try {
      const r = await example.post('/chatops/slack', SLACK_EXAMPLE.body, headers())
      expect(r.status).toBe(200)
      expect(r.json.text).toBe('capbroker commands: request, release, status, help')
      expect(JSON.stringify(r.json.blocks)).toContain('/webhook-collect request')
      const changed = await example.post(
        '/chatops/slack',
        SLACK_EXAMPLE.body.replace('text=', 'text=x'),
        headers(),
      )
      expect(changed.status).toBe(403)
      expect(example.transcript()).not.toContain(SLACK_EXAMPLE.secret)
    } finally {
      await example.close()
    }
  })
})

describe('secrets', () => {
  it('the signing secret and the values appear in no answer, post, log line or event', () => {
    const transcript = broker.transcript() + JSON.stringify(receiver.posted)
    expect(transcript.length).toBeGreaterThan(1000)
    for (const canary of [SIGNING_SECRET, PG_PASSWORD]) expect(transcript).not.toContain(canary)
  })
})
