/**
 * Refresh across processes and sinks: two runtimes on one home (the CLI and a server),
 * the bundle sink (new version only when a value changed), a schedule's due window,
 * pinned classes, and the audit log of it all.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseCatalog } from '../../../broker/catalog/load.ts'
import { isWritable, type WritableSecretStore } from '../../../broker/ports.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { buildEvent, EventTypes, type RequestedData } from '../../../events/index.ts'
import { createEmbeddedRuntime, type EmbeddedRuntime } from '../../../server/runtime.ts'

const CATALOG = `
version: 1
stores:
  local: { adapter: local }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
  staging:
    inject: { to: store, store: local, name: "bundles/{app}/{environment}" }
classes:
  - type: secret
    class: pinned
    store: local
    key: "apps/{app}/{params.key}"
    version: "1"
  - type: secret
    store: local
    key: "apps/{app}/{params.key}"
    refreshInterval: 10m
  - type: token
    store: local
    key: "tokens/{app}"
    refreshInterval: 0
policies:
  - apps: [checkout]
    environments: ["*"]
    types: [secret, token]
    keys: ["apps/checkout/*", "tokens/checkout"]
`

let dir: string
let runtimes: EmbeddedRuntime[]
let store: WritableSecretStore
let n = 0

function open(): EmbeddedRuntime {
  const runtime = createEmbeddedRuntime({
    catalog: parseCatalog(CATALOG, 'capbroker.yaml'),
    home: join(dir, 'home'),
    cwd: dir,
  })
  runtimes.push(runtime)
  return runtime
}

function request(
  environment: string,
  capabilities: RequestedData['capabilities'],
): ReturnType<typeof buildEvent<typeof EventTypes.requested>> {
  return buildEvent(
    EventTypes.requested,
    { id: `req-${++n}`, source: '/apps/checkout', time: new Date().toISOString() },
    { app: 'checkout', environment, capabilities },
  )
}

async function bundle(runtime: EmbeddedRuntime) {
  const [outcome] = await (await runtime.stores.get('local')).read([
    { key: 'bundles/checkout/staging' },
  ])
  if (!outcome?.ok) throw new Error('no bundle')
  return { version: outcome.version, value: JSON.parse(outcome.value.reveal()) }
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-refresh-'))
  runtimes = []
  const s = await open().stores.get('local')
  if (!isWritable(s)) throw new Error('writable')
  store = s
  await store.write('apps/checkout/stripe', new SecretValue('sk-1'))
  await store.write('tokens/checkout', new SecretValue('tok-1'))
})
afterEach(async () => {
  for (const runtime of runtimes) await runtime.close()
  rmSync(dir, { recursive: true, force: true })
})

const stripe = { name: 'stripe', type: 'secret', params: { key: 'stripe' } }

describe('across processes', () => {
  it("a request after another process's rotation injects the new value, not a cached old one", async () => {
    const server = runtimes[0] as EmbeddedRuntime
    await server.broker.handle(request('staging', [stripe]))
    // The server now caches sk-1 for five minutes. The CLI rotates it in its own process.
    const cli = open()
    const cliStore = await cli.stores.get('local')
    if (!isWritable(cliStore)) throw new Error('writable')
    await cliStore.write('apps/checkout/stripe', new SecretValue('sk-2'))
    const refreshed = await cli.broker.refresh({
      select: { kind: 'sources', sources: [{ store: 'local', key: 'apps/checkout/stripe' }] },
      trigger: { source: '/cli/test', id: '1' },
    })
    expect(refreshed.bindings.map((b) => b.result)).toEqual(['rotated'])
    expect((await bundle(server)).value.stripe.value).toBe('sk-2')
    // The app asks the server again: it must not put sk-1 back.
    const again = await server.broker.handle(request('staging', [stripe]))
    expect(again.status).toBe('resolved')
    expect((await bundle(server)).value.stripe.value).toBe('sk-2')
    expect(again.capabilities[0]?.version).toBe('2')
  })
})

describe('the bundle sink', () => {
  it('a new bundle version only when a value changed', async () => {
    const runtime = runtimes[0] as EmbeddedRuntime
    await runtime.broker.handle(request('staging', [stripe, { name: 'token', type: 'token' }]))
    const first = await bundle(runtime)
    const unchanged = await runtime.broker.refresh({
      select: { kind: 'all' },
      trigger: { source: '/t', id: '1' },
    })
    expect(unchanged.events).toEqual([])
    expect((await bundle(runtime)).version).toBe(first.version)

    await store.write('apps/checkout/stripe', new SecretValue('sk-2'))
    const rotated = await runtime.broker.refresh({
      select: { kind: 'all' },
      trigger: { source: '/t', id: '2' },
    })
    const after = await bundle(runtime)
    expect(Number(after.version)).toBe(Number(first.version) + 1)
    expect(after.value.stripe.value).toBe('sk-2')
    expect(after.value.token.value).toBe('tok-1')
    const injected = rotated.events.find((e) => e.type === EventTypes.injected)
    expect(injected?.data).toMatchObject({
      sink: 'store',
      location: 'bundles/checkout/staging',
      version: after.version,
    })
  })
})

describe('which bindings a refresh looks at', () => {
  it('a schedule re-reads a class when its interval comes due, and never one with interval 0', async () => {
    const runtime = runtimes[0] as EmbeddedRuntime
    await runtime.broker.handle(request('dev', [stripe, { name: 'token', type: 'token' }]))
    await store.write('apps/checkout/stripe', new SecretValue('sk-2'))
    await store.write('tokens/checkout', new SecretValue('tok-2'))
    const at = (iso: string) => new Date(iso)
    const quiet = await runtime.broker.refresh({
      select: { kind: 'due', from: at('2030-01-01T10:01:00Z'), to: at('2030-01-01T10:02:00Z') },
      trigger: { source: '/t', id: 'quiet' },
    })
    expect(quiet.bindings).toEqual([])
    const due = await runtime.broker.refresh({
      select: { kind: 'due', from: at('2030-01-01T10:09:00Z'), to: at('2030-01-01T10:10:00Z') },
      trigger: { source: '/t', id: 'due' },
    })
    expect(due.bindings.map((b) => [b.name, b.result])).toEqual([['stripe', 'rotated']])
    // Interval 0: only an explicit refresh or a change event re-reads it.
    const all = await runtime.broker.refresh({
      select: { kind: 'all' },
      trigger: { source: '/t', id: 'all' },
    })
    expect(all.bindings.find((b) => b.name === 'token')?.result).toBe('rotated')
  })

  it('a class that pins a version is not re-read', async () => {
    const runtime = runtimes[0] as EmbeddedRuntime
    await runtime.broker.handle(request('dev', [{ ...stripe, class: 'pinned' }]))
    await store.write('apps/checkout/stripe', new SecretValue('sk-2'))
    const result = await runtime.broker.refresh({
      select: { kind: 'all' },
      trigger: { source: '/t', id: '1' },
    })
    expect(result.bindings.map((b) => [b.name, b.result, b.version])).toEqual([
      ['stripe', 'pinned', '1'],
    ])
    expect(result.events).toEqual([])
  })
})

describe('the audit log', () => {
  it('lists requested, resolved, injected, rotated, stale and released, each with its trigger', async () => {
    const runtime = runtimes[0] as EmbeddedRuntime
    const event = request('dev', [stripe])
    await runtime.broker.handle(event)
    await store.write('apps/checkout/stripe', new SecretValue('sk-2'))
    await runtime.broker.refresh({
      select: { kind: 'all' },
      trigger: { source: '/cli/alice', id: 'r1' },
    })
    await store.delete('apps/checkout/stripe')
    await runtime.broker.refresh({
      select: { kind: 'all' },
      trigger: { source: '/cli/alice', id: 'r2' },
    })
    await runtime.broker.release({
      app: 'checkout',
      environment: 'dev',
      names: ['stripe'],
      reason: 'test release',
      request: { source: '/cli/bob', id: 'x1' },
    })
    const entries = await runtime.state.listAudit({ app: 'checkout', environment: 'dev' })
    expect(entries.map((e) => [e.kind, e.names, `${e.trigger.source} ${e.trigger.id}`])).toEqual([
      ['requested', ['stripe'], `/apps/checkout ${event.id}`],
      ['resolved', ['stripe'], `/apps/checkout ${event.id}`],
      ['injected', ['stripe'], `/apps/checkout ${event.id}`],
      ['rotated', ['stripe'], '/cli/alice r1'],
      ['injected', ['stripe'], '/cli/alice r1'],
      ['stale', ['stripe'], '/cli/alice r2'],
      ['released', ['stripe'], '/cli/bob x1'],
    ])
    expect(entries.find((e) => e.kind === 'rotated')?.detail).toBe(
      'local apps/checkout/stripe: version 1 → 2',
    )
    expect(entries.find((e) => e.kind === 'released')?.detail).toBe('test release')
    expect(JSON.stringify(entries)).not.toMatch(/sk-[12]/)
    expect(
      await runtime.state.listAudit({ app: 'checkout', environment: 'dev' }, { limit: 2 }),
    ).toEqual(entries.slice(-2))
  })
})
