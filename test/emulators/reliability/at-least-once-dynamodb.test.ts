/**
 * At-least-once delivery on the AWS state store (DynamoDB, against moto): duplicates
 * sequential and concurrent — two brokers, two clients, one table — are processed once,
 * and a broker process killed between injecting and recording is safe on redelivery
 * once its claim's lease ran out: one recorded outcome, the bindings recorded, one
 * binding version in use. The SQLite twin of this suite is in
 * test/integration/reliability/at-least-once.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createStateTable,
  DynamoDbStateStore,
  requestKey,
} from '../../../adapters/dynamodb/index.ts'
import { LocalSecretStore } from '../../../adapters/local/index.ts'
import type { MemoryEventBus } from '../../../adapters/memory-bus/index.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { type CloudEvent, EventTypes, parseEvent } from '../../../events/index.ts'
import {
  AT_LEAST_ONCE_CATALOG,
  PG_PASSWORD,
  PG_SECRET,
  readBinding,
  requestedEvent,
  runChild,
  versionDirs,
} from '../../reliability/at-least-once.ts'
import { type Wired, wireBroker } from '../../reliability/wiring.ts'
import { directClientConfig, uniqueName } from '../aws/fixtures.ts'
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../harness/moto.ts'
import { useMoto } from '../harness/use-moto.ts'

const moto = useMoto()
const tableName = uniqueName('capbroker-alo')
let direct: DynamoDBClient
let dir: string
let first: Wired
let second: Wired

const dynamo = () =>
  new DynamoDbStateStore({
    tableName,
    region: AWS_TEST_REGION,
    endpoint: moto.endpoint,
    credentials: AWS_TEST_CREDENTIALS,
  })

beforeAll(async () => {
  direct = new DynamoDBClient(directClientConfig(moto.endpoint))
  await createStateTable(direct, tableName)
  dir = mkdtempSync(join(tmpdir(), 'capbroker-alo-ddb-'))
  const store = new LocalSecretStore({ home: join(dir, 'home') })
  await store.write('postgres/checkout', new SecretValue(PG_SECRET))
  store.close()
  first = wireBroker({ catalog: AT_LEAST_ONCE_CATALOG, cwd: dir, state: dynamo() })
  second = wireBroker({ catalog: AT_LEAST_ONCE_CATALOG, cwd: dir, state: dynamo() })
})

afterAll(async () => {
  await first?.close()
  await second?.close()
  direct?.destroy()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const bindings = () => join(dir, 'bindings')
const requestIdOf = (event: { data: unknown }) =>
  (event.data as { request?: { id?: string } }).request?.id
const published = (id: string) =>
  [...(first.bus as MemoryEventBus).events, ...(second.bus as MemoryEventBus).events].filter(
    (e) => requestIdOf(e) === id,
  )
const handle = (wired: Wired, id: string, name: string) =>
  wired.broker.handle(
    parseEvent(requestedEvent(id, name)) as CloudEvent<typeof EventTypes.requested>,
  )
async function requestRow(id: string) {
  const { Item } = await direct.send(
    new GetItemCommand({
      TableName: tableName,
      Key: requestKey({ source: '/apps/checkout', id }),
      ConsistentRead: true,
    }),
  )
  return Item
}

describe('duplicate deliveries on DynamoDB', () => {
  it('sequential, on either broker: the recorded outcome, nothing injected again', async () => {
    const id = uniqueName('seq')
    const one = await handle(first, id, 'db-seq')
    const link = readBinding(bindings(), 'checkout', 'dev', 'db-seq')
    const [again, elsewhere] = [
      await handle(first, id, 'db-seq'),
      await handle(second, id, 'db-seq'),
    ]
    expect([one.status, one.duplicate, again.duplicate, elsewhere.duplicate]).toEqual([
      'resolved',
      false,
      true,
      true,
    ])
    expect(elsewhere.events.map((e) => e.id)).toEqual(one.events.map((e) => e.id))
    expect(readBinding(bindings(), 'checkout', 'dev', 'db-seq')).toEqual(link)
    expect(published(id).map((e) => e.type)).toEqual([EventTypes.resolved, EventTypes.injected])
    expect((await requestRow(id))?.status?.S).toBe('completed')
  })

  it('concurrent, on two brokers with their own clients: one run does the work', async () => {
    const id = uniqueName('conc')
    const runs = await Promise.all(
      Array.from({ length: 16 }, (_, i) => handle(i % 2 ? first : second, id, 'db-conc')),
    )
    expect(runs.filter((r) => !r.duplicate).map((r) => r.status)).toEqual(['resolved'])
    for (const r of runs.filter((r) => r.duplicate))
      expect(['in-progress', 'resolved']).toContain(r.status)
    expect(
      published(id)
        .map((e) => e.type)
        .sort(),
    ).toEqual([EventTypes.injected, EventTypes.resolved].sort())
    expect(versionDirs(bindings(), 'checkout', 'dev', 'db-conc')).toHaveLength(1)
  })
})

describe('a crash between injecting and recording', () => {
  it('is safe on redelivery once the lease ran out', async () => {
    const id = uniqueName('crash')
    const config = {
      cwd: dir,
      catalog: AT_LEAST_ONCE_CATALOG,
      event: requestedEvent(id, 'db-crash'),
      leaseMs: 1_500,
      dynamodb: { endpoint: moto.endpoint, tableName },
    }
    const crashed = await runChild({ ...config, crashAt: 'complete' })
    const leaseEnds = Date.now() + 1_500
    expect([crashed.signal, crashed.result]).toEqual(['SIGKILL', undefined])
    expect(crashed.published.map((e) => e.type)).toEqual([EventTypes.resolved, EventTypes.injected])
    expect((await requestRow(id))?.status?.S).toBe('in-progress')

    // Redelivered while the dead process's lease holds (in this process, so that it
    // surely comes before the lease ends): not processed twice at once.
    const early = await handle(first, id, 'db-crash')
    expect([early.status, early.duplicate]).toEqual(['in-progress', true])

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, leaseEnds - Date.now() + 100)))
    const redelivered = await runChild(config)
    expect(redelivered.result).toMatchObject({ status: 'resolved', duplicate: false })
    expect(redelivered.published.map((e) => e.id)).toEqual(crashed.published.map((e) => e.id))
    const again = await runChild(config)
    expect(again.result).toMatchObject({ status: 'resolved', duplicate: true })
    expect(again.published).toEqual([])

    const row = await requestRow(id)
    expect(row?.status?.S).toBe('completed')
    expect((JSON.parse(row?.outcome?.S ?? '[]') as { id: string }[]).map((e) => e.id)).toEqual(
      crashed.published.map((e) => e.id),
    )
    const records = await first.state.listBindings({ app: 'checkout', environment: 'dev' })
    expect(records.filter((r) => r.name === 'db-crash')).toEqual([
      expect.objectContaining({
        key: 'postgres/checkout',
        request: { source: '/apps/checkout', id },
      }),
    ])
    expect(readBinding(bindings(), 'checkout', 'dev', 'db-crash').entries.password).toBe(
      PG_PASSWORD,
    )
    expect(versionDirs(bindings(), 'checkout', 'dev', 'db-crash').length).toBeLessThanOrEqual(2)
  }, 60_000)
})
