/**
 * The AWS deployment on one machine: serverless.yml run by serverless-offline (HTTP API
 * and the EventBridge rule → resolve delivery), every AWS call answered by moto. An app
 * POSTs a `requested` CloudEvent to /events; ingest puts it on the bus, the rule invokes
 * resolve, the bundle secret appears in Secrets Manager, the outcome events go out on
 * the bus, and GET …/bindings lists what is bound — names only, never a value.
 */
import { randomBytes } from 'node:crypto'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge'
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager'
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createStateTable } from '../../adapters/dynamodb/table.ts'
import { EventTypes } from '../../events/index.ts'
import { type BusToQueue, receiveAll } from '../emulators/aws/eventbridge-wiring.ts'
import { directClientConfig, SecretSeeder } from '../emulators/aws/fixtures.ts'
import { type MotoServer, startMoto } from '../emulators/harness/moto.ts'
import { type AwsRouter, startAwsRouter } from './aws-router.ts'
import {
  chooseOfflinePorts,
  E2E_STAGE,
  type OfflineService,
  startOfflineService,
} from './serverless-offline.ts'

const BUS = `capbroker-${E2E_STAGE}`
const TABLE = `capbroker-${E2E_STAGE}-state`
const BUNDLE = 'capbroker/checkout/prod'
/** A value that must end up in the bundle and nowhere else. */
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`
const STRIPE_KEY = `sk_test_${randomBytes(12).toString('hex')}`

let moto: MotoServer | undefined
let router: AwsRouter | undefined
let service: OfflineService | undefined
let outcomes: BusToQueue | undefined
let seeder: SecretSeeder | undefined

/** The bus, an outcome rule → queue (what an operator would add), the state table. */
async function provision(endpoint: string): Promise<BusToQueue> {
  const events = new EventBridgeClient(directClientConfig(endpoint))
  const sqs = new SQSClient(directClientConfig(endpoint))
  await events.send(new CreateEventBusCommand({ Name: BUS }))
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'capbroker-outcomes' }))
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  )
  await events.send(
    new PutRuleCommand({
      Name: 'capbroker-outcomes',
      EventBusName: BUS,
      EventPattern: JSON.stringify({
        'detail-type': [{ 'anything-but': EventTypes.requested }],
      }),
    }),
  )
  await events.send(
    new PutTargetsCommand({
      Rule: 'capbroker-outcomes',
      EventBusName: BUS,
      Targets: [{ Id: 'outcomes', Arn: Attributes!.QueueArn! }],
    }),
  )
  const dynamodb = new DynamoDBClient(directClientConfig(endpoint))
  await createStateTable(dynamodb, TABLE)
  dynamodb.destroy()
  return {
    busName: BUS,
    queueUrl: QueueUrl!,
    sqs,
    events,
    close() {
      sqs.destroy()
      events.destroy()
    },
  }
}

beforeAll(async () => {
  moto = await startMoto()
  const ports = await chooseOfflinePorts()
  router = await startAwsRouter({
    moto: moto.endpoint,
    eventBridgeMock: `http://127.0.0.1:${ports.eventBridgeMock}`,
  })
  outcomes = await provision(moto.endpoint)
  seeder = new SecretSeeder(moto.endpoint)
  await seeder.seed(
    'rds/checkout-prod',
    JSON.stringify({
      host: 'orders.cluster.internal',
      port: 5432,
      dbname: 'orders',
      username: 'checkout',
      password: PASSWORD,
    }),
  )
  await seeder.seed('apps/checkout/stripe', STRIPE_KEY)
  service = await startOfflineService({ ports, awsEndpoint: router.url })
}, 180_000)

afterAll(async () => {
  await service?.stop()
  await router?.close()
  outcomes?.close()
  seeder?.close()
  await moto?.stop()
})

afterEach((context) => {
  // What the functions logged, and which AWS calls they made, is the story of a failure.
  if (context.task.result?.state === 'fail') {
    console.error(`serverless-offline output:\n${service?.process.outputTail()}`)
    console.error(`AWS calls: ${router?.seen.join(', ')}`)
  }
})

describe('POST /events on the offline deployment', () => {
  it('accepts a requested CloudEvent with 202 and puts it on the bus', async () => {
    const response = await fetch(`${service!.httpUrl}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'e2e-1',
        source: '/apps/checkout',
        type: EventTypes.requested,
        subject: 'checkout/prod',
        datacontenttype: 'application/json',
        data: {
          app: 'checkout',
          environment: 'prod',
          capabilities: [
            { name: 'orders-db', type: 'postgres' },
            { name: 'stripe', type: 'secret', params: { key: 'stripe' } },
          ],
        },
      }),
    })
    const body = await response.text()
    expect(response.status, body).toBe(202)
    expect(JSON.parse(body)).toEqual({ accepted: [{ id: 'e2e-1', source: '/apps/checkout' }] })
  })

  it('resolves it on the bus: resolved and binding.injected go out, names only', async () => {
    const delivered = await receiveAll(outcomes!, 2)
    const types = delivered.map((d) => d.detailType).sort()
    expect(types, service!.process.outputTail()).toEqual([EventTypes.injected, EventTypes.resolved])
    const resolved = delivered.find((d) => d.detailType === EventTypes.resolved)!.detail as {
      subject: string
      data: { capabilities: { name: string; status: string; store: string; key: string }[] }
    }
    expect(resolved.subject).toBe('checkout/prod')
    expect(
      resolved.data.capabilities.map((c) => ({ name: c.name, store: c.store, key: c.key })),
    ).toEqual([
      { name: 'orders-db', store: 'aws', key: 'rds/checkout-prod' },
      { name: 'stripe', store: 'aws', key: 'apps/checkout/stripe' },
    ])
    const injected = delivered.find((d) => d.detailType === EventTypes.injected)!.detail as {
      data: { sink: string; location: string }
    }
    expect(injected.data).toMatchObject({ sink: 'store', location: BUNDLE })
    for (const event of delivered) {
      expect(JSON.stringify(event)).not.toContain(PASSWORD)
      expect(JSON.stringify(event)).not.toContain(STRIPE_KEY)
    }
  })

  it('writes the bundle secret the app reads: capbroker/checkout/prod', async () => {
    const { SecretString } = await seeder!.client.send(
      new GetSecretValueCommand({ SecretId: BUNDLE }),
    )
    expect(JSON.parse(SecretString!)).toEqual({
      'orders-db': {
        type: 'postgres',
        provider: 'aws-secrets-manager',
        host: 'orders.cluster.internal',
        port: '5432',
        database: 'orders',
        username: 'checkout',
        password: PASSWORD,
      },
      stripe: { type: 'secret', provider: 'aws-secrets-manager', value: STRIPE_KEY },
    })
  })

  it('lists the bindings over GET, without a value', async () => {
    const response = await fetch(`${service!.httpUrl}/apps/checkout/environments/prod/bindings`)
    const body = await response.text()
    expect(response.status, body).toBe(200)
    expect(body).not.toContain(PASSWORD)
    expect(body).not.toContain(STRIPE_KEY)
    const names = (JSON.parse(body) as { bindings: { name: string }[] }).bindings.map((b) => b.name)
    expect(names).toEqual(['orders-db', 'stripe'])
  })

  it('reached AWS only through the one endpoint, and the bus through both peers', () => {
    expect(router!.seen).toContain('AWSEvents.PutEvents')
    expect(router!.seen).toContain('secretsmanager.BatchGetSecretValue')
    expect(router!.seen.some((op) => op.startsWith('DynamoDB_20120810.'))).toBe(true)
  })
})
