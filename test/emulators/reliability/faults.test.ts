/**
 * Provider faults at the wire, through the whole pipeline: the counting proxy sits
 * between the AWS Secrets Manager store (the real SDK) and moto and answers with
 * throttling, 5xx, connection resets and hangs. A fault that passes is retried and the
 * capability ends `ready`, injected once, its outcome recorded; a fault that persists
 * ends `UNAVAILABLE` with the request marked `retryable` (not remembered, so the bus's
 * redelivery tries again), nothing injected; enough of them open the circuit, which then
 * keeps requests off the wire; and `/healthz` of the embedded server reports the store.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseCatalog } from '../../../broker/catalog/load.ts'
import { type CloudEvent, EventTypes, parseEvent } from '../../../events/index.ts'
import { createBrokerServer } from '../../../server/app.ts'
import { createEmbeddedRuntime } from '../../../server/runtime.ts'
import { readBinding, versionDirs } from '../../reliability/at-least-once.ts'
import { type Wired, wireBroker } from '../../reliability/wiring.ts'
import { SecretSeeder, uniqueName } from '../aws/fixtures.ts'
import { type CountingProxy, type Fault, startCountingProxy } from '../harness/counting-proxy.ts'
import { useMoto } from '../harness/use-moto.ts'

const moto = useMoto()
const prefix = uniqueName('rel-faults')
const PASSWORD = `faults-pg-${prefix}`
let proxy: CountingProxy
let seeder: SecretSeeder

const catalog = (endpoint: string) => `
version: 1
stores:
  aws: { adapter: aws-secrets-manager, region: eu-west-1, endpoint: "${endpoint}" }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
  prod:
    inject: { to: store, store: aws, name: "${prefix}/bundles/{app}/{environment}" }
classes:
  - type: postgres
    store: aws
    key: "${prefix}/{app}/db"
    outputs: { host: host, password: password }
    secret: [password]
policies:
  - apps: [checkout]
    environments: ["*"]
    types: [postgres]
    keys: ["${prefix}/checkout/db"]
`

beforeAll(async () => {
  proxy = await startCountingProxy(moto.endpoint)
  seeder = new SecretSeeder(moto.endpoint)
  await seeder.seed(
    `${prefix}/checkout/db`,
    JSON.stringify({ host: 'db.internal', password: PASSWORD }),
  )
})

afterAll(async () => {
  seeder?.close()
  await proxy?.close()
})

let dir: string
let wired: Wired
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-faults-'))
  proxy.clearFaults()
  proxy.resetCounts()
  // A broker of its own per test: a fresh circuit. Short waits keep the suite quick.
  wired = wireBroker({
    catalog: catalog(proxy.url),
    cwd: dir,
    resilience: {
      timeoutMs: 500,
      retries: 2,
      backoffBaseMs: 10,
      backoffCapMs: 50,
      failureThreshold: 3,
      openMs: 60_000,
    },
  })
})
afterEach(async () => {
  proxy.clearFaults()
  await wired?.close()
  rmSync(dir, { recursive: true, force: true })
})

let n = 0
function request(environment = 'dev', id = `${prefix}-${++n}`) {
  return parseEvent({
    specversion: '1.0',
    id,
    source: '/apps/checkout',
    type: EventTypes.requested,
    data: { app: 'checkout', environment, capabilities: [{ name: 'db', type: 'postgres' }] },
  }) as CloudEvent<typeof EventTypes.requested>
}
const bindings = () => join(dir, 'bindings')
const reasonOf = (r: { capabilities: readonly { reason?: { code: string; message: string } }[] }) =>
  r.capabilities[0]?.reason

const PASSING: readonly [string, Fault][] = [
  ['a throttle (400 ThrottlingException)', { kind: 'throttle' }],
  ['a throttle with Retry-After', { kind: 'throttle', retryAfterSeconds: 1 }],
  ['a 500 InternalServiceError', { kind: 'status', status: 500 }],
  ['a 503 ServiceUnavailable', { kind: 'status', status: 503 }],
  ['a connection reset', { kind: 'reset' }],
  ['a hang (the attempt times out)', { kind: 'hang' }],
]

describe('a fault that passes', () => {
  it.each(PASSING)(
    '%s on the read: retried, ready, injected once, recorded',
    async (_what, fault) => {
      proxy.inject(fault, { operation: 'BatchGetSecretValue', times: 1 })
      const event = request()
      const result = await wired.broker.handle(event)
      expect(result.status).toBe('resolved')
      expect(result.retryable).toBeUndefined()
      expect(proxy.seen.map((s) => [s.operation.split('.').pop(), s.faulted])).toEqual([
        ['BatchGetSecretValue', fault.kind],
        ['BatchGetSecretValue', undefined],
      ])
      expect(readBinding(bindings(), 'checkout', 'dev', 'db').entries.password).toBe(PASSWORD)
      expect(versionDirs(bindings(), 'checkout', 'dev', 'db')).toHaveLength(1)
      // Recorded: a redelivery gets the outcome and touches neither the store nor the files.
      const written = statSync(join(bindings(), 'checkout', 'dev', 'db', 'password')).mtimeMs
      const again = await wired.broker.handle(event)
      expect([again.status, again.duplicate]).toEqual(['resolved', true])
      expect(proxy.count()).toBe(2)
      expect(statSync(join(bindings(), 'checkout', 'dev', 'db', 'password')).mtimeMs).toBe(written)
      expect(versionDirs(bindings(), 'checkout', 'dev', 'db')).toHaveLength(1)
    },
  )

  it('a 503 on creating the bundle secret: retried, one bundle version, not written again', async () => {
    proxy.inject({ kind: 'status', status: 503 }, { operation: 'CreateSecret', times: 1 })
    const event = request('prod')
    const first = await wired.broker.handle(event)
    expect(first.status).toBe('resolved')
    expect(proxy.seen.filter((s) => s.faulted).map((s) => s.operation)).toEqual([
      'secretsmanager.CreateSecret',
    ])
    // A redelivery, and a new request for the same values: still one version.
    expect((await wired.broker.handle(event)).duplicate).toBe(true)
    expect((await wired.broker.handle(request('prod'))).status).toBe('resolved')
    const versions = await seeder.client.send(
      new ListSecretVersionIdsCommand({
        SecretId: `${prefix}/bundles/checkout/prod`,
        IncludeDeprecated: true,
      }),
    )
    expect(versions.Versions).toHaveLength(1)
  })
})

describe('a fault that persists', () => {
  it.each([
    ['throttling', { kind: 'throttle' } as Fault],
    ['5xx', { kind: 'status', status: 503 } as Fault],
    ['resets', { kind: 'reset' } as Fault],
    ['hangs', { kind: 'hang' } as Fault],
  ])(
    '%s: UNAVAILABLE and retryable, nothing injected, and the redelivery tries again',
    async (_what, fault) => {
      proxy.inject(fault, { operation: 'BatchGetSecretValue', times: Number.POSITIVE_INFINITY })
      const event = request()
      const failed = await wired.broker.handle(event)
      expect([failed.status, failed.retryable, reasonOf(failed)?.code]).toEqual([
        'failed',
        true,
        'UNAVAILABLE',
      ])
      expect(proxy.count('BatchGetSecretValue')).toBe(3) // the first attempt and two retries
      expect(versionDirs(bindings(), 'checkout', 'dev', 'db')).toEqual([])
      expect(await wired.state.listBindings({ app: 'checkout', environment: 'dev' })).toEqual([])
      // The bus redelivers once the store is back: processed afresh, not a duplicate.
      proxy.clearFaults()
      const redelivered = await wired.broker.handle(event)
      expect([redelivered.status, redelivered.duplicate]).toEqual(['resolved', false])
      expect(versionDirs(bindings(), 'checkout', 'dev', 'db')).toHaveLength(1)
    },
  )

  it('opens the circuit: later requests fail fast without reaching the wire', async () => {
    proxy.inject({ kind: 'status', status: 500 }, { times: Number.POSITIVE_INFINITY })
    for (let i = 0; i < 3; i++) expect((await wired.broker.handle(request())).retryable).toBe(true)
    const calls = proxy.count()
    expect(calls).toBe(9)
    const started = performance.now()
    const fast = await wired.broker.handle(request())
    expect(performance.now() - started).toBeLessThan(200)
    expect(proxy.count()).toBe(calls)
    expect(reasonOf(fast)).toEqual({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/^store "aws" is failing; not calling it until /),
    })
    expect(fast.retryable).toBe(true)
    const store = (await wired.stores.get('aws')) as unknown as { circuit(): { state: string } }
    expect(store.circuit().state).toBe('open')
    // Its health says so too (that is what /healthz shows), even with the peer back.
    proxy.clearFaults()
    expect(await (await wired.stores.get('aws')).health()).toEqual({
      status: 'unavailable',
      message: expect.stringMatching(/^store "aws" is failing \(3 failed calls in a row\)/),
    })
  })
})

describe('/healthz of the embedded server', () => {
  it('reports the store unavailable while it fails, and ready again after', async () => {
    const runtime = createEmbeddedRuntime({
      catalog: parseCatalog(catalog(proxy.url), 'capbroker.yaml'),
      home: join(dir, 'home-http'),
      cwd: dir,
    })
    const { server } = createBrokerServer(
      runtime,
      { debug() {}, info() {}, warn() {}, error() {} },
      'test',
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`
    try {
      proxy.inject({ kind: 'status', status: 503 }, { times: Number.POSITIVE_INFINITY })
      const down = (await (await fetch(url)).json()) as Record<string, unknown>
      expect(down).toMatchObject({
        status: 'degraded',
        stores: { aws: { adapter: 'aws-secrets-manager', status: 'unavailable' } },
      })
      expect(JSON.stringify(down)).not.toContain(PASSWORD)
      proxy.clearFaults()
      const up = (await (await fetch(url)).json()) as Record<string, unknown>
      expect(up).toMatchObject({ status: 'ok', stores: { aws: { status: 'ready' } } })
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await runtime.close()
    }
  })
})
