/**
 * The DynamoDB state store's lifecycle half against moto: the same cases as SQLite's
 * (test/support/lifecycle-state-suite.ts), through Query and conditional writes only.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createStateTable, DynamoDbStateStore } from '../../../adapters/dynamodb/index.ts'
import { describeLifecycleState, lifecycleRecord } from '../../support/lifecycle-state-suite.ts'
import { type CountingProxy, startCountingProxy } from '../harness/counting-proxy.ts'
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../harness/moto.ts'
import { useMoto } from '../harness/use-moto.ts'
import { directClientConfig, uniqueName } from './fixtures.ts'

const moto = useMoto()
const tableName = uniqueName('capbroker-lifecycle')
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

describeLifecycleState('dynamodb', () => state, uniqueName)

it('never scans the table: bindings by source and across apps are Queries and GetItems', async () => {
  const app = uniqueName('app')
  const source = { store: 'aws', key: uniqueName('rds/db') }
  await state.complete(
    { source: '/test', id: uniqueName('req') },
    { events: [], completedAt: '2030-01-01T00:00:00.000Z' },
    [lifecycleRecord(app, 'prod', 'db', source)],
    { now: new Date('2030-01-01T00:00:00.000Z'), ttlMs: 60_000 },
  )
  proxy.resetCounts()
  expect((await state.findBindings({ source })).map((r) => r.app)).toEqual([app])
  expect((await state.findBindings({ app })).map((r) => r.name)).toEqual(['db'])
  expect(proxy.count('Scan')).toBe(0)
  expect(proxy.count('Query')).toBeGreaterThan(0)
})
