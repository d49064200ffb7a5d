/**
 * Memory stays bounded under a store that hangs at the wire: 2 000 requests through the
 * real pipeline, each reading its own key from an AWS Secrets Manager store (the real
 * SDK) whose peer — the counting proxy — accepts every connection and never answers.
 * Short timeouts and a short circuit keep each request finite; afterwards the heap is
 * back near where it was, no socket or timer is left behind, the broker's and the
 * resolver's in-flight maps are empty (a redelivery is processed afresh, a read is not
 * joined to a dead one), the state holds no pile of request rows, and the circuit kept
 * most requests off the wire.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AwsSecretsManagerStore } from '../../../adapters/aws-secrets-manager/index.ts'
import type { StoreRegistry } from '../../../adapters/registry.ts'
import { type CloudEvent, type EventTypes, parseEvent } from '../../../events/index.ts'
import { type CountingProxy, startCountingProxy } from '../../emulators/harness/counting-proxy.ts'
import { CountingBus, type Wired, wireBroker } from '../../reliability/wiring.ts'

v8.setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const CATALOG = (endpoint: string) => `
version: 1
stores:
  hanging: { adapter: aws-secrets-manager, region: eu-west-1, endpoint: "${endpoint}" }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
classes:
  - type: remote
    store: hanging
    key: "remote/{app}/{params.key}"
policies:
  - apps: [checkout]
    environments: [dev]
    types: [remote]
    keys: ["remote/checkout/*"]
`

let dir: string
let proxy: CountingProxy
let wired: Wired
const bus = new CountingBus()

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-hang-'))
  // Nothing listens upstream: a hang never forwards, so the proxy is the whole peer.
  proxy = await startCountingProxy('http://127.0.0.1:9')
  proxy.inject({ kind: 'hang' }, { times: Number.POSITIVE_INFINITY })
  const registry = {
    'aws-secrets-manager': async () => (config: { region?: unknown; endpoint?: unknown }) =>
      new AwsSecretsManagerStore({
        region: String(config.region),
        endpoint: String(config.endpoint),
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      }),
  } as unknown as StoreRegistry
  wired = wireBroker({
    catalog: CATALOG(proxy.url),
    cwd: dir,
    registry,
    bus,
    resilience: {
      timeoutMs: 100,
      retries: 1,
      backoffBaseMs: 5,
      backoffCapMs: 20,
      failureThreshold: 5,
      openMs: 100,
    },
  })
})

afterAll(async () => {
  await wired?.close()
  await proxy?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function request(i: number): CloudEvent<typeof EventTypes.requested> {
  return parseEvent({
    specversion: '1.0',
    id: `hang-${i}`,
    source: '/apps/checkout',
    type: 'io.capbroker.capability.requested.v1',
    data: {
      app: 'checkout',
      environment: 'dev',
      capabilities: [{ name: 'remote', type: 'remote', params: { key: `k${i}` } }],
    },
  }) as CloudEvent<typeof EventTypes.requested>
}

/** Runs requests `from`..`to` in waves of `wave` at once; every one must fail as retryable. */
async function run(from: number, to: number, wave = 200): Promise<void> {
  for (let start = from; start < to; start += wave) {
    const results = await Promise.all(
      Array.from({ length: Math.min(wave, to - start) }, (_, k) =>
        wired.broker.handle(request(start + k)),
      ),
    )
    for (const r of results) {
      expect([r.status, r.retryable, r.capabilities[0]?.reason?.code]).toEqual([
        'failed',
        true,
        'UNAVAILABLE',
      ])
    }
  }
}

async function settled(): Promise<{ heap: number; rss: number; handles: Map<string, number> }> {
  // Let aborted sockets close and timers fire before counting.
  await new Promise((resolve) => setTimeout(resolve, 300))
  gc()
  gc()
  const handles = new Map<string, number>()
  for (const kind of process.getActiveResourcesInfo())
    handles.set(kind, (handles.get(kind) ?? 0) + 1)
  return { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, handles }
}

describe('2 000 requests against a store that never answers', () => {
  it('all end UNAVAILABLE (retryable), and memory, sockets and timers stay bounded', async () => {
    await run(0, 200) // warm-up: SDK loaded, JIT done, the database open
    const before = await settled()
    const started = performance.now()
    await run(200, 2_200)
    const elapsed = performance.now() - started
    const after = await settled()

    expect(elapsed).toBeLessThan(20_000)
    expect(after.heap - before.heap).toBeLessThan(16 * 1024 * 1024)
    expect(after.rss - before.rss).toBeLessThan(128 * 1024 * 1024)
    for (const kind of ['TCPSocketWrap', 'Timeout'])
      expect(after.handles.get(kind) ?? 0, kind).toBeLessThanOrEqual(
        (before.handles.get(kind) ?? 0) + 2,
      )
    // Calls did hang and time out at the wire, but the circuit kept most of the 2 000
    // requests off it (without it: 2 attempts each).
    expect(proxy.seen.filter((s) => s.faulted === 'hang').length).toBeGreaterThan(10)
    expect(proxy.count()).toBeLessThan(1_000)
    expect(bus.counts.get('io.capbroker.capability.failed.v1')).toBe(2_200)
  }, 60_000)

  it('leaves no in-flight entry behind: a redelivery runs again, a read is not joined', async () => {
    const again = await wired.broker.handle(request(1_000))
    expect([again.duplicate, again.status]).toEqual([false, 'failed'])
    const joined = wired.resolver.stats.joined
    await wired.resolver.resolve([{ store: 'hanging', key: 'remote/checkout/k1000', ttlMs: 0 }])
    expect(wired.resolver.stats.joined).toBe(joined)
  })

  it('keeps the state small: transient outcomes are not remembered', async () => {
    await wired.broker.handle(request(9_999)) // a claim purges what expired
    const db = new DatabaseSync(join(dir, 'home', 'state.db'), { readOnly: true })
    try {
      const { n } = db.prepare('SELECT count(*) AS n FROM requests').get() as { n: number }
      expect(n).toBeLessThanOrEqual(1)
    } finally {
      db.close()
    }
  })
})
