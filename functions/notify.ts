/**
 * `notify` — the chat queue's consumer: does the work a slash command asked for
 * (request, release, status) with the broker, and posts the outcome to the command's
 * response_url — the same code the embedded server runs in its background
 * (notifyChatOutcome). A post Slack could not take now is retried by the queue; a job
 * that can never succeed is logged and dropped.
 */
import type { SQSBatchResponse } from 'aws-lambda'
import { SlackResponder } from '../adapters/slack/responder.ts'
import { BrokerError, isRetryable } from '../broker/errors.ts'
import { parseChatJob } from '../broker/triggers/chat-ops.ts'
import { type NotifyDependencies, notifyChatOutcome } from '../server/chatops.ts'
import { createHostLogger, createStateStore, lazy, prewarm } from './host.ts'
import { type FunctionOptions, queueFunction } from './middleware.ts'
import { createRecordingBroker } from './recording-broker.ts'

/** What `notify` needs (built once per execution environment). */
export interface NotifyFunctionDependencies extends FunctionOptions {
  readonly notify: () => NotifyDependencies
}

/** Builds the `notify` handler: one job per SQS record, partial batch failures. */
export function createNotifyHandler(deps: NotifyFunctionDependencies) {
  return queueFunction(deps, async function postChatOutcomes(event) {
    const failures: SQSBatchResponse['batchItemFailures'] = []
    for (const record of event.Records) {
      let job: ReturnType<typeof parseChatJob>
      try {
        job = parseChatJob(JSON.parse(record.body))
      } catch (error) {
        // V8's JSON errors quote the input, which holds a response_url: name only.
        const why = error instanceof SyntaxError ? 'not JSON' : (error as Error).message
        deps.logger.warn('chat job dropped', { messageId: record.messageId, error: why })
        continue
      }
      try {
        await notifyChatOutcome(deps.notify(), job)
      } catch (error) {
        if (isRetryable(error)) failures.push({ itemIdentifier: record.messageId })
        else
          deps.logger.error('chat job failed', {
            messageId: record.messageId,
            error: error instanceof BrokerError ? error.message : (error as Error).name,
          })
      }
    }
    return { batchItemFailures: failures }
  })
}

const env = process.env
const logger = createHostLogger(env)
const notify = lazy((): NotifyDependencies => {
  const state = createStateStore(env)
  // A chat request records bindings like resolve: with their digests.
  const { broker, catalog } = createRecordingBroker(env, logger, state)
  return {
    slack: catalog.document.chatops?.slack,
    responder: new SlackResponder(),
    handle: (request) => broker.handle(request),
    release: (request) => broker.release(request),
    listBindings: (target) => state.listBindings(target),
    logger,
  }
})
prewarm(env, logger, notify)

/** The Lambda entry point (`functions/notify.handler`). */
export const handler = createNotifyHandler({ name: 'notify', logger, notify })
