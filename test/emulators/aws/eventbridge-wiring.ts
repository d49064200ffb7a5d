/**
 * Builds an EventBridge bus whose rule (`detail-type` prefix `io.capbroker.`) targets an
 * SQS queue in moto, and reads what arrives — so a test checks what EventBridge
 * actually delivered, not what the adapter sent.
 */
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
import { buildEvent, type CloudEvent, EventTypes } from '../../../events/index.ts'
import { directClientConfig, uniqueName } from './fixtures.ts'

/** A bus wired to a queue, and the clients that built it. */
export interface BusToQueue {
  readonly busName: string
  readonly queueUrl: string
  readonly sqs: SQSClient
  readonly events: EventBridgeClient
  close(): void
}

/** Creates bus, queue, rule and target with the SDK, directly against moto. */
export async function createBusToQueue(endpoint: string): Promise<BusToQueue> {
  const events = new EventBridgeClient(directClientConfig(endpoint))
  const sqs = new SQSClient(directClientConfig(endpoint))
  const busName = uniqueName('capbroker-bus')
  await events.send(new CreateEventBusCommand({ Name: busName }))
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: uniqueName('capbroker-outcomes') }),
  )
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  )
  const rule = uniqueName('capbroker-rule')
  await events.send(
    new PutRuleCommand({
      Name: rule,
      EventBusName: busName,
      EventPattern: JSON.stringify({ 'detail-type': [{ prefix: 'io.capbroker.' }] }),
    }),
  )
  await events.send(
    new PutTargetsCommand({
      Rule: rule,
      EventBusName: busName,
      Targets: [{ Id: 'outcomes', Arn: Attributes!.QueueArn! }],
    }),
  )
  return {
    busName,
    queueUrl: QueueUrl!,
    sqs,
    events,
    close() {
      sqs.destroy()
      events.destroy()
    },
  }
}

/** One message as EventBridge delivered it to SQS. */
export interface DeliveredEvent {
  readonly source: string
  readonly detailType: string
  readonly detail: unknown
}

/**
 * Receives until `expected` messages arrived or `quietMs` passed without a new one
 * (so extra, duplicate deliveries are caught too), deleting what it read.
 */
export async function receiveAll(
  wiring: BusToQueue,
  expected: number,
  quietMs = 750,
): Promise<DeliveredEvent[]> {
  const delivered: DeliveredEvent[] = []
  let lastNew = Date.now()
  while (Date.now() - lastNew < quietMs || delivered.length < expected) {
    if (Date.now() - lastNew > 15_000) break
    const { Messages = [] } = await wiring.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: wiring.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    )
    if (Messages.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      continue
    }
    lastNew = Date.now()
    for (const message of Messages) {
      const body = JSON.parse(message.Body ?? '{}')
      delivered.push({ source: body.source, detailType: body['detail-type'], detail: body.detail })
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

/** `count` small, valid `binding.injected` events with distinct ids. */
export function injectedEvents(
  count: number,
  runId: string,
): CloudEvent<typeof EventTypes.injected>[] {
  return Array.from({ length: count }, (_, i) =>
    buildEvent(
      EventTypes.injected,
      {
        id: `${runId}-${i}`,
        source: '/apps/checkout',
        time: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
      },
      {
        app: 'checkout',
        environment: 'dev',
        sink: 'service-binding',
        location: `.capbroker/bindings/${i}`,
        bindings: [{ name: 'db' }],
      },
    ),
  )
}
