/**
 * The DynamoDB state store against moto: idempotent claims under concurrency, completion
 * in one transaction, TTL attributes, lease expiry, binding queries.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createStateTable,
  DynamoDbStateStore,
  requestKey,
} from '../../../adapters/dynamodb/index.ts'
import { UnavailableError } from '../../../broker/errors.ts'
import type { BindingRecord, RecordedOutcome, RequestKey } from '../../../broker/ports.ts'
import { buildEvent, EventTypes } from '../../../events/index.ts'
import { type CountingProxy, startCountingProxy } from '../harness/counting-proxy.ts'
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../harness/moto.ts'
import { useMoto } from '../harness/use-moto.ts'
import { directClientConfig, uniqueName } from './fixtures.ts'

const moto = useMoto()
const tableName = uniqueName('capbroker-state')
let direct: DynamoDBClient
let proxy: CountingProxy
let state: DynamoDbStateStore

beforeAll(async () => {
  direct = new DynamoDBClient(directClientConfig(moto.endpoint))
  await createStateTable(direct, tableName)
  proxy = await startCountingProxy(moto.endpoint)
  state = new DynamoDbStateStore({
    tableName,
    region: AWS_TEST_REGION,
    endpoint: proxy.url,
    credentials: AWS_TEST_CREDENTIALS,
  })
})

afterAll(async () => {
  await state?.close()
  direct?.destroy()
  await proxy?.close()
})

const now = new Date('2025-06-01T12:00:00.000Z')
const later = (ms: number) => new Date(now.getTime() + ms)
const newKey = (): RequestKey => ({
  source: 'https://github.com/acme/checkout#main',
  id: uniqueName('req'),
})

function outcomeFor(key: RequestKey): RecordedOutcome {
  const event = buildEvent(
    EventTypes.resolved,
    { id: `${key.id}-resolved`, source: '/capbroker', time: now.toISOString() },
    { app: 'checkout', environment: 'prod', request: { ...key }, capabilities: [] },
  )
  return { events: [event], completedAt: now.toISOString() }
}

function binding(name: string, key: RequestKey, app = 'checkout'): BindingRecord {
  return {
    app,
    environment: 'prod',
    name,
    type: 'postgres',
    provider: 'aws-secrets-manager',
    store: 'aws',
    key: `rds/${app}-prod`,
    version: 'v1',
    entries: ['host', 'password'],
    secretEntries: ['password'],
    sink: 'store',
    location: `capbroker/${app}/prod`,
    injectedAt: now.toISOString(),
    request: key,
  }
}

async function rawRequestItem(key: RequestKey) {
  const { Item } = await direct.send(
    new GetItemCommand({ TableName: tableName, Key: requestKey(key), ConsistentRead: true }),
  )
  return Item
}

describe('claim', () => {
  it('gives exactly one of 20 concurrent claims of one key', async () => {
    const key = newKey()
    const claims = await Promise.all(
      Array.from({ length: 20 }, () => state.claim(key, { now, leaseMs: 60_000 })),
    )
    expect(claims.filter((c) => c.status === 'claimed')).toHaveLength(1)
    expect(claims.filter((c) => c.status === 'in-progress')).toHaveLength(19)
    expect(proxy.count('PutItem')).toBeGreaterThanOrEqual(20)
  })

  it('answers completed, with the recorded outcome, after complete', async () => {
    const key = newKey()
    expect(await state.claim(key, { now, leaseMs: 60_000 })).toEqual({ status: 'claimed' })
    const outcome = outcomeFor(key)
    await state.complete(key, outcome, [binding('db', key)], { now, ttlMs: 86_400_000 })

    const again = await state.claim(key, { now: later(1000), leaseMs: 60_000 })
    expect(again).toEqual({ status: 'completed', outcome: JSON.parse(JSON.stringify(outcome)) })
    // Even after the lease would have run out: a completed request stays completed.
    expect(await state.claim(key, { now: later(3_600_000), leaseMs: 60_000 })).toMatchObject({
      status: 'completed',
    })
  })

  it('stores the TTL attribute expiresAt in epoch seconds', async () => {
    const key = newKey()
    await state.claim(key, { now, leaseMs: 60_000 })
    await state.complete(key, outcomeFor(key), [], { now, ttlMs: 7 * 86_400_000 })
    const item = await rawRequestItem(key)
    expect(item?.expiresAt?.N).toBe(String(now.getTime() / 1000 + 7 * 86_400))
    expect(item?.pk?.S).toBe(`REQ#https://github.com/acme/checkout%23main#${key.id}`)
  })

  it('lets a claim whose lease ran out be claimed again, and not before', async () => {
    const key = newKey()
    expect(await state.claim(key, { now, leaseMs: 30_000 })).toEqual({ status: 'claimed' })
    expect(await state.claim(key, { now: later(29_999), leaseMs: 30_000 })).toEqual({
      status: 'in-progress',
    })
    expect(await state.claim(key, { now: later(30_001), leaseMs: 30_000 })).toEqual({
      status: 'claimed',
    })
    const item = await rawRequestItem(key)
    expect(item?.leaseUntil?.N).toBe(String(now.getTime() + 30_001 + 30_000))
    expect(item?.expiresAt?.N).toBeDefined()
  })

  it('abandon drops an unfinished claim but never a completed one', async () => {
    const open = newKey()
    await state.claim(open, { now, leaseMs: 60_000 })
    await state.abandon(open)
    expect(await state.claim(open, { now, leaseMs: 60_000 })).toEqual({ status: 'claimed' })

    const done = newKey()
    await state.claim(done, { now, leaseMs: 60_000 })
    await state.complete(done, outcomeFor(done), [], { now, ttlMs: 60_000 })
    await state.abandon(done)
    expect(await state.claim(done, { now, leaseMs: 60_000 })).toMatchObject({ status: 'completed' })
  })

  it('maps a throttled claim to UnavailableError', async () => {
    proxy.inject({
      kind: 'status',
      status: 400,
      errorType: 'ProvisionedThroughputExceededException',
    })
    const error = await state.claim(newKey(), { now, leaseMs: 1000 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnavailableError)
  })
})

describe('bindings', () => {
  it('completes outcome and bindings in one TransactWriteItems, listed by Query', async () => {
    const app = uniqueName('app')
    const key = newKey()
    await state.claim(key, { now, leaseMs: 60_000 })
    proxy.resetCounts()
    await state.complete(
      key,
      outcomeFor(key),
      [binding('db', key, app), binding('cache', key, app)],
      { now, ttlMs: 60_000 },
    )
    expect(proxy.count('TransactWriteItems')).toBe(1)
    expect(proxy.count()).toBe(1)

    const listed = await state.listBindings({ app, environment: 'prod' })
    expect(listed).toEqual([binding('cache', key, app), binding('db', key, app)])
    expect(proxy.count('Query')).toBe(1)

    await state.removeBindings({ app, environment: 'prod' }, ['db', 'never-there'])
    expect((await state.listBindings({ app, environment: 'prod' })).map((b) => b.name)).toEqual([
      'cache',
    ])
  })

  it('splits 150 bindings and their pointers over transactions of 100, the request row in the last', async () => {
    const app = uniqueName('many')
    const key = newKey()
    await state.claim(key, { now, leaseMs: 60_000 })
    proxy.resetCounts()
    const records = Array.from({ length: 150 }, (_, i) =>
      binding(`b${String(i).padStart(3, '0')}`, key, app),
    )
    await state.complete(key, outcomeFor(key), records, { now, ttlMs: 60_000 })
    // 150 bindings + 150 source pointers + 1 target pointer + the request row: 302 items.
    expect(proxy.count('TransactWriteItems')).toBe(Math.ceil(302 / 100))
    expect(await state.listBindings({ app, environment: 'prod' })).toHaveLength(150)
    expect(await state.claim(key, { now, leaseMs: 60_000 })).toMatchObject({ status: 'completed' })
  })
})
