/**
 * Rotation on the AWS wiring, against moto: the real `resolve`, `rotate` and `bindings`
 * handlers (configured only through their environment), Secrets Manager changes as
 * CloudTrail records put on the default bus and delivered by a rule with the rotate
 * function's pattern, the schedule's event, and the results read back with the SDK —
 * the bundle's versions, the events EventBridge delivered, the state table.
 *
 * RotateSecret: moto (5.2) cannot run a rotation Lambda (it invokes it through Docker),
 * without one it leaves AWSCURRENT on a version with no value, and its
 * UpdateSecretVersionStage does not change what GetSecretValue returns. So the test
 * does what a rotation really looks like from outside: the RotateSecret record arrives
 * while AWSCURRENT is unchanged (the refresh must write nothing), the new value becomes
 * current (here with PutSecretValue, the one call moto makes current), and the
 * RotationSucceeded service event triggers the refresh that re-injects it.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager'
import type { APIGatewayProxyStructuredResultV2, EventBridgeEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { DynamoDbStateStore } from '../../../adapters/dynamodb/index.ts'
import { buildEvent, EventTypes, parseEvent } from '../../../events/index.ts'
import { writePackagedCatalog } from '../../support/packaged-catalog.ts'
import { httpApiEvent, lambdaContext } from '../../unit/functions/fixtures.ts'
import { cloudTrailRecord, scheduledEnvelope } from '../../unit/lifecycle/cloudtrail-fixtures.ts'
import { type CountingProxy, startCountingProxy } from '../harness/counting-proxy.ts'
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, MOTO_ACCOUNT_ID } from '../harness/moto.ts'
import { useMoto } from '../harness/use-moto.ts'
import { SecretSeeder, uniqueName } from './fixtures.ts'
import {
  createFlowWiring,
  eventBridgeEnvelope,
  type FlowWiring,
  flowCatalog,
  receiveDeliveries,
  scanTable,
} from './flow-wiring.ts'
import { type ChangeWiring, createChangeWiring } from './rotation-wiring.ts'

type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>

const moto = useMoto()
let wiring: FlowWiring
let changes: ChangeWiring
let proxy: CountingProxy
let seeder: SecretSeeder
let dir: string
let resolve: Handler<EventBridgeEvent<string, unknown>, void>
let rotate: Handler<EventBridgeEvent<string, unknown>, void>
let bindings: Handler<ReturnType<typeof httpApiEvent>, APIGatewayProxyStructuredResultV2>
const logs: string[] = []
const delivered: string[] = []

const app = uniqueName('checkout')
const dbKey = `rds/${app}-prod`
const stripeKey = `apps/${app}/stripe`
const bundleKey = `capbroker/${app}/prod`
const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`
const values = { pw1: secret('pw'), pw2: secret('pw'), pw3: secret('pw'), sk: secret('sk') }
const database = (password: string) =>
  JSON.stringify({ host: 'db.internal', port: 5432, dbname: 'orders', username: 'app', password })
const versions: Record<string, string> = {}
const arns: Record<string, string> = {}
const ROTATE_RULE = `arn:aws:events:${AWS_TEST_REGION}:${MOTO_ACCOUNT_ID}:rule/capbroker-test-rotate-schedule`

beforeAll(async () => {
  wiring = await createFlowWiring(moto.endpoint)
  changes = await createChangeWiring(wiring.events, wiring.sqs)
  proxy = await startCountingProxy(moto.endpoint)
  seeder = new SecretSeeder(moto.endpoint)
  versions.db1 = await seeder.seed(dbKey, database(values.pw1))
  await seeder.seed(stripeKey, values.sk)
  for (const key of [dbKey, stripeKey])
    arns[key] = (await seeder.client.send(new DescribeSecretCommand({ SecretId: key }))).ARN!
  const digestKeySecret = uniqueName('capbroker-test/digest-key')
  await seeder.seed(digestKeySecret, randomBytes(32).toString('base64'))

  dir = mkdtempSync(join(tmpdir(), 'capbroker-rotation-'))
  writePackagedCatalog(dir, flowCatalog(moto.endpoint))
  vi.stubEnv('LAMBDA_TASK_ROOT', dir)
  vi.stubEnv('CAPBROKER_EVENT_BUS', wiring.busName)
  vi.stubEnv('CAPBROKER_STATE_TABLE', wiring.tableName)
  vi.stubEnv('CAPBROKER_AWS_ENDPOINT', proxy.url)
  vi.stubEnv('CAPBROKER_DIGEST_KEY_SECRET', digestKeySecret)
  vi.stubEnv('CAPBROKER_REFRESH_EVERY', '5m')
  vi.stubEnv('CAPBROKER_LOG_LEVEL', 'debug')
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    logs.push(String(chunk))
    return true
  })
  resolve = (await import('../../../functions/resolve.ts')).handler
  rotate = (await import('../../../functions/rotate.ts')).handler
  bindings = (await import('../../../functions/bindings.ts')).handler

  const request = buildEvent(
    EventTypes.requested,
    { id: uniqueName('req'), source: `/apps/${app}`, time: new Date().toISOString() },
    {
      app,
      environment: 'prod',
      capabilities: [
        { name: 'orders-db', type: 'postgres' },
        { name: 'stripe', type: 'secret', params: { key: 'stripe' } },
      ],
    },
  )
  await resolve(eventBridgeEnvelope(request), lambdaContext('resolve'))
  expect((await receive(2)).map((e) => e.type).sort()).toEqual([
    EventTypes.injected,
    EventTypes.resolved,
  ])
})

afterAll(async () => {
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
  seeder?.close()
  wiring?.close()
  await proxy?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function receive(expected: number, quietMs?: number) {
  const deliveries = await receiveDeliveries(wiring, expected, quietMs)
  delivered.push(...deliveries.map((d) => d.body))
  return deliveries.map((d) => parseEvent(d.envelope.detail))
}

async function bundle() {
  const current = await seeder.client.send(new GetSecretValueCommand({ SecretId: bundleKey }))
  const listed = await seeder.client.send(new ListSecretVersionIdsCommand({ SecretId: bundleKey }))
  return {
    value: JSON.parse(current.SecretString ?? '{}'),
    versionId: current.VersionId,
    versions: listed.Versions?.length ?? 0,
  }
}

async function listed() {
  const answer = await bindings(
    httpApiEvent({
      method: 'GET',
      path: `/apps/${app}/environments/prod/bindings`,
      pathParameters: { app, env: 'prod' },
    }),
    lambdaContext('bindings'),
  )
  return JSON.parse(answer.body ?? '{}').bindings as Record<string, unknown>[]
}

/** A CloudTrail record of `eventName` on `key`, through the default bus and the rule, into rotate. */
async function change(eventName: string, key: string) {
  const record = cloudTrailRecord({
    eventName,
    region: AWS_TEST_REGION,
    account: MOTO_ACCOUNT_ID,
    arn: arns[key]!,
  })
  await changes.publish(record)
  const [envelope, ...more] = await changes.receive(1)
  expect(more).toEqual([])
  expect(envelope).toMatchObject({ source: 'aws.secretsmanager', detail: { eventName } })
  await rotate(envelope!, lambdaContext('rotate'))
  return record
}

describe('rotation on the AWS wiring', () => {
  it('writes nothing when nothing changed: an UpdateSecret of the description, a scheduled sweep', async () => {
    const before = await bundle()
    proxy.resetCounts()
    await seeder.client.send(
      new UpdateSecretCommand({ SecretId: dbKey, Description: 'orders database' }),
    )
    await change('UpdateSecret', dbKey)
    await rotate(
      scheduledEnvelope('2030-01-01T10:00:00Z', ROTATE_RULE) as never,
      lambdaContext('rotate'),
    )
    expect(proxy.count('BatchGetSecretValue')).toBeGreaterThan(0)
    for (const operation of ['PutSecretValue', 'CreateSecret', 'PutEvents'])
      expect(proxy.count(operation), operation).toBe(0)
    const after = await bundle()
    expect(after.versionId).toBe(before.versionId)
    expect(after.versions).toBe(before.versions)
    expect(await receive(0, 1500)).toEqual([])
  })

  it('PutSecretValue: re-injects within seconds, a new bundle version, binding.rotated', async () => {
    const before = await bundle()
    versions.db2 = await seeder.seed(dbKey, database(values.pw2))
    const started = Date.now()
    const record = await change('PutSecretValue', dbKey)
    const after = await bundle()
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(after.versionId).not.toBe(before.versionId)
    expect(after.value['orders-db'].password).toBe(values.pw2)
    expect(after.value.stripe).toEqual(before.value.stripe)
    const events = await receive(2)
    expect(events.map((e) => e.type).sort()).toEqual([EventTypes.injected, EventTypes.rotated])
    expect(events.find((e) => e.type === EventTypes.rotated)?.data).toEqual({
      app,
      environment: 'prod',
      name: 'orders-db',
      type: 'postgres',
      store: 'aws',
      key: dbKey,
      previousVersion: versions.db1,
      version: versions.db2,
      entries: ['type', 'provider', 'host', 'port', 'database', 'username', 'password'],
    })
    expect(events.find((e) => e.type === EventTypes.injected)?.data).toMatchObject({
      sink: 'store',
      location: bundleKey,
      version: after.versionId,
      request: { source: 'aws.secretsmanager', id: record.eventID },
    })
    expect((await listed()).find((b) => b.name === 'orders-db')).toMatchObject({
      status: 'ready',
      version: versions.db2,
      lastRotatedAt: expect.any(String),
    })
    const state = new DynamoDbStateStore({
      tableName: wiring.tableName,
      region: AWS_TEST_REGION,
      endpoint: moto.endpoint,
      credentials: AWS_TEST_CREDENTIALS,
    })
    const audit = await state.listAudit({ app, environment: 'prod' })
    await state.close()
    expect(audit.find((e) => e.kind === 'rotated')).toMatchObject({
      names: ['orders-db'],
      trigger: { source: 'aws.secretsmanager', id: record.eventID },
    })
  })

  it('RotateSecret: nothing while the rotation runs; RotationSucceeded re-injects the new value', async () => {
    const before = await bundle()
    await change('RotateSecret', dbKey)
    expect((await bundle()).versionId).toBe(before.versionId)
    expect(await receive(0, 1500)).toEqual([])
    // The rotation Lambda's finishSecret makes the new version current.
    versions.db3 = await seeder.seed(dbKey, database(values.pw3))
    await change('RotationSucceeded', dbKey)
    const after = await bundle()
    expect(after.value['orders-db'].password).toBe(values.pw3)
    expect(after.versions).toBe(before.versions + 1)
    const rotated = (await receive(2)).find((e) => e.type === EventTypes.rotated)
    expect(rotated?.data).toMatchObject({ previousVersion: versions.db2, version: versions.db3 })
  })

  it('a deleted secret leaves its binding stale since the sweep that found it, and still bundled', async () => {
    const before = await bundle()
    await seeder.client.send(
      new DeleteSecretCommand({ SecretId: stripeKey, ForceDeleteWithoutRecovery: true }),
    )
    await rotate(
      scheduledEnvelope('2030-01-01T11:00:00Z', ROTATE_RULE) as never,
      lambdaContext('rotate'),
    )
    const stripe = (await listed()).find((b) => b.name === 'stripe')
    expect(stripe).toMatchObject({
      status: 'stale',
      staleSince: expect.any(String),
      reason: { code: 'NOT_FOUND' },
    })
    expect((await listed()).find((b) => b.name === 'orders-db')?.status).toBe('ready')
    const after = await bundle()
    expect(after.versionId).toBe(before.versionId)
    expect(after.value.stripe.value).toBe(values.sk)
    expect(await receive(0, 1500)).toEqual([])
  })

  it('release (as github and notify call it): the key leaves the bundle and the state; twice is a no-op', async () => {
    const { createBroker } = await import('../../../functions/aws-broker.ts')
    const { createEventBus, createStateStore } = await import('../../../functions/host.ts')
    const state = createStateStore(process.env)
    const { broker, stores } = createBroker(process.env, {
      bus: createEventBus(process.env),
      state,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    })
    const release = () =>
      broker.release({
        app,
        environment: 'prod',
        names: ['stripe'],
        reason: 'removed from score.yaml in abc1234',
        request: { source: 'https://github.com/acme/checkout', id: 'gh-delivery-1' },
      })
    const before = await bundle()
    expect((await release()).released).toEqual(['stripe'])
    const after = await bundle()
    expect(Object.keys(after.value)).toEqual(['orders-db'])
    expect(after.versions).toBe(before.versions + 1)
    expect((await listed()).map((b) => b.name)).toEqual(['orders-db'])
    const [event, ...more] = await receive(1)
    expect(more).toEqual([])
    expect(event?.type).toBe(EventTypes.released)
    expect(event?.data).toEqual({
      app,
      environment: 'prod',
      name: 'stripe',
      type: 'secret',
      reason: 'removed from score.yaml in abc1234',
    })
    expect((await release()).released).toEqual([])
    expect((await bundle()).versionId).toBe(after.versionId)
    expect(await receive(0, 1500)).toEqual([])
    await stores.close()
    await state.close()
  })

  it('keeps every value out of the logs, the delivered events and the state table', async () => {
    const table = await scanTable(wiring)
    const logged = logs.join('')
    expect(logged).toMatch(/"function":"rotate"/)
    expect(table).toContain(dbKey)
    expect(table).toContain('hmac-sha256:')
    expect(delivered.length).toBeGreaterThanOrEqual(6)
    for (const [name, value] of Object.entries(values)) {
      expect(logged.includes(value), `${name} in logs`).toBe(false)
      expect(delivered.join('\n').includes(value), `${name} in events`).toBe(false)
      expect(table.includes(value), `${name} in DynamoDB`).toBe(false)
    }
  })
})
