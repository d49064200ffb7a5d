/**
 * Bindings follow the local store without any request from the app: `capbroker secrets
 * put` refreshes the bindings of its key, `capbroker serve` sweeps on the catalog's
 * `refreshInterval`, and `refresh`, `bindings` and `audit` show what happened.
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LocalSecretStore } from '../../adapters/local/index.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import { type RunningServer, runCli, startServer } from '../support/cli.ts'

const catalog = (interval: string) => `
version: 1
stores:
  local: { adapter: local }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
classes:
  - type: secret
    store: local
    key: "apps/{app}/{params.key}"
    refreshInterval: ${interval}
policies:
  - { apps: [checkout], environments: [dev], types: [secret], keys: ["apps/checkout/*"] }
`
const MANIFEST = 'capabilities:\n  - { name: stripe, type: secret, params: { key: stripe } }\n'

let dir: string
let server: RunningServer | undefined
const env = () => ({
  CAPBROKER_HOME: join(dir, 'home'),
  CAPBROKER_CATALOG: join(dir, 'capbroker.yaml'),
})
const cli = (...args: string[]) => runCli(args, { cwd: dir, env: env() })
const value = () => readFileSync(join(dir, 'bindings/checkout/dev/stripe/value'), 'utf8')
function mtimes(): Map<string, number> {
  const out = new Map<string, number>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const stat = lstatSync(join(d, name))
      out.set(join(d, name), stat.mtimeMs)
      if (stat.isDirectory()) walk(join(d, name))
    }
  }
  walk(join(dir, 'bindings'))
  return out
}
async function until(check: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}
async function post(url: string, id: string) {
  const response = await fetch(`${url}/events?wait=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({
      specversion: '1.0',
      id,
      source: '/apps/checkout',
      type: 'io.capbroker.capability.requested.v1',
      data: {
        app: 'checkout',
        environment: 'dev',
        capabilities: [{ name: 'stripe', type: 'secret', params: { key: 'stripe' } }],
      },
    }),
  })
  return (await response.json()) as { status: string }
}

function setUp(interval: string) {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-lifecycle-cli-'))
  writeFileSync(join(dir, 'capbroker.yaml'), catalog(interval))
  writeFileSync(join(dir, 'manifest.yaml'), MANIFEST)
}
beforeEach(() => setUp('1h'))
afterEach(async () => {
  await server?.stop()
  server = undefined
  rmSync(dir, { recursive: true, force: true })
})

describe('the CLI', () => {
  it('secrets put re-injects the bindings of the key at once and audits it', async () => {
    expect((await cli('secrets', 'put', 'apps/checkout/stripe', '--value', 'sk-1')).code).toBe(0)
    expect(
      (await cli('request', '-f', 'manifest.yaml', '--app', 'checkout', '--env', 'dev')).code,
    ).toBe(0)
    expect(value()).toBe('sk-1')
    const put = await cli('secrets', 'put', 'apps/checkout/stripe', '--value', 'sk-2')
    expect(put.stdout).toBe(
      'stored apps/checkout/stripe (version 2)\n  rotated checkout/dev stripe: version 1 → 2\n',
    )
    expect(value()).toBe('sk-2')
    const audit = await cli('audit', 'checkout', 'dev', '--json')
    const entries = JSON.parse(audit.stdout).entries as {
      kind: string
      trigger: { source: string }
    }[]
    expect(entries.map((e) => e.kind)).toEqual([
      'requested',
      'resolved',
      'injected',
      'rotated',
      'injected',
    ])
    expect(entries[3]?.trigger.source).toMatch(/^\/cli\//)
    expect(audit.stdout).not.toContain('sk-')
    // The same value again: no new version, nothing refreshed.
    const same = await cli('secrets', 'put', 'apps/checkout/stripe', '--value', 'sk-2')
    expect(same.stdout).toBe('unchanged apps/checkout/stripe (version 2)\n')
  })

  it('refresh writes nothing when nothing changed; a deleted key leaves a stale binding', async () => {
    await cli('secrets', 'put', 'apps/checkout/stripe', '--value', 'sk-1')
    await cli('request', '-f', 'manifest.yaml', '--app', 'checkout', '--env', 'dev')
    const before = mtimes()
    const quiet = await cli('refresh')
    expect(quiet.code).toBe(0)
    expect(quiet.stdout).toMatch(/^1 checked: 0 rotated, 1 unchanged, 0 stale, 0 failed/)
    expect(mtimes()).toEqual(before)

    const deleted = await cli('secrets', 'delete', 'apps/checkout/stripe')
    expect(deleted.stdout).toBe(
      'deleted apps/checkout/stripe\n  stale checkout/dev stripe: NOT_FOUND (the old binding stays)\n',
    )
    expect(value()).toBe('sk-1')
    const stale = await cli('refresh', '--app', 'checkout', '--env', 'dev')
    expect(stale.code).toBe(1)
    expect(stale.stdout).toMatch(/stripe\s+stale\s+since \d{4}-/)
    const listed = await cli('bindings', 'checkout', 'dev', '--json')
    expect(JSON.parse(listed.stdout).bindings[0]).toMatchObject({
      status: 'stale',
      staleSince: expect.any(String),
      reason: { code: 'NOT_FOUND' },
    })
    expect((await cli('bindings', 'checkout', 'dev')).stdout).toMatch(/stale since/)
  })
})

describe('capbroker serve', () => {
  it('follows a secret changed behind its back, with no request from the app', async () => {
    rmSync(dir, { recursive: true, force: true })
    setUp('1s')
    await cli('secrets', 'put', 'apps/checkout/stripe', '--value', 'sk-1')
    server = await startServer({ cwd: dir, env: env() })
    const started = server
    await until(() => started.output().stderr.includes('refresh: a sweep every 1s'))
    expect((await post(server.url, 'serve-1')).status).toBe('resolved')
    expect(value()).toBe('sk-1')
    // Written straight into the store: no CLI refresh, no request.
    const store = new LocalSecretStore({ home: join(dir, 'home') })
    await store.write('apps/checkout/stripe', new SecretValue('sk-2'))
    store.close()
    await until(() => value() === 'sk-2')
    const listed = (await (
      await fetch(`${server.url}/apps/checkout/environments/dev/bindings`)
    ).json()) as { bindings: Record<string, unknown>[] }
    expect(listed.bindings[0]).toMatchObject({
      status: 'ready',
      version: '2',
      lastRotatedAt: expect.any(String),
    })
    const audit = JSON.parse((await cli('audit', 'checkout', 'dev', '--json')).stdout).entries as {
      kind: string
      trigger: { source: string }
    }[]
    expect(audit.find((e) => e.kind === 'rotated')?.trigger.source).toBe('/capbroker/schedule')
  })

  it('after secrets put, a request to the running server does not bring back the cached value', async () => {
    await cli('secrets', 'put', 'apps/checkout/stripe', '--value', 'sk-1')
    server = await startServer({ cwd: dir, env: env() })
    expect((await post(server.url, 'cache-1')).status).toBe('resolved')
    const put = await cli('secrets', 'put', 'apps/checkout/stripe', '--value', 'sk-2')
    expect(put.stdout).toContain('rotated checkout/dev stripe')
    expect(value()).toBe('sk-2')
    // The server cached sk-1 for cache.ttl (5 minutes); it must read the source again.
    expect((await post(server.url, 'cache-2')).status).toBe('resolved')
    expect(value()).toBe('sk-2')
  })
})
