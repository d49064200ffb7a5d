/**
 * What the Secrets Manager adapter does on the wire, counted and faulted by the proxy in
 * front of moto: batching, no hidden SDK retries, resets, hangs, aborts, health.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AwsSecretsManagerStore } from '../../../adapters/aws-secrets-manager/index.ts'
import {
  AccessDeniedError,
  InvalidSecretError,
  NotFoundError,
  UnavailableError,
} from '../../../broker/errors.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { type CountingProxy, startCountingProxy } from '../harness/counting-proxy.ts'
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../harness/moto.ts'
import { useMoto } from '../harness/use-moto.ts'
import { SecretSeeder, uniqueName } from './fixtures.ts'

const moto = useMoto()
let proxy: CountingProxy
let seeder: SecretSeeder
let store: AwsSecretsManagerStore
const prefix = uniqueName('wire')

beforeAll(async () => {
  proxy = await startCountingProxy(moto.endpoint)
  seeder = new SecretSeeder(moto.endpoint)
  store = new AwsSecretsManagerStore({
    region: AWS_TEST_REGION,
    endpoint: proxy.url,
    credentials: AWS_TEST_CREDENTIALS,
    requestTimeoutMs: 1000,
  })
})

afterAll(async () => {
  store?.close()
  seeder?.close()
  await proxy?.close()
})

beforeEach(() => {
  proxy.clearFaults()
  proxy.resetCounts()
})

describe('batching', () => {
  it('reads 45 secrets with exactly 3 BatchGetSecretValue calls (20 + 20 + 5)', async () => {
    const keys = Array.from({ length: 45 }, (_, i) => `${prefix}/batch-${i}`)
    await Promise.all(keys.map((key, i) => seeder.seed(key, `value-${i}`)))
    proxy.resetCounts()

    const outcomes = await store.read(keys.map((key) => ({ key })))

    expect(proxy.count('BatchGetSecretValue')).toBe(3)
    expect(proxy.count()).toBe(3)
    expect(outcomes.map((o) => (o.ok ? o.value.reveal() : o.error.message))).toEqual(
      keys.map((_, i) => `value-${i}`),
    )
  })

  it('reads a key asked for twice with one id in the batch, and answers both', async () => {
    const key = `${prefix}/twice`
    await seeder.seed(key, 'twice')
    proxy.resetCounts()
    const outcomes = await store.read([{ key }, { key }])
    expect(proxy.count('BatchGetSecretValue')).toBe(1)
    expect(outcomes.map((o) => o.ok && o.value.reveal())).toEqual(['twice', 'twice'])
  })

  it('reads pinned versions with GetSecretValue, by VersionId or by AWS stage label', async () => {
    const key = `${prefix}/pinned`
    const v1 = await seeder.seed(key, 'first')
    const v2 = await seeder.seed(key, 'second')
    proxy.resetCounts()
    const [byId, previous, current] = await store.read([
      { key, version: v1 },
      { key, version: 'AWSPREVIOUS' },
      { key, version: 'AWSCURRENT' },
    ])
    expect(proxy.count('GetSecretValue')).toBe(3)
    expect(proxy.count('BatchGetSecretValue')).toBe(0)
    expect(byId).toMatchObject({ ok: true, version: v1 })
    expect(previous).toMatchObject({ ok: true, version: v1 })
    expect(current).toMatchObject({ ok: true, version: v2 })
  })

  it('refuses a binary secret with an InvalidSecretError naming the key', async () => {
    const key = `${prefix}/binary`
    await seeder.seedBinary(key, new Uint8Array([1, 2, 3]))
    const [outcome] = await store.read([{ key }])
    expect(outcome?.ok).toBe(false)
    const error = outcome?.ok === false ? outcome.error : undefined
    expect(error).toBeInstanceOf(InvalidSecretError)
    expect(error?.message).toContain(key)
  })
})

describe('faults at the wire', () => {
  it('makes exactly one request per call: the SDK does not retry a throttled call', async () => {
    proxy.inject({ kind: 'throttle', retryAfterSeconds: 2 })
    const error = await store.read([{ key: `${prefix}/throttled` }]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnavailableError)
    expect(error).toMatchObject({ retryAfterMs: 2000 })
    expect(proxy.count()).toBe(1)
  })

  it.each([
    ['a connection reset', { kind: 'reset' } as const, /connection failed|timed out/],
    ['a 503', { kind: 'status', status: 503 } as const, /service error/],
    ['a hang past the request timeout', { kind: 'hang' } as const, /timed out/],
  ])('turns %s into UnavailableError', async (_label, fault, message) => {
    proxy.inject(fault)
    const started = Date.now()
    const error = await store.read([{ key: `${prefix}/fault` }]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnavailableError)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).cause).toBeDefined()
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('rejects the whole read with AccessDeniedError when the batch call itself is denied', async () => {
    proxy.inject({ kind: 'status', status: 400, errorType: 'AccessDeniedException' })
    const error = await store
      .read([{ key: `${prefix}/a` }, { key: `${prefix}/b` }])
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AccessDeniedError)
  })

  it('stops a hung call when the signal aborts, with an AbortError', async () => {
    proxy.inject({ kind: 'hang' })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const error = await store
      .read([{ key: `${prefix}/hung` }], { signal: controller.signal })
      .catch((e: unknown) => e)
    expect((error as Error).name).toBe('AbortError')
  })
})

describe('writing', () => {
  it('creates a missing secret, skips an unchanged value, puts a changed one', async () => {
    const key = `${prefix}/written`
    const created = await store.write(key, new SecretValue('one'))
    expect(proxy.count('CreateSecret')).toBe(1)
    proxy.resetCounts()

    expect(await store.write(key, new SecretValue('one'))).toEqual({
      version: created.version,
      changed: false,
    })
    expect(proxy.seen.map((s) => s.operation)).toEqual(['secretsmanager.GetSecretValue'])

    const changed = await store.write(key, new SecretValue('two'))
    expect(changed.changed).toBe(true)
    expect(proxy.count('PutSecretValue')).toBe(1)
    await store.delete(key)
    const [after] = await store.read([{ key }])
    expect(after?.ok === false && after.error).toBeInstanceOf(NotFoundError)
  })
})

describe('health', () => {
  it('is ready through one ListSecrets call', async () => {
    expect(await store.health()).toEqual({ status: 'ready' })
    expect(proxy.seen.map((s) => s.operation)).toEqual(['secretsmanager.ListSecrets'])
  })

  it('is unavailable, with a message, when the service answers 500', async () => {
    proxy.inject({ kind: 'status', status: 500 })
    const health = await store.health()
    expect(health.status).toBe('unavailable')
    expect(health.message).toMatch(/aws-secrets-manager: health check .*InternalServiceError/)
  })
})
