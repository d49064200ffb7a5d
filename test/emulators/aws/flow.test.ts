/**
 * The Lambda functions against moto, end to end: the real handlers (imported as Lambda
 * would import them, configured only through their environment) with every AWS call
 * going through a counting proxy to moto. What happened is read back with the SDK:
 * the bundle secret from Secrets Manager, the events EventBridge delivered to SQS, the
 * binding records in DynamoDB — and that no secret value is in any of them but the bundle.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager'
import type { APIGatewayProxyStructuredResultV2, EventBridgeEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  buildEvent,
  type CapabilityRequest,
  EventTypes,
  parseEvent,
} from '../../../events/index.ts'
import { writePackagedCatalog } from '../../support/packaged-catalog.ts'
import { httpApiEvent, lambdaContext } from '../../unit/functions/fixtures.ts'
import { type CountingProxy, startCountingProxy } from '../harness/counting-proxy.ts'
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

type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>

const moto = useMoto()
let wiring: FlowWiring
let proxy: CountingProxy
let seeder: SecretSeeder
let dir: string
let resolve: Handler<EventBridgeEvent<string, unknown>, void>
let ingest: Handler<ReturnType<typeof httpApiEvent>, APIGatewayProxyStructuredResultV2>
let bindings: Handler<ReturnType<typeof httpApiEvent>, APIGatewayProxyStructuredResultV2>
const logs: string[] = []
const deliveredBodies: string[] = []

const app = uniqueName('checkout')
const partial = uniqueName('billing')
const secretValue = (label: string) => `${label}-${randomBytes(12).toString('hex')}`
const values = {
  password: secretValue('pg-password'),
  apiKey: secretValue('sk_live'),
  otherPassword: secretValue('pg-password'),
  otherKey: secretValue('sk_live'),
}
const versions: Record<string, string> = {}

beforeAll(async () => {
  wiring = await createFlowWiring(moto.endpoint)
  proxy = await startCountingProxy(moto.endpoint)
  seeder = new SecretSeeder(moto.endpoint)
  const database = (password: string) =>
    JSON.stringify({ host: 'db.internal', port: 5432, dbname: 'orders', username: 'app', password })
  versions.db = await seeder.seed(`rds/${app}-prod`, database(values.password))
  versions.key = await seeder.seed(`apps/${app}/stripe`, values.apiKey)
  await seeder.seed(`rds/${partial}-prod`, database(values.otherPassword))
  await seeder.seed(`apps/${partial}/stripe`, values.otherKey)

  dir = mkdtempSync(join(tmpdir(), 'capbroker-flow-'))
  writePackagedCatalog(dir, flowCatalog(moto.endpoint))
  // Exactly what serverless.yml gives the functions; the endpoint is the test-only override.
  vi.stubEnv('LAMBDA_TASK_ROOT', dir)
  vi.stubEnv('CAPBROKER_EVENT_BUS', wiring.busName)
  vi.stubEnv('CAPBROKER_STATE_TABLE', wiring.tableName)
  vi.stubEnv('CAPBROKER_AWS_ENDPOINT', proxy.url)
  vi.stubEnv('CAPBROKER_LOG_LEVEL', 'debug')
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    logs.push(String(chunk))
    return true
  })
  resolve = (await import('../../../functions/resolve.ts')).handler
  ingest = (await import('../../../functions/ingest.ts')).handler
  bindings = (await import('../../../functions/bindings.ts')).handler
})

afterAll(async () => {
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
  seeder?.close()
  wiring?.close()
  await proxy?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function requested(forApp: string, capabilities: CapabilityRequest[]) {
  return buildEvent(
    EventTypes.requested,
    { id: uniqueName('req'), source: `/apps/${forApp}`, time: new Date().toISOString() },
    { app: forApp, environment: 'prod', capabilities },
  )
}

async function receive(expected: number, quietMs?: number) {
  const deliveries = await receiveDeliveries(wiring, expected, quietMs)
  deliveredBodies.push(...deliveries.map((d) => d.body))
  return deliveries.map((d) => ({ ...d, event: parseEvent(d.envelope.detail) }))
}

async function bundle(forApp: string) {
  const secret = await seeder.client.send(
    new GetSecretValueCommand({ SecretId: `capbroker/${forApp}/prod` }),
  )
  const listed = await seeder.client.send(
    new ListSecretVersionIdsCommand({ SecretId: `capbroker/${forApp}/prod` }),
  )
  return {
    value: JSON.parse(secret.SecretString ?? '{}'),
    versionId: secret.VersionId,
    versions: listed.Versions?.length ?? 0,
  }
}

const both: CapabilityRequest[] = [
  { name: 'orders-db', type: 'postgres' },
  { name: 'stripe', type: 'secret', params: { key: 'stripe' } },
]
const first = requested(app, both)
const firstDelivery = eventBridgeEnvelope(first)

describe('the Lambda flow on moto', () => {
  it('resolves a requested event from EventBridge: reads, bundle, outcome events, state', async () => {
    proxy.resetCounts()
    await resolve(firstDelivery, lambdaContext('resolve'))
    // Both capabilities in one batch read from moto, before the sink creates the bundle.
    const calls = proxy.seen.map((r) => r.operation).filter((o) => o.startsWith('secretsmanager.'))
    expect(calls[0]).toBe('secretsmanager.BatchGetSecretValue')
    expect(calls).toContain('secretsmanager.CreateSecret')

    expect((await bundle(app)).value).toEqual({
      'orders-db': {
        type: 'postgres',
        provider: 'aws-secrets-manager',
        host: 'db.internal',
        port: '5432',
        database: 'orders',
        username: 'app',
        password: values.password,
      },
      stripe: { type: 'secret', provider: 'aws-secrets-manager', value: values.apiKey },
    })

    const delivered = await receive(2)
    expect(delivered.map((d) => d.envelope['detail-type']).sort()).toEqual([
      EventTypes.injected,
      EventTypes.resolved,
    ])
    const outcome = delivered.find((d) => d.event.type === EventTypes.resolved)?.event
    expect(outcome?.data).toMatchObject({
      app,
      request: { source: first.source, id: first.id },
      capabilities: [
        { name: 'orders-db', status: 'ready', key: `rds/${app}-prod`, version: versions.db },
        { name: 'stripe', status: 'ready', key: `apps/${app}/stripe`, version: versions.key },
      ],
    })
    const injected = delivered.find((d) => d.event.type === EventTypes.injected)?.event
    expect(injected?.data).toMatchObject({
      sink: 'store',
      location: `capbroker/${app}/prod`,
      version: (await bundle(app)).versionId,
    })

    const listed = await bindings(
      httpApiEvent({
        method: 'GET',
        path: `/apps/${app}/environments/prod/bindings`,
        pathParameters: { app, env: 'prod' },
      }),
      lambdaContext('bindings'),
    )
    expect(listed.statusCode).toBe(200)
    expect(JSON.parse(listed.body ?? '{}').bindings).toEqual([
      expect.objectContaining({
        name: 'orders-db',
        version: versions.db,
        secretEntries: ['password'],
      }),
      expect.objectContaining({ name: 'stripe', version: versions.key, sink: 'store' }),
    ])
  })

  it('does nothing on a redelivery: no read, no new bundle version, no event', async () => {
    const before = await bundle(app)
    proxy.resetCounts()
    await resolve(firstDelivery, lambdaContext('resolve', 'redelivery'))
    const after = await bundle(app)
    expect(after.versionId).toBe(before.versionId)
    expect(after.versions).toBe(before.versions)
    expect(await receive(0, 1500)).toEqual([])
    for (const operation of ['BatchGetSecretValue', 'PutSecretValue', 'CreateSecret', 'PutEvents'])
      expect(proxy.count(operation), operation).toBe(0)
  })

  it('ingests over HTTP onto the bus; the delivered event resolves as is', async () => {
    const event = requested(app, both)
    const response = await ingest(
      httpApiEvent({
        path: '/events',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(event),
        base64: true,
      }),
      lambdaContext('ingest'),
    )
    expect(response.statusCode).toBe(202)
    const [delivery, ...extra] = await receive(1)
    expect(extra).toEqual([])
    expect(delivery?.event).toEqual(event)
    // The hand-made envelope above has every field moto delivers (moto leaves out
    // `account`, which EventBridge sends and the handler does not read).
    expect(Object.keys(firstDelivery)).toEqual(
      expect.arrayContaining(Object.keys(delivery?.envelope ?? {})),
    )
    expect(Object.keys(delivery?.envelope ?? {})).toEqual(
      expect.arrayContaining([
        'version',
        'id',
        'detail-type',
        'source',
        'time',
        'region',
        'detail',
      ]),
    )
    expect(delivery?.envelope).toMatchObject({
      'detail-type': EventTypes.requested,
      source: event.source,
    })

    await resolve(delivery!.envelope, lambdaContext('resolve'))
    const outcomes = await receive(2)
    expect(outcomes.map((d) => d.event.type)).toContain(EventTypes.resolved)
  })

  it('fails a request with one missing key (NOT_FOUND) and injects the two that are ready', async () => {
    const event = requested(partial, [
      ...both,
      { name: 'sendgrid', type: 'secret', params: { key: 'sendgrid' } },
    ])
    await resolve(eventBridgeEnvelope(event), lambdaContext('resolve'))
    const delivered = await receive(2)
    const failed = delivered.find((d) => d.event.type === EventTypes.failed)?.event
    expect(failed?.type === EventTypes.failed && failed.data.capabilities).toEqual([
      expect.objectContaining({ name: 'orders-db', status: 'ready' }),
      expect.objectContaining({ name: 'stripe', status: 'ready' }),
      expect.objectContaining({
        name: 'sendgrid',
        status: 'failed',
        reason: expect.objectContaining({ code: 'NOT_FOUND' }),
      }),
    ])
    expect(delivered.map((d) => d.event.type)).toContain(EventTypes.injected)
    const written = (await bundle(partial)).value
    expect(Object.keys(written).sort()).toEqual(['orders-db', 'stripe'])
    expect(written.stripe.value).toBe(values.otherKey)
  })

  it('keeps every secret value out of the logs, the delivered events and the state table', async () => {
    const state = await scanTable(wiring)
    const logged = logs.join('')
    // The checks below mean something only if all three were really produced...
    expect(logged).toMatch(/"function":"resolve"/)
    expect(deliveredBodies.length).toBeGreaterThanOrEqual(7)
    expect(state).toContain(`rds/${app}-prod`)
    // ...and the values really are secrets the flow handled: the bundles hold them.
    expect(JSON.stringify([(await bundle(app)).value, (await bundle(partial)).value])).toContain(
      values.otherPassword,
    )
    for (const [name, value] of Object.entries(values)) {
      expect(logged.includes(value), `${name} in logs`).toBe(false)
      expect(deliveredBodies.join('\n').includes(value), `${name} in events`).toBe(false)
      expect(state.includes(value), `${name} in DynamoDB`).toBe(false)
    }
  })
})
