import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sign } from '@octokit/webhooks-methods'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventTypes } from '../../events/index.ts'
import { runCli, startServer } from '../support/cli.ts'
import { ContentsApi } from '../unit/adapters/github/contents-api.ts'
import { GitRepo } from '../unit/adapters/local-git/git-repo.ts'
import { examples } from '../unit/triggers/fixtures.ts'
import { pgSecret, startTriggerServer } from './triggers-fixtures.ts'

// Canaries: none of these may appear in an answer, a log line or an event.
const WEBHOOK_SECRET = 'canary-gh-webhook-checkout-31'
const LEDGER_SECRET = 'canary-gh-webhook-ledger-32'
const API_TOKEN = 'canary-gh-api-token-33'
const PG_PASSWORD = 'canary-pg-password-34'
const CANARIES = [WEBHOOK_SECRET, LEDGER_SECRET, API_TOKEN, PG_PASSWORD]
const ZERO = '0'.repeat(40)

const catalog = (apiUrl: string) => (dir: string) =>
  `
version: 1
stores:
  local: { adapter: local }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
    branches: ["feature/*"]
  prod:
    inject: { to: service-binding, root: bindings-prod }
    branches: [main]
classes:
  - type: postgres
    store: local
    key: "postgres/{app}"
    outputs: { host: host, port: port, database: dbname, username: username, password: password }
    secret: [password]
policies:
  - apps: [checkout, ledger]
    environments: ["*"]
    types: [postgres]
    keys: ["postgres/checkout", "postgres/ledger"]
git:
  repos:
    acme/checkout:
      app: checkout
      source: local-git
      clone: ${join(dir, 'checkout')}
      webhookSecret: { store: local, key: github/checkout-webhook }
    acme/ledger:
      app: ledger
      baseUrl: ${apiUrl}
      webhookSecret: { store: local, key: github/ledger-webhook }
      token: { store: local, key: github/token }
`

let api: ContentsApi
let broker: Awaited<ReturnType<typeof startTriggerServer>>
let repo: GitRepo

async function deliver(
  payload: unknown,
  options: {
    event?: string
    delivery?: string
    secret?: string
    signature?: string | null
    body?: string
    type?: string
  } = {},
) {
  const body = options.body ?? JSON.stringify(payload)
  const signature =
    options.signature === undefined
      ? await sign(options.secret ?? WEBHOOK_SECRET, JSON.stringify(payload))
      : options.signature
  return broker.post('/webhooks/github', body, {
    'content-type': options.type ?? 'application/json',
    'x-github-event': options.event ?? 'push',
    'x-github-delivery': options.delivery ?? randomUUID(),
    ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
  })
}

const SCORE = (resources: string) =>
  `apiVersion: score.dev/v1b1\nmetadata: { name: checkout }\nresources:\n${resources}`
const binding = (env: string, app: string, name: string) =>
  join(broker.dir, env === 'prod' ? 'bindings-prod' : 'bindings', app, env, name)

beforeAll(async () => {
  api = await new ContentsApi().start()
  broker = await startTriggerServer({
    catalog: catalog(api.url),
    secrets: {
      'github/checkout-webhook': WEBHOOK_SECRET,
      'github/ledger-webhook': LEDGER_SECRET,
      'github/token': API_TOKEN,
      'postgres/checkout': pgSecret(PG_PASSWORD),
      'postgres/ledger': pgSecret(PG_PASSWORD),
    },
  })
  repo = new GitRepo(join(broker.dir, 'checkout'))
  repo.write('README.md', '# checkout\n').commit('initial')
})

afterAll(async () => {
  await broker?.close()
  await api?.stop()
})

describe('a push to the broker, end to end (real git, local-git source)', () => {
  let added: string

  it('answers ping once the signature checks out', async () => {
    const [ping] = examples<Record<string, unknown>>('ping')
    const payload = {
      ...ping,
      repository: { ...(ping?.repository as object), full_name: 'acme/checkout' },
    }
    const r = await deliver(payload, { event: 'ping' })
    expect(r.status).toBe(200)
    expect(r.json).toEqual({ pong: true, repository: 'acme/checkout' })
  })

  it('a push that adds a capability to score.yaml on main results in bindings for prod', async () => {
    const before = repo.head()
    added = repo
      .write('score.yaml', SCORE('  orders-db: { type: postgres }\n'))
      .commit('add orders-db')
    const delivery = randomUUID()
    const r = await deliver(
      repo.pushPayload({ before, after: added, repository: 'acme/checkout' }),
      { delivery },
    )
    expect(r.status).toBe(202)
    expect(r.json).toMatchObject({
      delivery,
      repository: 'acme/checkout',
      result: 'processed',
      branch: 'main',
      environment: 'prod',
      manifest: 'score.yaml',
      request: { source: 'https://github.com/acme/checkout', id: `gh-${delivery}` },
      requested: {
        status: 'resolved',
        duplicate: false,
        capabilities: [{ name: 'orders-db', status: 'ready' }],
      },
      released: [],
    })
    expect(readFileSync(join(binding('prod', 'checkout', 'orders-db'), 'host'), 'utf8')).toBe(
      'db.internal',
    )
    const listed = (await (
      await fetch(`${broker.url}/apps/checkout/environments/prod/bindings`)
    ).json()) as { bindings: { name: string }[] }
    expect(listed.bindings.map((b) => b.name)).toEqual(['orders-db'])
    const resolved = broker.events().find((e) => e.type === EventTypes.resolved)
    expect(resolved?.data).toMatchObject({
      app: 'checkout',
      environment: 'prod',
      request: { source: 'https://github.com/acme/checkout' },
    })

    // A redelivery (same X-GitHub-Delivery) is the same request: recorded outcome, nothing new.
    const count = broker.events().length
    const again = await deliver(
      repo.pushPayload({ before, after: added, repository: 'acme/checkout' }),
      { delivery },
    )
    expect(again.json).toMatchObject({ requested: { status: 'resolved', duplicate: true } })
    expect(broker.events()).toHaveLength(count)
  })

  it('a push that changes only the README does nothing', async () => {
    const count = broker.events().length
    const after = repo.write('README.md', '# checkout\n\nmore\n').commit('docs')
    const r = await deliver(repo.pushPayload({ before: added, after, repository: 'acme/checkout' }))
    expect(r.status).toBe(202)
    expect(r.json).toMatchObject({
      result: 'ignored',
      reason: expect.stringMatching(/no commit of the push changed score.yaml/),
    })
    expect(broker.events()).toHaveLength(count)
    added = after
  })

  it('a push that removes it releases it', async () => {
    const before = added
    const after = repo
      .write('score.yaml', SCORE('  cache-db: { type: postgres }\n'))
      .commit('drop orders-db')
    const r = await deliver(repo.pushPayload({ before, after, repository: 'acme/checkout' }))
    expect(r.status).toBe(202)
    expect(r.json).toMatchObject({ released: ['orders-db'], requested: { status: 'resolved' } })
    expect(existsSync(binding('prod', 'checkout', 'orders-db'))).toBe(false)
    expect(existsSync(binding('prod', 'checkout', 'cache-db'))).toBe(true)
    const released = broker.events().filter((e) => e.type === EventTypes.released)
    expect(released.map((e) => e.data)).toEqual([
      {
        app: 'checkout',
        environment: 'prod',
        name: 'orders-db',
        type: 'postgres',
        reason: `removed from score.yaml in ${after.slice(0, 7)}`,
      },
    ])
    added = after
  })

  it('a feature branch resolves for dev, and deleting the branch releases everything of dev', async () => {
    repo.git('checkout', '--quiet', '-b', 'feature/login')
    const after = repo
      .write('score.yaml', SCORE('  login-db: { type: postgres }\n'))
      .commit('login db')
    const created = await deliver(
      repo.pushPayload({
        before: ZERO,
        after,
        branch: 'feature/login',
        repository: 'acme/checkout',
      }),
    )
    expect(created.json).toMatchObject({ environment: 'dev', requested: { status: 'resolved' } })
    expect(existsSync(binding('dev', 'checkout', 'login-db'))).toBe(true)
    const deleted = await deliver(
      repo.pushPayload({
        before: after,
        after,
        branch: 'feature/login',
        repository: 'acme/checkout',
        deleted: true,
      }),
    )
    expect(deleted.json).toMatchObject({ environment: 'dev', released: ['login-db'] })
    expect(existsSync(binding('dev', 'checkout', 'login-db'))).toBe(false)
    repo.git('checkout', '--quiet', 'main')
  })

  it('an invalid manifest is a 422 naming the problem, and nothing is emitted', async () => {
    const count = broker.events().length
    const before = repo.head()
    const after = repo
      .write(
        'score.yaml',
        'apiVersion: score.dev/v1b1\nmetadata: { name: x }\nresources:\n  Bad Name: { type: postgres }\n',
      )
      .commit('broken')
    const r = await deliver(repo.pushPayload({ before, after, repository: 'acme/checkout' }))
    expect(r.status).toBe(422)
    expect(r.type).toBe('application/problem+json')
    expect(r.json.detail).toMatch(/score.yaml is not a valid manifest: .*resource name must match/)
    expect(broker.events()).toHaveLength(count)
    expect(existsSync(binding('prod', 'checkout', 'cache-db'))).toBe(true)
  })
})

describe('deliveries that are refused, with nothing emitted', () => {
  const payload = () =>
    repo.pushPayload({ before: ZERO, after: repo.head(), repository: 'acme/checkout' })

  it.each([
    ['an unsigned delivery', { signature: null }, 401, /not signed/],
    ['a signature with the wrong secret', { secret: 'not-the-secret' }, 403, /does not match/],
    ['a malformed signature', { signature: 'sha256=xyz' }, 401, /sha256= and 64 hex digits/],
    [
      'a form-encoded delivery',
      { type: 'application/x-www-form-urlencoded' },
      415,
      /application\/json/,
    ],
    ['a push without a delivery id', { delivery: '' }, 400, /X-GitHub-Delivery/],
  ])('%s → %i', async (_what, options, status, detail) => {
    const count = broker.events().length
    const r = await deliver(payload(), options)
    expect(r.status).toBe(status)
    expect(r.type).toBe('application/problem+json')
    expect(String(r.json.detail)).toMatch(detail)
    expect(broker.events()).toHaveLength(count)
  })

  it('a tampered body (signed, then changed) → 403', async () => {
    const count = broker.events().length
    const original = payload()
    const signature = await sign(WEBHOOK_SECRET, JSON.stringify(original))
    const tampered = JSON.stringify({ ...original, ref: 'refs/heads/feature/evil' })
    const r = await deliver(original, { signature, body: tampered })
    expect(r.status).toBe(403)
    expect(broker.events()).toHaveLength(count)
  })

  it('an unknown repository → 404 without listing the configured ones', async () => {
    const other = {
      ...payload(),
      repository: { full_name: 'evil/repo', html_url: 'https://github.com/evil/repo' },
    }
    const r = await deliver(other)
    expect(r.status).toBe(404)
    expect(r.json.detail).toBe('repository evil/repo is not configured in git.repos')
  })

  it('malformed JSON, or a push without the fields the broker reads → 400', async () => {
    const broken = await deliver(
      {},
      { body: '{"repository": ', signature: 'sha256='.padEnd(71, '0') },
    )
    expect(broken.status).toBe(400)
    const { after: _after, ...partial } = payload()
    const r = await deliver(partial)
    expect(r.status).toBe(400)
    expect(r.json.errors).toEqual([{ path: 'after', message: 'is required' }])
  })
})

describe('a GitHub repository read through the contents API (@octokit/rest)', () => {
  it('resolves the manifest GitHub serves at the pushed commit, with the token from its store', async () => {
    const ledger = new GitRepo(join(broker.dir, 'ledger'))
    const before = ledger.write('README.md', 'ledger\n').commit('initial')
    const manifest = 'capabilities:\n  - { name: ledger-db, type: postgres }\n'
    const after = ledger.write('capbroker/capabilities.yaml', manifest).commit('declare')
    api.put('acme/ledger', after, 'capbroker/capabilities.yaml', manifest)
    const r = await deliver(ledger.pushPayload({ before, after, repository: 'acme/ledger' }), {
      secret: LEDGER_SECRET,
    })
    expect(r.status).toBe(202)
    expect(r.json).toMatchObject({
      manifest: 'capbroker/capabilities.yaml',
      requested: { status: 'resolved' },
    })
    expect(existsSync(binding('prod', 'ledger', 'ledger-db'))).toBe(true)
    // score.yaml first (absent: 404), then capbroker/capabilities.yaml, at both commits.
    expect(api.requests.map((q) => `${q.path}@${q.ref?.slice(0, 7)}`).sort()).toEqual(
      [
        `capbroker/capabilities.yaml@${after.slice(0, 7)}`,
        `capbroker/capabilities.yaml@${before.slice(0, 7)}`,
        `score.yaml@${after.slice(0, 7)}`,
        `score.yaml@${before.slice(0, 7)}`,
      ].sort(),
    )
    for (const q of api.requests) expect(q.headers.authorization).toBe(`token ${API_TOKEN}`)
  })

  it('the API refusing the token is a 502 with nothing emitted, and says nothing of the token', async () => {
    const count = broker.events().length
    api.canned = { status: 401, body: { message: 'Bad credentials' } }
    const ledger = new GitRepo(join(broker.dir, 'ledger2'))
    const after = ledger.write('score.yaml', SCORE('  x: { type: postgres }\n')).commit('x')
    const r = await deliver(
      ledger.pushPayload({ before: ZERO, after, repository: 'acme/ledger' }),
      { secret: LEDGER_SECRET },
    )
    api.canned = undefined
    expect(r.status).toBe(502)
    expect(broker.events()).toHaveLength(count)
    expect(broker.logs.join('\n')).toMatch(/GitHub refused the token \(401\)/)
  })
})

describe('capbroker serve routes the trigger paths', () => {
  it('a signed ping answers, an unsigned push is a 401, Slack without chatops is a 404', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'capbroker-serve-'))
    const server = await (async () => {
      writeFileSync(
        join(cwd, 'capbroker.yaml'),
        'version: 1\nstores: { local: { adapter: local } }\nenvironments: { prod: { inject: { to: service-binding, root: b }, branches: [main] } }\nclasses: []\ngit: { repos: { acme/checkout: { app: checkout, webhookSecret: { store: local, key: gh/webhook } } } }\n',
      )
      expect(
        (await runCli(['secrets', 'put', 'gh/webhook'], { cwd, input: WEBHOOK_SECRET })).code,
      ).toBe(0)
      return startServer({ cwd })
    })()
    try {
      const payload = JSON.stringify({
        zen: 'Keep it logically awesome.',
        repository: { full_name: 'acme/checkout' },
      })
      const post = (path: string, headers: Record<string, string>) =>
        fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: payload,
        })
      const ping = await post('/webhooks/github', {
        'x-github-event': 'ping',
        'x-hub-signature-256': await sign(WEBHOOK_SECRET, payload),
      })
      expect(ping.status).toBe(200)
      expect((await post('/webhooks/github', { 'x-github-event': 'push' })).status).toBe(401)
      expect((await post('/chatops/slack', {})).status).toBe(404)
    } finally {
      await server.stop()
      expect(server.output().stdout + server.output().stderr).not.toContain(WEBHOOK_SECRET)
      rmSync(cwd, { recursive: true, force: true })
    }
  })
})

describe('secrets', () => {
  it('no webhook secret, token or value appears in an answer, a log line or an event', () => {
    const transcript = broker.transcript()
    expect(transcript.length).toBeGreaterThan(1000)
    for (const canary of CANARIES) expect(transcript).not.toContain(canary)
  })

  it('nor in the state the broker keeps', () => {
    const home = join(broker.dir, 'home')
    const files = ['state.db', 'state.db-wal'].filter((f) => existsSync(join(home, f)))
    expect(files).toContain('state.db')
    for (const file of files) {
      const bytes = readFileSync(join(home, file)).toString('latin1')
      for (const canary of CANARIES) expect(bytes).not.toContain(canary)
    }
  })
})
