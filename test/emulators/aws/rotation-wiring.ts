/**
 * What delivers Secrets Manager changes to `rotate` on AWS, rebuilt in moto: a rule on
 * the account's default bus (where CloudTrail events arrive) with the rotate function's
 * event pattern, targeting an SQS queue the test reads — so a record only reaches the
 * handler if the pattern lets it through, in the envelope EventBridge gives it.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import type { EventBridgeEvent } from 'aws-lambda'
import { detailTypeOf } from '../../unit/lifecycle/cloudtrail-fixtures.ts'
import { uniqueName } from './fixtures.ts'

/**
 * The rotate function's Secrets Manager rule, exactly as serverless.yml declares it:
 * API calls and the service event that can change a secret's current value.
 */
export const ROTATE_CHANGE_PATTERN = {
  source: ['aws.secretsmanager'],
  'detail-type': ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
  detail: {
    eventSource: ['secretsmanager.amazonaws.com'],
    eventName: [
      'PutSecretValue',
      'UpdateSecret',
      'RotateSecret',
      'RotationSucceeded',
      'UpdateSecretVersionStage',
    ],
  },
}

/** The queue standing in for the rotate function, and how to feed it. */
export interface ChangeWiring {
  /** Puts a CloudTrail record on the default bus, as CloudTrail does. */
  publish(record: Record<string, unknown>): Promise<void>
  /** What the rule delivered (the envelopes), waiting until `expected` arrived and then `quietMs` more. */
  receive(expected: number, quietMs?: number): Promise<EventBridgeEvent<string, unknown>[]>
}

/** Creates the rule on the default bus and its queue. */
export async function createChangeWiring(
  events: EventBridgeClient,
  sqs: SQSClient,
): Promise<ChangeWiring> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: uniqueName('capbroker-rotate') }),
  )
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  )
  const rule = uniqueName('capbroker-rotate-changes')
  await events.send(
    new PutRuleCommand({
      Name: rule,
      EventBusName: 'default',
      EventPattern: JSON.stringify(ROTATE_CHANGE_PATTERN),
    }),
  )
  await events.send(
    new PutTargetsCommand({
      Rule: rule,
      EventBusName: 'default',
      Targets: [{ Id: 'rotate', Arn: Attributes!.QueueArn! }],
    }),
  )
  return {
    async publish(record) {
      const answer = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: 'default',
              Source: 'aws.secretsmanager',
              DetailType: detailTypeOf(String(record.eventName)),
              Detail: JSON.stringify(record),
            },
          ],
        }),
      )
      if (answer.FailedEntryCount) throw new Error('PutEvents refused the record')
    },
    async receive(expected, quietMs = 1000) {
      const out: EventBridgeEvent<string, unknown>[] = []
      const started = Date.now()
      let last = Date.now()
      while (out.length < expected || Date.now() - last < quietMs) {
        if (Date.now() - started > 20_000) break
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }),
        )
        if (Messages.length === 0) {
          await new Promise((r) => setTimeout(r, 100))
          continue
        }
        last = Date.now()
        out.push(...Messages.map((m) => JSON.parse(m.Body ?? '{}')))
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        )
      }
      return out
    },
  }
}
