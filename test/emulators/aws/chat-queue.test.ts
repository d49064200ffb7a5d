/**
 * The `slack` function's chat queue on moto: a job it sends (SQS SendMessage through the
 * JSON client) is what a consumer reading the queue with the SDK receives — the way
 * Lambda's event source mapping hands it to `notify`.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChatJob } from '../../../broker/triggers/chat-ops.ts'
import { chatQueue } from '../../../functions/slack.ts'
import { AWS_TEST_REGION } from '../harness/moto.ts'
import { useMoto } from '../harness/use-moto.ts'
import { directClientConfig, uniqueName } from './fixtures.ts'

const moto = useMoto()
let sqs: SQSClient
let queueUrl: string

beforeAll(async () => {
  sqs = new SQSClient(directClientConfig(moto.endpoint))
  const created = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('chat') }))
  queueUrl = created.QueueUrl as string
})

afterAll(async () => {
  await sqs?.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {})
  sqs?.destroy()
})

describe('the chat queue', () => {
  it('carries a job from slack to the queue’s consumer unchanged', async () => {
    const send = chatQueue({
      AWS_REGION: AWS_TEST_REGION,
      CAPBROKER_AWS_ENDPOINT: moto.endpoint,
      CAPBROKER_CHAT_QUEUE_URL: queueUrl,
    })
    const job = {
      kind: 'request',
      app: 'checkout',
      environment: 'dev',
      responseUrl: 'https://hooks.slack.invalid/commands/T1/1/x',
    } as unknown as ChatJob
    await send(job)
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    )
    expect(received.Messages?.map((m) => JSON.parse(m.Body ?? ''))).toEqual([job])
  })

  it('fails with the service’s code when the queue does not exist', async () => {
    const send = chatQueue({
      AWS_REGION: AWS_TEST_REGION,
      CAPBROKER_AWS_ENDPOINT: moto.endpoint,
      CAPBROKER_CHAT_QUEUE_URL: `${queueUrl}-missing`,
    })
    await expect(send({} as ChatJob)).rejects.toMatchObject({
      name: expect.stringMatching(/NonExistentQueue|QueueDoesNotExist/),
    })
  })
})
