/**
 * The bundle secret on Secrets Manager, which has no compare-and-write: concurrent
 * workers merging into one bundle take turns under a lease lock in the DynamoDB state
 * table, so no update is lost; a lock whose holder died frees itself after its lease.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AwsJsonClient, DYNAMODB } from '../../../adapters/aws-common/json-client.ts'
import { AwsSecretsManagerStore } from '../../../adapters/aws-secrets-manager/index.ts'
import {
  createStateTable,
  DynamoDbMutex,
  DynamoDbStateStore,
} from '../../../adapters/dynamodb/index.ts'
import { StoreBundleSink } from '../../../adapters/store-bundle/sink.ts'
import { UnavailableError } from '../../../broker/errors.ts'
import type { Binding } from '../../../broker/ports.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../harness/moto.ts'
import { useMoto } from '../harness/use-moto.ts'
import { directClientConfig, uniqueName } from './fixtures.ts'

const moto = useMoto()
const tableName = uniqueName('capbroker-lock')
let direct: DynamoDBClient
const closers: (() => unknown)[] = []

beforeAll(async () => {
  direct = new DynamoDBClient(directClientConfig(moto.endpoint))
  await createStateTable(direct, tableName)
})

afterAll(async () => {
  for (const close of closers) await close()
  direct?.destroy()
})

const options = () => ({
  region: AWS_TEST_REGION,
  endpoint: moto.endpoint,
  credentials: AWS_TEST_CREDENTIALS,
})

/** One "worker": its own Secrets Manager and DynamoDB clients, as two Lambdas have. */
function worker(lock: boolean) {
  const store = new AwsSecretsManagerStore(options())
  const state = new DynamoDbStateStore({ tableName, ...options() })
  closers.push(
    () => store.close(),
    () => state.close(),
  )
  return new StoreBundleSink({
    store,
    name: 'capbroker/{app}/{environment}',
    ...(lock ? { lock: state.mutex() } : {}),
  })
}

const binding = (name: string): Binding => ({
  name,
  type: 'secret',
  provider: 'aws-secrets-manager',
  entries: new Map([['value', new SecretValue(`v-${name}`)]]),
  secretEntries: ['value'],
})

describe('the bundle sink on Secrets Manager', () => {
  it('loses no update when two workers inject into one bundle at once', async () => {
    const app = uniqueName('checkout')
    const workers = [worker(true), worker(true)]
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        workers[i % 2]?.inject({ app, environment: 'prod' }, [binding(`b${i}`)]),
      ),
    )
    const reader = new AwsSecretsManagerStore(options())
    closers.push(() => reader.close())
    const [bundle] = await reader.read([{ key: `capbroker/${app}/prod` }])
    expect(bundle?.ok).toBe(true)
    const names = bundle?.ok ? Object.keys(JSON.parse(bundle.value.reveal())).sort() : []
    expect(names).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7'])
  })
})

describe('DynamoDbMutex', () => {
  const mutex = (leaseMs: number, attempts: number) => {
    const client = new AwsJsonClient(DYNAMODB, {
      ...options(),
      maxAttempts: 1,
      requestTimeoutMs: 10_000,
    })
    closers.push(() => client.destroy())
    return new DynamoDbMutex({
      client,
      table: tableName,
      leaseMs,
      attempts,
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
    })
  }

  it('makes a second holder wait, and gives up with Unavailable when the wait is too long', async () => {
    const first = mutex(30_000, 5)
    const second = mutex(30_000, 3)
    let release: () => void = () => {}
    const held = first.run('bundle:x', () => new Promise<void>((r) => (release = r)))
    await new Promise((r) => setTimeout(r, 50))
    await expect(second.run('bundle:x', async () => 'never')).rejects.toBeInstanceOf(
      UnavailableError,
    )
    release()
    await held
    expect(await second.run('bundle:x', async () => 'after')).toBe('after')
  })

  it('frees a lock whose holder stopped renewing it once the lease ran out', async () => {
    const stuck = mutex(100, 5)
    const next = mutex(30_000, 100)
    void stuck.run('bundle:y', () => new Promise(() => {}))
    await new Promise((r) => setTimeout(r, 30))
    const started = Date.now()
    expect(await next.run('bundle:y', async () => 'taken')).toBe('taken')
    expect(Date.now() - started).toBeGreaterThanOrEqual(40)
  })
})
