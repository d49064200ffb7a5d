/**
 * Bad input against a real `capbroker serve`, through every door it has: `POST /events`
 * (oversized requests, deep nesting, `__proto__` keys, hostile names, non-UTF-8 bytes,
 * bodies over the limit with and without a length, a half-sent body), the GitHub webhook
 * (a signed push whose manifest is an alias bomb, 10 000 capabilities, or not a list of
 * mappings) and the Slack command (parameters the request contract refuses). Each gets
 * a clear 4xx (or, for Slack, a usage answer) quickly — never a 500 — and afterwards the
 * same server still answers `/healthz` and resolves a valid request.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sign } from '@octokit/webhooks-methods'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalSecretStore } from '../../../adapters/local/index.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { EventTypes } from '../../../events/index.ts'
import { type RunningServer, startServer } from '../../support/cli.ts'
import { GitRepo } from '../../unit/adapters/local-git/git-repo.ts'

const WEBHOOK_SECRET = 'bad-input-webhook'
const SIGNING_SECRET = 'bad-input-signing'
const TEAM = 'TBAD00001'

let dir: string
let server: RunningServer
let repo: GitRepo

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-bad-input-'))
  writeFileSync(
    join(dir, 'capbroker.yaml'),
    `
version: 1
stores:
  local: { adapter: local }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
    branches: [main]
classes:
  - type: secret
    store: local
    key: "apps/{app}/{params.key}"
policies:
  - apps: [checkout]
    environments: [dev]
    types: [secret]
    keys: ["apps/checkout/*"]
git:
  repos:
    acme/checkout:
      app: checkout
      source: local-git
      clone: ${join(dir, 'repo')}
      webhookSecret: { store: local, key: github/webhook }
chatops:
  slack:
    teams: [${TEAM}]
    signingSecret: { store: local, key: slack/signing }
    users: { UBAD00001: [checkout] }
    environments: [dev]
    responseUrls: ["http://127.0.0.1:9/hooks/"]
`,
  )
  const store = new LocalSecretStore({ home: join(dir, 'home') })
  await store.write('apps/checkout/stripe', new SecretValue('sk_test_bad_input'))
  await store.write('github/webhook', new SecretValue(WEBHOOK_SECRET))
  await store.write('slack/signing', new SecretValue(SIGNING_SECRET))
  store.close()
  repo = new GitRepo(join(dir, 'repo'))
  repo.write('README.md', '# checkout\n').commit('initial')
  server = await startServer({ cwd: dir, env: { CAPBROKER_HOME: join(dir, 'home') } })
}, 30_000)

afterAll(async () => {
  await server?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

interface Answer {
  readonly status: number
  readonly text: string
  readonly json: Record<string, unknown>
  readonly ms: number
}

async function send(
  path: string,
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<Answer> {
  const started = performance.now()
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body })
  const text = await response.text()
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {}
  return { status: response.status, text, json, ms: performance.now() - started }
}

const ce = { 'content-type': 'application/cloudevents+json' }
const event = (data: string) =>
  `{"specversion":"1.0","id":"${randomUUID()}","source":"/apps/checkout","type":"${EventTypes.requested}","data":${data}}`
const json = (data: object) => event(JSON.stringify(data))
const dev = { app: 'checkout', environment: 'dev' }
const caps = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `c${i}`, type: 'secret' }))

const EVENTS: readonly [string, string | Buffer, Record<string, string>, number, RegExp][] = [
  [
    '10 000 capabilities',
    json({ ...dev, capabilities: caps(10_000) }),
    ce,
    400,
    /must not have more than 100 items/,
  ],
  [
    '10 000 Score resources',
    json({
      ...dev,
      score: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name: 'a' },
        resources: Object.fromEntries(
          caps(10_000).map((c) => [c.name, { type: 'Bad', params: { x: {} } }]),
        ),
      },
    }),
    ce,
    400,
    /has 10000 resources; at most 100 per request/,
  ],
  [
    'arrays nested 400 000 deep',
    event(`${'['.repeat(400_000)}${']'.repeat(400_000)}`),
    ce,
    400,
    /nests deeper than 32 levels/,
  ],
  [
    '60 000 __proto__ keys',
    event(
      `{"app":"checkout","environment":"dev","capabilities":[${Array(60_000).fill('{"__proto__":1}').join(',')}]}`,
    ),
    ce,
    400,
    /__proto__: is not an allowed property name/,
  ],
  [
    '__proto__ on the envelope',
    `{"__proto__":{"x":1},${event('{}').slice(1)}`,
    ce,
    400,
    /__proto__: is not a valid extension attribute name/,
  ],
  [
    'a capability name with /',
    json({ ...dev, capabilities: [{ name: 'a/b', type: 'secret' }] }),
    ce,
    400,
    /name: must match/,
  ],
  [
    'a capability name ..',
    json({ ...dev, capabilities: [{ name: '..', type: 'secret' }] }),
    ce,
    400,
    /name: must match/,
  ],
  [
    'a capability name with NUL',
    json({ ...dev, capabilities: [{ name: 'a\u0000b', type: 'secret' }] }),
    ce,
    400,
    /name: must match/,
  ],
  [
    'a capability name of 10 000 characters',
    json({ ...dev, capabilities: [{ name: 'n'.repeat(10_000), type: 'secret' }] }),
    ce,
    400,
    /name: must match/,
  ],
  ['non-UTF-8 bytes', Buffer.from([0x7b, 0xc0, 0xaf, 0xff, 0x7d]), ce, 400, /not valid UTF-8/],
  [
    'non-UTF-8 bytes in binary mode',
    Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d]),
    {
      'content-type': 'application/json',
      'ce-id': 'x',
      'ce-source': '/apps/checkout',
      'ce-type': EventTypes.requested,
      'ce-specversion': '1.0',
    },
    400,
    /not valid UTF-8/,
  ],
  [
    'a batch of 101 events',
    `[${Array(101)
      .fill(json({ ...dev, capabilities: [] }))
      .join(',')}]`,
    { 'content-type': 'application/cloudevents-batch+json' },
    413,
    /at most 100 events/,
  ],
  ['a body over 1 MiB', ' '.repeat(1024 * 1024 + 1), ce, 413, /larger than 1048576 bytes/],
]

describe('POST /events', () => {
  it.each(EVENTS)('%s: a clear problem, quickly', async (_what, body, headers, status, detail) => {
    const r = await send('/events?wait=true', body, headers)
    expect(r.status).toBe(status)
    expect(String(r.json.detail)).toMatch(detail)
    expect(r.ms).toBeLessThan(3_000)
    expect(r.text.length).toBeLessThan(20_000)
  })

  it('a body over 1 MiB sent without a length (chunked) is cut off at the limit', async () => {
    const answer = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', 'transfer-encoding': 'chunked' },
      })
      req.on('response', (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      let sent = 0
      const pump = () => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length
          if (!req.write(chunk)) return void req.once('drain', pump)
        }
        req.end()
      }
      pump()
    }).catch(() => 413) // the server may close the socket once it has answered
    expect(answer).toBe(413)
  })

  it('a half-sent body does not hold up other callers', async () => {
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    const declared = 1_000
    const head = '{"spec'
    socket.write(
      `POST /events HTTP/1.1\r\nhost: x\r\ncontent-type: application/cloudevents+json\r\ncontent-length: ${declared}\r\nconnection: close\r\n\r\n${head}`,
    )
    const reply = new Promise<string>((resolve) => {
      let text = ''
      socket.on('data', (d) => (text += d))
      socket.on('close', () => resolve(text))
    })
    const started = performance.now()
    const health = await fetch(`${server.url}/healthz`)
    expect(health.status).toBe(200)
    expect(performance.now() - started).toBeLessThan(1_000)
    // The slow caller finishes (an aborted one: test/emulators/reliability/regressions.test.ts).
    socket.end(' '.repeat(declared - head.length))
    expect(await reply).toMatch(/^HTTP\/1.1 400/)
  })
})

describe('GET paths with hostile segments', () => {
  it.each([
    ['/apps/%ZZ/environments/dev/bindings', 400],
    ['/apps/__proto__/environments/dev/bindings', 400],
    ['/apps/..%2F..%2Fetc/environments/dev/bindings', 400],
    ['/apps/checkout/environments/%00/bindings', 400],
    ['/apps/constructor/environments/toString/bindings', 200],
  ])('%s → %i', async (path, status) => {
    const response = await fetch(`${server.url}${path}`)
    expect(response.status).toBe(status)
    if (status === 200)
      expect(((await response.json()) as { bindings: unknown }).bindings).toEqual([])
  })
})

describe('POST /webhooks/github with hostile manifests', () => {
  async function push(manifest: string) {
    const before = repo.head()
    repo.write('score.yaml', manifest)
    const after = repo.commit(`manifest ${randomUUID()}`)
    const body = JSON.stringify(repo.pushPayload({ before, after, repository: 'acme/checkout' }))
    return send('/webhooks/github', body, {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': await sign(WEBHOOK_SECRET, body),
    })
  }
  const bomb = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...'bcdefgh'
      .split('')
      .map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`),
    'capabilities: [*h]',
  ].join('\n')

  it.each([
    ['an alias bomb', bomb, /resource exhaustion/],
    [
      '10 000 capabilities',
      `capabilities:\n${'  - { name: db, type: secret }\n'.repeat(10_000)}`,
      /at most 100/,
    ],
    ['a list of scalars', 'capabilities: [null, 1, "x"]\n', /capabilities\[0\]: must be a mapping/],
    [
      'flow arrays nested 10 000 deep',
      `capabilities: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
      /not valid YAML/,
    ],
    [
      'a __proto__ param',
      'capabilities:\n  - { name: db, type: secret, params: { __proto__: { x: 1 } } }\n',
      /__proto__/,
    ],
  ])('%s: 422 naming the problem, quickly', async (_what, manifest, detail) => {
    const r = await push(manifest)
    expect(r.status).toBe(422)
    expect(String(r.json.detail)).toMatch(detail)
    expect(r.ms).toBeLessThan(3_000)
  })

  it('non-UTF-8 bytes: 400 before anything else', async () => {
    const body = Buffer.from([0x7b, 0xff, 0x7d])
    const r = await send('/webhooks/github', body, {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
    })
    expect([r.status, r.json.detail]).toEqual([400, 'the body is not valid UTF-8'])
  })
})

describe('POST /chatops/slack with parameters the contract refuses', () => {
  function slash(text: string, bytes?: Buffer) {
    const body =
      bytes ??
      Buffer.from(
        new URLSearchParams({
          team_id: TEAM,
          user_id: 'UBAD00001',
          command: '/capability',
          text,
          response_url: 'http://127.0.0.1:9/hooks/x',
        }).toString(),
      )
    const timestamp = String(Math.floor(Date.now() / 1000))
    const hmac = createHmac('sha256', SIGNING_SECRET).update(`v0:${timestamp}:`).update(body)
    return send('/chatops/slack', body, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': `v0=${hmac.digest('hex')}`,
    })
  }

  it.each([
    [
      'a __proto__ parameter',
      'request db secret __proto__=x',
      /__proto__: is not an allowed property name/,
    ],
    [
      '33 parameters',
      `request db secret ${Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(' ')}`,
      /more than 32 properties/,
    ],
    ['a name with ..', 'request .. secret', /capability name "\.\." must match/],
  ])('%s: 200 with a usage answer', async (_what, text, message) => {
    const r = await slash(text)
    expect(r.status).toBe(200)
    expect(String(r.json.text)).toMatch(message)
  })

  it('signed non-UTF-8 bytes: 400', async () => {
    const r = await slash('', Buffer.from([0x74, 0x65, 0x78, 0x74, 0x3d, 0xff]))
    expect([r.status, r.json.detail]).toEqual([400, 'the body is not valid UTF-8'])
  })
})

describe('afterwards', () => {
  it('the same server still answers, resolves a valid request, and logged no 500', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    const r = await send(
      '/events?wait=true',
      json({
        ...dev,
        capabilities: [{ name: 'stripe', type: 'secret', params: { key: 'stripe' } }],
      }),
      ce,
    )
    expect([r.status, r.json.status]).toEqual([200, 'resolved'])
    expect(server.child.exitCode).toBeNull()
    const { stdout, stderr } = server.output()
    const statuses = stdout
      .split('\n')
      .filter((l) => l.includes('"msg":"http"'))
      .map((l) => JSON.parse(l).status as number)
    expect(
      stdout.split('\n').filter((l) => /"status":5/.test(l) || /"level":"error"/.test(l)),
    ).toEqual([])
    expect(statuses.length).toBeGreaterThan(30)
    expect(statuses.filter((s) => s >= 500)).toEqual([])
    expect(stdout).not.toContain('"level":"error"')
    expect(stderr).not.toMatch(/\n\s+at /) // no stack trace
  })
})
