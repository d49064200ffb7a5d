/**
 * What the GCP adapter does on the wire beyond the shared suite: catalog keys land under
 * their mapped secret ids, the SDK's own retries are off, binary payloads are refused
 * per key, and an unreachable endpoint is reported quickly as unavailable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  GcpSecretManagerStore,
  GrpcStatus,
  toSecretId,
} from '../../../adapters/gcp-secret-manager/index.ts'
import { InvalidSecretError, UnavailableError } from '../../../broker/errors.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { findFreePort } from '../harness/process.ts'
import { type GrpcFaultProxy, startGrpcFaultProxy } from '../harness-gcp/grpc-fault-proxy.ts'
import { chooseGcpPeer, GCP_TEST_PROJECT, useGcpEmulator } from '../harness-gcp/use-gcp-emulator.ts'
import { GcpSeeder } from './fixtures.ts'

const peer = await chooseGcpPeer()
const gcp = useGcpEmulator(peer)
const run = Math.random().toString(36).slice(2, 8)
let proxy: GrpcFaultProxy
let seeder: GcpSeeder
let store: GcpSecretManagerStore

beforeAll(async () => {
  proxy = await startGrpcFaultProxy(gcp.endpoint)
  seeder = new GcpSeeder(gcp.endpoint, GCP_TEST_PROJECT)
  store = new GcpSecretManagerStore({
    project: GCP_TEST_PROJECT,
    endpoint: proxy.endpoint,
    insecure: true,
    requestTimeoutMs: 3000,
  })
})

afterAll(async () => {
  await store?.close()
  await seeder?.close()
  await proxy?.close()
})

describe(`gcp-secret-manager on the wire (${peer.label})`, () => {
  it('stores a catalog key with / and . under its mapped secret id, readable by any GCP client', async () => {
    const key = `apps/checkout-${run}/stripe.key`
    const written = await store.write(key, new SecretValue('sk_wire_1'))
    const name = `projects/${GCP_TEST_PROJECT}/secrets/${toSecretId(key)}/versions/latest`
    expect(toSecretId(key)).toBe(`apps__checkout-${run}__stripe_2Ekey`)
    const [direct] = await seeder.client.accessSecretVersion({ name })
    expect(Buffer.from(direct.payload!.data as Uint8Array).toString()).toBe('sk_wire_1')
    expect(direct.name).toMatch(new RegExp(`/versions/${written.version}$`))
    await seeder.remove(key)
  })

  it('makes exactly one call when throttled: retries belong to the broker, not the SDK', async () => {
    const key = `throttled-${run}`
    await seeder.seed(key, 'v')
    proxy.inject({ code: GrpcStatus.RESOURCE_EXHAUSTED, method: 'AccessSecretVersion' })
    const before = proxy.count('AccessSecretVersion')
    const error = await store.read([{ key }]).catch((e: unknown) => e)
    proxy.clearFaults()
    expect(error).toBeInstanceOf(UnavailableError)
    expect((error as Error).message).toContain('RESOURCE_EXHAUSTED')
    expect(proxy.count('AccessSecretVersion') - before).toBe(1)
    await seeder.remove(key)
  })

  it('refuses a payload that is not UTF-8 text for that key only', async () => {
    const binary = `binary-${run}`
    const text = `text-${run}`
    await seeder.seed(text, 'plain')
    await seeder.client.createSecret({
      parent: `projects/${GCP_TEST_PROJECT}`,
      secretId: toSecretId(binary),
      secret: { replication: { automatic: {} } },
    })
    await seeder.client.addSecretVersion({
      parent: `projects/${GCP_TEST_PROJECT}/secrets/${toSecretId(binary)}`,
      payload: { data: Buffer.from([0xff, 0xfe, 0x00, 0x80]) },
    })
    const [bad, good] = await store.read([{ key: binary }, { key: text }])
    expect(bad).toMatchObject({ ok: false, error: expect.any(InvalidSecretError) })
    expect(good).toMatchObject({ ok: true })
    await Promise.all([seeder.remove(binary), seeder.remove(text)])
  })

  it('reports an endpoint nobody listens on as unavailable, without hanging', async () => {
    const port = await findFreePort()
    const nowhere = new GcpSecretManagerStore({
      project: GCP_TEST_PROJECT,
      endpoint: `127.0.0.1:${port}`,
      insecure: true,
      requestTimeoutMs: 2000,
    })
    const started = Date.now()
    const health = await nowhere.health()
    const error = await nowhere.read([{ key: 'any' }]).catch((e: unknown) => e)
    await nowhere.close()
    expect(health).toMatchObject({
      status: 'unavailable',
      message: expect.stringContaining('UNAVAILABLE'),
    })
    expect(error).toBeInstanceOf(UnavailableError)
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
