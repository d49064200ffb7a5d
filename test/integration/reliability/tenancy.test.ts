/**
 * A hostile tenant, as a table: app `checkout` (A) reaching for app `billing`'s (B)
 * secrets by every route the broker has — params injection (traversal, globs, encoded
 * and look-alike variants), a class with another app's key, the capability name in a
 * key, a Score resource `id` / workload name, a spoofed `source`, a chat user acting for
 * another app, and a git repository mapped to A pushing a manifest that names B's
 * capabilities. Each is denied (emitting `denied` where the policy decides) or fails
 * before any read; B's store keys are never read (a spy on the local store sees every
 * key), and B's secret values appear nowhere in what A gets back: answers, events, log
 * lines, chat posts, A's binding files. Real HTTP server, real local store, real git.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { sign } from '@octokit/webhooks-methods'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { LocalSecretStore } from '../../../adapters/local/index.ts'
import type { SecretLocator } from '../../../broker/ports.ts'
import { type AnyCloudEvent, EventTypes } from '../../../events/index.ts'
import { GitRepo } from '../../unit/adapters/local-git/git-repo.ts'
import { ResponseUrlReceiver } from '../../unit/adapters/slack/receiver.ts'
import { startTriggerServer } from '../triggers-fixtures.ts'

// B's values: none may ever reach A. A's own are there to prove A still gets its own.
const B_PASSWORD = 'canary-tenant-b-pg-7301'
const B_STRIPE = 'canary-tenant-b-stripe-7302'
const B_TOKEN = 'canary-tenant-b-token-7303'
const B_CANARIES = [B_PASSWORD, B_STRIPE, B_TOKEN]
const A_PASSWORD = 'tenant-a-pg-1111'
const B_KEY = /^(postgres\/billing|apps\/billing\/)/
const SIGNING_SECRET = 'tenancy-slack-signing'
const TEAM = 'TACME0001'

let receiver: ResponseUrlReceiver
let broker: Awaited<ReturnType<typeof startTriggerServer>>
let checkoutRepo: GitRepo
const read = vi.spyOn(LocalSecretStore.prototype, 'read')

const catalog = (dir: string) => `
version: 1
stores:
  local: { adapter: local }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
    branches: [main]
classes:
  - type: postgres
    store: local
    key: "postgres/{app}"
    outputs: { host: host, password: password }
  - type: secret
    store: local
    key: "apps/{app}/{params.key}"
  - type: shared-secret              # another app's namespace through a param
    store: local
    key: "apps/{params.owner}/{params.key}"
  - type: billing-db                 # a class pinned to B's key
    store: local
    key: "postgres/billing"
  - type: named                      # the capability name in the key
    store: local
    key: "apps/{name}/token"
policies:
  - apps: [checkout]
    environments: [dev]
    types: [postgres, secret, shared-secret, billing-db, named]
    keys: ["postgres/checkout", "apps/checkout/*"]
  - apps: [billing]
    environments: [dev]
    types: [postgres, secret, named]
    keys: ["postgres/billing", "apps/billing/*"]
cache: { ttl: 0s }                   # every request reads the store: the spy sees it all
git:
  repos:
    acme/checkout:
      app: checkout
      source: local-git
      clone: ${join(dir, 'checkout-repo')}
      webhookSecret: { store: local, key: github/checkout-webhook }
    acme/billing:
      app: billing
      source: local-git
      clone: ${join(dir, 'billing-repo')}
      webhookSecret: { store: local, key: github/billing-webhook }
chatops:
  slack:
    teams: [${TEAM}]
    signingSecret: { store: local, key: slack/signing }
    users:
      UCHECKOUT: [checkout]
      UBILLING: [billing]
    environments: [dev]
    responseUrls: ["${receiver.url}/hooks/"]
`

beforeAll(async () => {
  receiver = await new ResponseUrlReceiver().start()
  broker = await startTriggerServer({
    catalog,
    secrets: {
      'postgres/checkout': JSON.stringify({ host: 'a.db', password: A_PASSWORD }),
      'apps/checkout/stripe': 'tenant-a-stripe',
      'postgres/billing': JSON.stringify({ host: 'b.db', password: B_PASSWORD }),
      'apps/billing/stripe': B_STRIPE,
      'apps/billing/token': B_TOKEN,
      'github/checkout-webhook': 'tenancy-gh-checkout',
      'github/billing-webhook': 'tenancy-gh-billing',
      'slack/signing': SIGNING_SECRET,
    },
  })
  checkoutRepo = new GitRepo(join(broker.dir, 'checkout-repo'))
  checkoutRepo.write('README.md', '# checkout\n').commit('initial')
})

afterAll(async () => {
  await broker?.close()
  await receiver?.stop()
  read.mockRestore()
})

/** Every file under a directory, as one text. */
function filesText(root: string): string {
  if (!existsSync(root)) return ''
  const out: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else out.push(`${path}\n${readFileSync(path, 'utf8')}`)
    }
  }
  walk(root)
  return out.join('\n')
}

const keysRead = () =>
  read.mock.calls.flatMap(([locators]) => (locators as SecretLocator[]).map((l) => l.key))

/** What an attack produced: the answer and everything the broker emitted meanwhile. */
interface Observed {
  readonly status: number
  readonly answer: Record<string, unknown>
  readonly events: AnyCloudEvent[]
  readonly posts: string[]
  readonly transcript: string
  readonly keys: string[]
}

/** Runs an attack and collects what A could see, and which keys were read. */
async function observe(attack: () => Promise<{ status: number; text: string }>): Promise<Observed> {
  const [events, logs, posts] = [broker.events().length, broker.logs.length, receiver.posted.length]
  read.mockClear()
  const reply = await attack()
  // A chat command's work runs after the acknowledgement: wait for it (and its post).
  await broker.drain()
  const emitted = broker.events().slice(events)
  const posted = receiver.posted.slice(posts).map((p) => p.body)
  let answer: Record<string, unknown> = {}
  try {
    answer = JSON.parse(reply.text) as Record<string, unknown>
  } catch {}
  return {
    status: reply.status,
    answer,
    events: emitted,
    posts: posted,
    keys: keysRead(),
    transcript: [
      reply.text,
      JSON.stringify(emitted),
      ...broker.logs.slice(logs),
      ...posted,
      filesText(join(broker.dir, 'bindings', 'checkout')),
    ].join('\n'),
  }
}

let n = 0
function requested(data: Record<string, unknown>, source = '/apps/checkout') {
  return JSON.stringify({
    specversion: '1.0',
    id: `tenancy-${++n}`,
    source,
    type: EventTypes.requested,
    data: { environment: 'dev', ...data },
  })
}
const postEvent = (body: string) =>
  broker.post('/events?wait=true', body, { 'content-type': 'application/cloudevents+json' })
const asApp = (capabilities: unknown[], app = 'checkout', source = '/apps/checkout') =>
  postEvent(requested({ app, capabilities }, source))
const secretWith = (params: Record<string, unknown>, type = 'secret', name = 'stolen') =>
  asApp([{ name, type, params }])

function slash(user: string, text: string) {
  const body = new URLSearchParams({
    team_id: TEAM,
    user_id: user,
    command: '/capability',
    text,
    response_url: `${receiver.url}/hooks/${randomUUID()}`,
  }).toString()
  const timestamp = String(Math.floor(Date.now() / 1000))
  const digest = createHmac('sha256', SIGNING_SECRET)
    .update(`v0:${timestamp}:${body}`)
    .digest('hex')
  return broker.post('/chatops/slack', body, {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': `v0=${digest}`,
  })
}

/** Commits a manifest to A's repository and delivers the push, signed as `secretOf` says. */
async function gitPush(manifest: string, options: { claim?: string; secret?: string } = {}) {
  const before = checkoutRepo.head()
  checkoutRepo.write('score.yaml', manifest)
  const after = checkoutRepo.commit(`manifest ${++n}`)
  const payload = checkoutRepo.pushPayload({ before, after, repository: 'acme/checkout' })
  if (options.claim) (payload.repository as { full_name: string }).full_name = options.claim
  const body = JSON.stringify(payload)
  return broker.post('/webhooks/github', body, {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': randomUUID(),
    'x-hub-signature-256': await sign(options.secret ?? 'tenancy-gh-checkout', body),
  })
}

type Expected =
  /** The request was refused by policy: a `denied` outcome and event. */
  | { readonly outcome: 'denied'; readonly code: 'DENIED' }
  /** It failed before any read (a template refused the value). */
  | { readonly outcome: 'failed'; readonly code: 'INVALID_PARAMS' }
  /** It resolved A's own capability, never B's key. */
  | { readonly outcome: 'resolved'; readonly key: string }
  /** Chat refused at once: an ephemeral answer saying why, no work, nothing emitted. */
  | { readonly outcome: 'chat-refused'; readonly says: RegExp }
  /** Chat accepted the command; its posted outcome says denied or failed. */
  | { readonly outcome: 'chat-posted'; readonly says: RegExp }
  /** The HTTP edge refused it: this status, nothing emitted. */
  | { readonly outcome: 'refused'; readonly status: number }

const DENIED_APP = /^capbroker: denied — you may not act for app "billing"/
const SCORE = (metadataName: string, resources: string) =>
  `apiVersion: score.dev/v1b1\nmetadata: { name: ${metadataName} }\nresources:\n${resources}`

const ROUTES: readonly [string, () => Promise<{ status: number; text: string }>, Expected][] = [
  // Params injection into A's own template `apps/{app}/{params.key}`.
  [
    'params ../billing/stripe',
    () => secretWith({ key: '../billing/stripe' }),
    { outcome: 'failed', code: 'INVALID_PARAMS' },
  ],
  ['params ..', () => secretWith({ key: '..' }), { outcome: 'failed', code: 'INVALID_PARAMS' }],
  [
    'params billing/stripe',
    () => secretWith({ key: 'billing/stripe' }),
    { outcome: 'failed', code: 'INVALID_PARAMS' },
  ],
  ['params *', () => secretWith({ key: '*' }), { outcome: 'failed', code: 'INVALID_PARAMS' }],
  ['params **', () => secretWith({ key: '**' }), { outcome: 'failed', code: 'INVALID_PARAMS' }],
  [
    'params {a,b} glob',
    () => secretWith({ key: '{stripe,token}' }),
    { outcome: 'failed', code: 'INVALID_PARAMS' },
  ],
  [
    'params URL-encoded ../',
    () => secretWith({ key: '%2e%2e%2fbilling%2fstripe' }),
    { outcome: 'failed', code: 'INVALID_PARAMS' },
  ],
  [
    'params half-encoded ..%2f',
    () => secretWith({ key: '..%2fbilling%2fstripe' }),
    { outcome: 'failed', code: 'INVALID_PARAMS' },
  ],
  [
    'params backslash ..\\',
    () => secretWith({ key: '..\\billing\\stripe' }),
    { outcome: 'failed', code: 'INVALID_PARAMS' },
  ],
  [
    'params look-alike dots and solidus',
    () => secretWith({ key: '\u2025\uff0fbilling\uff0fstripe' }),
    { outcome: 'failed', code: 'INVALID_PARAMS' },
  ],
  [
    'params NUL',
    () => secretWith({ key: 'stripe\u0000/../../billing/stripe' }),
    { outcome: 'failed', code: 'INVALID_PARAMS' },
  ],
  [
    'params a number that prints with +',
    () => secretWith({ key: 1e21 }),
    { outcome: 'failed', code: 'INVALID_PARAMS' },
  ],
  // A class whose template reaches into another app's namespace: the key policy stops it.
  [
    'a class keyed by params.owner',
    () => secretWith({ owner: 'billing', key: 'stripe' }, 'shared-secret'),
    { outcome: 'denied', code: 'DENIED' },
  ],
  [
    'a class pinned to B’s key',
    () => asApp([{ name: 'db', type: 'billing-db' }]),
    { outcome: 'denied', code: 'DENIED' },
  ],
  [
    'the capability name in the key',
    () => asApp([{ name: 'billing', type: 'named' }]),
    { outcome: 'denied', code: 'DENIED' },
  ],
  // Score: a shared resource `id`, and a workload named after B, change nothing.
  [
    'a Score resource id naming B’s resource',
    () =>
      postEvent(
        requested({
          app: 'checkout',
          score: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'billing' },
            resources: {
              db: { type: 'postgres', id: 'postgres/billing', params: { app: 'billing' } },
            },
          },
        }),
      ),
    { outcome: 'resolved', key: 'postgres/checkout' },
  ],
  [
    'a Score resource named after B, through the name template',
    () =>
      postEvent(
        requested({
          app: 'checkout',
          score: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'billing' },
            resources: { billing: { type: 'named', id: 'billing' } },
          },
        }),
      ),
    { outcome: 'denied', code: 'DENIED' },
  ],
  // The event's source speaks for one app only.
  [
    'source /apps/billing asking for checkout',
    () => asApp([{ name: 'db', type: 'postgres' }], 'checkout', '/apps/billing'),
    { outcome: 'denied', code: 'DENIED' },
  ],
  [
    'source /apps/checkout asking for billing',
    () => asApp([{ name: 'db', type: 'postgres' }], 'billing', '/apps/checkout'),
    { outcome: 'denied', code: 'DENIED' },
  ],
  // A chat user acting for another app.
  [
    'chat: request --app billing',
    () => slash('UCHECKOUT', 'request db postgres --app billing'),
    { outcome: 'chat-refused', says: DENIED_APP },
  ],
  [
    'chat: status --app billing',
    () => slash('UCHECKOUT', 'status --app billing'),
    { outcome: 'chat-refused', says: DENIED_APP },
  ],
  [
    'chat: release --app billing',
    () => slash('UCHECKOUT', 'release db --app billing'),
    { outcome: 'chat-refused', says: DENIED_APP },
  ],
  [
    'chat: --app with a glob',
    () => slash('UCHECKOUT', 'request db postgres --app bill*'),
    { outcome: 'chat-refused', says: /--app "bill\*" must match/ },
  ],
  [
    'chat: params into B’s namespace',
    () => slash('UCHECKOUT', 'request s shared-secret owner=billing key=stripe'),
    { outcome: 'chat-posted', says: /denied/ },
  ],
  [
    'chat: params traversal',
    () => slash('UCHECKOUT', 'request s secret key=../billing/stripe'),
    { outcome: 'chat-posted', says: /INVALID_PARAMS/ },
  ],
  // A repository mapped to A pushing a manifest that names B's capabilities.
  [
    'git: A’s repository declares B’s pinned class, under a workload named billing',
    () => gitPush(SCORE('billing', '  db: { type: billing-db, id: postgres/billing }\n')),
    { outcome: 'denied', code: 'DENIED' },
  ],
  [
    'git: A’s repository declares a traversal',
    () =>
      gitPush('capabilities:\n  - { name: s, type: secret, params: { key: ../billing/stripe } }\n'),
    { outcome: 'failed', code: 'INVALID_PARAMS' },
  ],
  [
    'git: A’s push claiming to be B’s repository',
    () => gitPush('capabilities:\n  - { name: db, type: postgres }\n', { claim: 'acme/billing' }),
    { outcome: 'refused', status: 403 },
  ],
]

describe('the control: B gets its own secrets, and the spy sees the reads', () => {
  it('B’s own request reads B’s keys and injects B’s values into B’s context only', async () => {
    const seen = await observe(() =>
      asApp(
        [
          { name: 'db', type: 'postgres' },
          { name: 'stripe', type: 'secret', params: { key: 'stripe' } },
        ],
        'billing',
        '/apps/billing',
      ),
    )
    expect(seen.answer.status).toBe('resolved')
    expect(seen.keys).toEqual(expect.arrayContaining(['postgres/billing', 'apps/billing/stripe']))
    expect(filesText(join(broker.dir, 'bindings', 'billing'))).toContain(B_PASSWORD)
    expect(filesText(join(broker.dir, 'bindings', 'checkout'))).not.toContain(B_PASSWORD)
  })
})

describe('app checkout reaching for billing’s secrets', () => {
  it.each(ROUTES)('%s', async (_route, attack, expected) => {
    const seen = await observe(attack)
    // Never a read of B's keys, never one of B's values in anything A sees.
    expect(seen.keys.filter((k) => B_KEY.test(k))).toEqual([])
    for (const canary of B_CANARIES) expect(seen.transcript).not.toContain(canary)

    const outcome = (type: string) => seen.events.find((e) => e.type === type)
    switch (expected.outcome) {
      case 'denied':
      case 'failed': {
        const result = (seen.answer.requested ?? seen.answer) as {
          status?: string
          capabilities?: { status: string; reason?: { code: string } }[]
        }
        expect(result.status).toBe(expected.outcome)
        const codes = (result.capabilities ?? []).map((c) => c.reason?.code)
        expect(codes).toContain(expected.code)
        const type = expected.outcome === 'denied' ? EventTypes.denied : EventTypes.failed
        expect(outcome(type)).toBeDefined()
        expect(outcome(EventTypes.injected)).toBeUndefined()
        break
      }
      case 'resolved': {
        expect(seen.answer.status).toBe('resolved')
        expect((seen.answer.capabilities as { key: string }[]).map((c) => c.key)).toEqual([
          expected.key,
        ])
        expect(seen.transcript).toContain(A_PASSWORD)
        break
      }
      case 'chat-refused': {
        expect(seen.status).toBe(200)
        expect(String(seen.answer.text)).toMatch(expected.says)
        expect([seen.events, seen.posts, seen.keys.filter((k) => !k.startsWith('slack/'))]).toEqual(
          [[], [], []],
        )
        break
      }
      case 'chat-posted': {
        expect(seen.status).toBe(200)
        expect(seen.posts).toHaveLength(1)
        expect(seen.posts[0]).toMatch(expected.says)
        expect(outcome(EventTypes.injected)).toBeUndefined()
        break
      }
      case 'refused': {
        expect(seen.status).toBe(expected.status)
        expect(seen.events).toEqual([])
        break
      }
    }
  })

  it('left B’s bindings and state as they were', async () => {
    const bindings = await broker.runtime.state.listBindings({ app: 'billing', environment: 'dev' })
    expect(bindings.map((b) => [b.name, b.request.source])).toEqual([
      ['db', '/apps/billing'],
      ['stripe', '/apps/billing'],
    ])
  })
})
