/**
 * Leak canaries: one run of a real `capbroker serve` (a child process, logging at
 * debug level) with a distinct canary value in every secret, driven down every path —
 * success, a partial failure, a policy denial, an error inside an adapter (an AWS store
 * whose peer answers errors quoting a canary), an invalid JSON secret, a bundle sink, a
 * git push webhook, a Slack command and its posted reply, a param value refused by a
 * template, `/healthz` and the bindings listing. Then everything the broker said or
 * wrote is scanned — stdout, stderr, every HTTP answer, every chat post, and every file
 * under the working directory and home (the state database and its WAL, which hold the
 * recorded outcome events) — and a canary may appear only in the binding files it was
 * injected into. The bundle secret is sealed in the local store, so no plaintext of it
 * appears on disk at all.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { sign } from '@octokit/webhooks-methods'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalSecretStore } from '../../../adapters/local/index.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { EventTypes } from '../../../events/index.ts'
import { type RunningServer, startServer } from '../../support/cli.ts'
import { GitRepo } from '../../unit/adapters/local-git/git-repo.ts'
import { ResponseUrlReceiver } from '../../unit/adapters/slack/receiver.ts'

const tag = randomUUID().slice(0, 8)
/** Injected somewhere: allowed in binding files only. */
const INJECTED = {
  pg: `canary-pg-${tag}`,
  stripe: `canary-stripe-${tag}`,
  partial: `canary-partial-${tag}`,
  remote: `canary-remote-${tag}`,
  bundled: `canary-bundled-${tag}`,
}
/** Never injected: allowed nowhere in plaintext. */
const NEVER = {
  denied: `canary-denied-${tag}`,
  badJson: `canary-badjson-${tag}`,
  adapter: `canary-adapter-${tag}`,
  param: `canary-param-${tag}`,
  webhook: `canary-webhook-${tag}`,
  signing: `canary-signing-${tag}`,
}
const TEAM = 'TLEAK0001'

let dir: string
let home: string
let server: RunningServer
let receiver: ResponseUrlReceiver
let aws: Server
let repo: GitRepo
const answers: string[] = []
let output: { stdout: string; stderr: string }

/** A stand-in for Secrets Manager whose every failure quotes a canary, as a real one might. */
function startFakeSecretsManager(): Promise<Server> {
  const peer = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const target = String(req.headers['x-amz-target'] ?? '')
    const send = (status: number, payload: unknown, type?: string) => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        ...(type ? { 'x-amzn-errortype': type } : {}),
      })
      res.end(JSON.stringify(payload))
    }
    const error = (status: number, type: string) =>
      send(status, { __type: type, message: `refused ${NEVER.adapter}` }, type)
    if (!target.endsWith('.BatchGetSecretValue')) return error(500, 'InternalServiceError')
    const ids = (JSON.parse(body) as { SecretIdList: string[] }).SecretIdList
    if (ids.some((id) => id.endsWith('/boom'))) return error(400, 'InvalidRequestException')
    send(200, {
      SecretValues: ids
        .filter((id) => id.endsWith('/ok'))
        .map((id) => ({
          Name: id,
          ARN: `arn:aws:secretsmanager:eu-west-1:1:secret:${id}`,
          VersionId: 'v1',
          SecretString: INJECTED.remote,
        })),
      Errors: ids
        .filter((id) => !id.endsWith('/ok'))
        .map((id) => ({
          SecretId: id,
          ErrorCode: 'DecryptionFailure',
          Message: `cannot decrypt ${NEVER.adapter}`,
        })),
    })
  })
  return new Promise((resolve) => peer.listen(0, '127.0.0.1', () => resolve(peer)))
}

const catalog = (awsUrl: string) => `
version: 1
stores:
  local: { adapter: local }
  remote: { adapter: aws-secrets-manager, region: eu-west-1, endpoint: "${awsUrl}", timeout: 500ms }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
    branches: [main]
  bundled:
    inject: { to: store, store: local, name: "bundles/{app}/{environment}" }
classes:
  - type: postgres
    store: local
    key: "postgres/{app}"
    outputs: { host: host, password: password }
    secret: [password]
  - type: strict
    store: local
    key: "strict/{app}/{params.key}"
    outputs: { password: password }
  - type: secret
    store: local
    key: "apps/{app}/{params.key}"
  - type: remote
    store: remote
    key: "remote/{app}/{params.key}"
policies:
  - apps: [checkout]
    environments: ["*"]
    types: [postgres, strict, secret, remote]
    keys: ["postgres/checkout", "strict/checkout/*", "apps/checkout/*", "remote/checkout/*"]
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
    users: { ULEAK0001: [checkout] }
    environments: [dev]
    responseUrls: ["${receiver.url}/hooks/"]
`

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-leak-'))
  home = join(dir, 'home')
  receiver = await new ResponseUrlReceiver().start()
  aws = await startFakeSecretsManager()
  writeFileSync(
    join(dir, 'capbroker.yaml'),
    catalog(`http://127.0.0.1:${(aws.address() as AddressInfo).port}`),
  )
  const store = new LocalSecretStore({ home })
  const seed: Record<string, string> = {
    'postgres/checkout': JSON.stringify({ host: 'db.internal', password: INJECTED.pg }),
    'apps/checkout/stripe': INJECTED.stripe,
    'apps/checkout/partial': INJECTED.partial,
    'apps/checkout/bundled': INJECTED.bundled,
    'apps/billing/stripe': NEVER.denied,
    // Truncated JSON holding a canary: INVALID_SECRET, and the parser's message must not leak it.
    'strict/checkout/broken': `{"password": "${NEVER.badJson}`,
    'github/webhook': NEVER.webhook,
    'slack/signing': NEVER.signing,
  }
  for (const [key, value] of Object.entries(seed)) await store.write(key, new SecretValue(value))
  store.close()
  repo = new GitRepo(join(dir, 'repo'))
  repo.write('README.md', '# checkout\n').commit('initial')
  server = await startServer({
    cwd: dir,
    env: {
      CAPBROKER_HOME: home,
      CAPBROKER_LOG_LEVEL: 'debug',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'eu-west-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
  })
}, 30_000)

afterAll(async () => {
  if (server?.child.exitCode === null) await server.stop()
  await receiver?.stop()
  await new Promise((resolve) => aws?.close(resolve))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${server.url}${path}`, init)
  const text = await response.text()
  answers.push(text)
  return { status: response.status, text, json: JSON.parse(text) as Record<string, unknown> }
}

let n = 0
const request = (environment: string, capabilities: unknown[]) =>
  call('/events?wait=true', {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({
      specversion: '1.0',
      id: `leak-${++n}`,
      source: '/apps/checkout',
      type: EventTypes.requested,
      data: { app: 'checkout', environment, capabilities },
    }),
  })
const statuses = (r: { json: Record<string, unknown> }) =>
  (r.json.capabilities as { name: string; status: string; reason?: { code: string } }[]).map(
    (c) => `${c.name}:${c.status}${c.reason ? `:${c.reason.code}` : ''}`,
  )

/** Every file under `root` whose bytes contain `needle`, relative to the working directory. */
function filesContaining(root: string, needle: string): string[] {
  const found: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name)
      const stat = statSync(path, { throwIfNoEntry: false })
      if (stat?.isDirectory()) walk(path)
      else if (stat?.isFile() && readFileSync(path).includes(needle))
        found.push(relative(dir, path))
    }
  }
  walk(root)
  return found
}

describe('every path, with canaries', () => {
  it('success: resolved, the values in the binding files', async () => {
    const r = await request('dev', [
      { name: 'db', type: 'postgres' },
      { name: 'stripe', type: 'secret', params: { key: 'stripe' } },
    ])
    expect(r.json.status).toBe('resolved')
    expect(readFileSync(join(dir, 'bindings/checkout/dev/db/password'), 'utf8')).toBe(INJECTED.pg)
  })

  it('a partial failure: the ready one injected, the missing one NOT_FOUND', async () => {
    const r = await request('dev', [
      { name: 'partial', type: 'secret', params: { key: 'partial' } },
      { name: 'missing', type: 'secret', params: { key: 'missing' } },
    ])
    expect(statuses(r)).toEqual(['partial:ready', 'missing:failed:NOT_FOUND'])
  })

  it('denied: a key outside the policy, never read', async () => {
    const r = await request('dev', [
      { name: 'theirs', type: 'secret', params: { key: 'stripe' } },
      { name: 'db', type: 'postgres' },
    ])
    expect(r.json.status).toBe('resolved')
    const denied = await call('/events?wait=true', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: `leak-${++n}`,
        source: '/apps/billing',
        type: EventTypes.requested,
        data: {
          app: 'billing',
          environment: 'dev',
          capabilities: [{ name: 's', type: 'secret', params: { key: 'stripe' } }],
        },
      }),
    })
    expect(statuses(denied)).toEqual(['s:denied:DENIED'])
  })

  it('an error inside an adapter: its peer quotes a canary, the outcome does not', async () => {
    const r = await request('dev', [
      { name: 'ok', type: 'remote', params: { key: 'ok' } },
      { name: 'entry', type: 'remote', params: { key: 'entry' } },
    ])
    expect(statuses(r)).toEqual(['ok:ready', 'entry:failed:ACCESS_DENIED'])
    const boom = await request('dev', [{ name: 'boom', type: 'remote', params: { key: 'boom' } }])
    expect(statuses(boom)).toEqual(['boom:failed:INTERNAL'])
  })

  it('an invalid JSON secret: INVALID_SECRET, the value not quoted', async () => {
    const r = await request('dev', [{ name: 'strict', type: 'strict', params: { key: 'broken' } }])
    expect(statuses(r)).toEqual(['strict:failed:INVALID_SECRET'])
  })

  it('a param value a template refuses: INVALID_PARAMS, the value not quoted', async () => {
    const r = await request('dev', [
      { name: 'p', type: 'secret', params: { key: `${NEVER.param}/../x` } },
    ])
    expect(statuses(r)).toEqual(['p:failed:INVALID_PARAMS'])
  })

  it('a bundle secret: resolved into the local store, sealed', async () => {
    const r = await request('bundled', [
      { name: 'bundled', type: 'secret', params: { key: 'bundled' } },
    ])
    expect(r.json.status).toBe('resolved')
  })

  it('a git push webhook resolves the pushed manifest', async () => {
    const before = repo.head()
    repo.write('score.yaml', 'capabilities:\n  - { name: pushed, type: postgres }\n')
    const after = repo.commit('manifest')
    const body = JSON.stringify(repo.pushPayload({ before, after, repository: 'acme/checkout' }))
    const r = await call('/webhooks/github', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': await sign(NEVER.webhook, body),
      },
      body,
    })
    expect([r.status, (r.json.requested as { status: string }).status]).toEqual([202, 'resolved'])
  })

  it('a Slack command is acknowledged and its outcome posted', async () => {
    const body = new URLSearchParams({
      team_id: TEAM,
      user_id: 'ULEAK0001',
      command: '/capability',
      text: 'request chat secret key=stripe',
      response_url: `${receiver.url}/hooks/${randomUUID()}`,
    }).toString()
    const timestamp = String(Math.floor(Date.now() / 1000))
    const digest = createHmac('sha256', NEVER.signing)
      .update(`v0:${timestamp}:${body}`)
      .digest('hex')
    const r = await call('/chatops/slack', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': `v0=${digest}`,
      },
      body,
    })
    expect(r.status).toBe(200)
    const [post] = await receiver.waitFor(1)
    expect(post?.body).toMatch(/resolved — 1 ready/)
  })

  it('the read endpoints', async () => {
    const bindings = await call('/apps/checkout/environments/dev/bindings')
    expect((bindings.json.bindings as unknown[]).length).toBeGreaterThan(3)
    const health = await call('/healthz')
    expect((health.json.stores as Record<string, { status: string }>).remote?.status).toBe(
      'unavailable',
    )
  })
})

describe('after the run', () => {
  beforeAll(async () => {
    expect(await server.stop()).toBe(0)
    output = server.output()
  })

  it('logged at debug level (so the scan below saw the chatty logs)', () => {
    const levels = new Set(
      output.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).level),
    )
    expect(levels).toContain('debug')
    expect(output.stdout).toContain('"msg":"read failed"')
  })

  it.each(Object.entries(NEVER))('%s: the canary appears nowhere', (_name, canary) => {
    expect(output.stdout).not.toContain(canary)
    expect(output.stderr).not.toContain(canary)
    expect(answers.join('\n')).not.toContain(canary)
    expect(receiver.posted.map((p) => p.body).join('\n')).not.toContain(canary)
    expect(filesContaining(dir, canary)).toEqual([])
  })

  it.each(Object.entries(INJECTED))(
    '%s: the canary appears only in its binding files',
    (_name, canary) => {
      expect(output.stdout).not.toContain(canary)
      expect(output.stderr).not.toContain(canary)
      expect(answers.join('\n')).not.toContain(canary)
      expect(receiver.posted.map((p) => p.body).join('\n')).not.toContain(canary)
      const files = filesContaining(dir, canary)
      for (const file of files)
        expect(file).toMatch(/^bindings\/checkout\/(dev|\.capbroker-data\/dev)\//)
      // The bundle is sealed in the local store: no plaintext copy anywhere.
      if (canary === INJECTED.bundled) expect(files).toEqual([])
      else expect(files.length).toBeGreaterThan(0)
    },
  )
})
