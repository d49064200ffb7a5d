/**
 * The AWS side of the Lambda flow, built in moto with the SDK (never through the code
 * under test): the state table, a custom bus whose rule sends every capbroker event to
 * an SQS queue, and readers that return what EventBridge delivered — the whole envelope,
 * as a Lambda target would receive it, and the raw message body.
 */

import { randomUUID } from 'node:crypto'
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb'
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import type { EventBridgeEvent } from 'aws-lambda'
import { createStateTable } from '../../../adapters/dynamodb/index.ts'
import type { AnyCloudEvent } from '../../../events/index.ts'
import { AWS_TEST_REGION, MOTO_ACCOUNT_ID } from '../harness/moto.ts'
import { directClientConfig, uniqueName } from './fixtures.ts'

/** The rule of the flow: the detail-type prefixes of requests, outcomes and bindings. */
export const CAPBROKER_EVENTS_PATTERN = {
  'detail-type': [{ prefix: 'io.capbroker.capability.' }, { prefix: 'io.capbroker.binding.' }],
}

/** What the flow test needs from moto, and the clients that built it. */
export interface FlowWiring {
  readonly busName: string
  readonly tableName: string
  readonly queueUrl: string
  readonly sqs: SQSClient
  readonly events: EventBridgeClient
  readonly dynamodb: DynamoDBClient
  close(): void
}

/** Creates the table, the bus, the queue and the rule targeting it. */
export async function createFlowWiring(endpoint: string): Promise<FlowWiring> {
  const config = directClientConfig(endpoint)
  const events = new EventBridgeClient(config)
  const sqs = new SQSClient(config)
  const dynamodb = new DynamoDBClient(config)
  const tableName = uniqueName('capbroker-flow-state')
  await createStateTable(dynamodb, tableName)
  const busName = uniqueName('capbroker-flow-bus')
  await events.send(new CreateEventBusCommand({ Name: busName }))
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: uniqueName('capbroker-flow-events') }),
  )
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  )
  const rule = uniqueName('capbroker-flow-rule')
  await events.send(
    new PutRuleCommand({
      Name: rule,
      EventBusName: busName,
      EventPattern: JSON.stringify(CAPBROKER_EVENTS_PATTERN),
    }),
  )
  await events.send(
    new PutTargetsCommand({
      Rule: rule,
      EventBusName: busName,
      Targets: [{ Id: 'all-events', Arn: Attributes!.QueueArn! }],
    }),
  )
  return {
    busName,
    tableName,
    queueUrl: QueueUrl!,
    sqs,
    events,
    dynamodb,
    close() {
      sqs.destroy()
      events.destroy()
      dynamodb.destroy()
    },
  }
}

/** One delivered message: the EventBridge envelope and the body exactly as it arrived. */
export interface Delivery {
  readonly envelope: EventBridgeEvent<string, unknown>
  readonly body: string
}

/**
 * Receives until `expected` messages arrived and then `quietMs` passed without another
 * (so a duplicate delivery is caught too), deleting what it read.
 */
export async function receiveDeliveries(
  wiring: FlowWiring,
  expected: number,
  quietMs = 1000,
): Promise<Delivery[]> {
  const delivered: Delivery[] = []
  const started = Date.now()
  let lastNew = Date.now()
  while (delivered.length < expected || Date.now() - lastNew < quietMs) {
    if (Date.now() - started > 20_000) break
    const { Messages = [] } = await wiring.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: wiring.queueUrl, MaxNumberOfMessages: 10 }),
    )
    if (Messages.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      continue
    }
    lastNew = Date.now()
    for (const message of Messages) {
      const body = message.Body ?? ''
      delivered.push({ envelope: JSON.parse(body), body })
    }
    await wiring.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: wiring.queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    )
  }
  return delivered
}

/** Every item of the state table, as the raw DynamoDB JSON. */
export async function scanTable(wiring: FlowWiring): Promise<string> {
  const items: unknown[] = []
  let start: Record<string, unknown> | undefined
  do {
    const page = await wiring.dynamodb.send(
      new ScanCommand({ TableName: wiring.tableName, ExclusiveStartKey: start as never }),
    )
    items.push(...(page.Items ?? []))
    start = page.LastEvaluatedKey
  } while (start !== undefined)
  return JSON.stringify(items)
}

/**
 * The catalog of the flow: Secrets Manager at `endpoint`, bundles per app in `prod`, and
 * policies for the per-run app names (`checkout-<hex>`, `billing-<hex>`).
 */
export const flowCatalog = (endpoint: string) => `version: 1
stores:
  aws: { adapter: aws-secrets-manager, region: ${AWS_TEST_REGION}, endpoint: "${endpoint}" }
environments:
  prod:
    inject: { to: store, store: aws, name: "capbroker/{app}/{environment}" }
classes:
  - type: postgres
    environments: [prod]
    store: aws
    key: "rds/{app}-{environment}"
    outputs: { host: host, port: port, database: dbname, username: username, password: password }
    secret: [password]
  - type: secret
    store: aws
    key: "apps/{app}/{params.key}"
policies:
  - apps: ["checkout-*", "billing-*"]
    environments: [prod]
    types: [postgres, secret]
    keys: ["rds/*-prod", "apps/*/*"]
`

/** The envelope a rule delivers to its Lambda target (the EventBridge event structure). */
export function eventBridgeEnvelope(detail: AnyCloudEvent): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detail.type,
    source: detail.source,
    account: MOTO_ACCOUNT_ID,
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: AWS_TEST_REGION,
    resources: [],
    detail: JSON.parse(JSON.stringify(detail)),
  }
}
