/**
 * `slack` — HTTP API `POST /chatops/slack`: the same code as the embedded server
 * (server/chatops.ts). It verifies and acknowledges within Slack's 3 seconds and puts
 * the work on the chat queue (`CAPBROKER_CHAT_QUEUE_URL`); `notify` does it and posts
 * the outcome to the command's response_url. The queue, not the event bus, carries the
 * job: a response_url is a bearer URL that only `notify` should see.
 */
import { AwsJsonClient, SQS } from '../adapters/aws-common/json-client.ts'
import { validateAwsClientOptions } from '../adapters/aws-common/options.ts'
import { StoreSet } from '../adapters/store-set.ts'
import type { ChatJob } from '../broker/triggers/chat-ops.ts'
import { ReplayGuard } from '../broker/triggers/slack-signature.ts'
import { TriggerSecrets } from '../broker/triggers/trigger-secrets.ts'
import { handleSlackCommand, type SlackCommandDependencies } from '../server/chatops.ts'
import { readPackagedCatalog } from './aws-broker.ts'
import { awsStoreRegistry } from './aws-stores.ts'
import {
  catalogPath,
  type FunctionEnvironment,
  readAwsClientSettings,
  requireVariable,
} from './environment.ts'
import { createHostLogger, lazy, prewarm } from './host.ts'
import {
  type FunctionOptions,
  httpFunction,
  invocationFacts,
  jsonResponse,
  requestBody,
} from './middleware.ts'

/** What `slack` needs: the command's dependencies (built once per execution environment). */
export interface SlackFunctionDependencies extends FunctionOptions {
  readonly commands: () => SlackCommandDependencies
}

/** Builds the `slack` handler over its dependencies. */
export function createSlackHandler(deps: SlackFunctionDependencies) {
  return httpFunction(deps, async function receiveSlashCommand(event, context) {
    const reply = await handleSlackCommand(deps.commands(), {
      headers: event.headers,
      body: requestBody(event),
    })
    invocationFacts(context).outcome = String(reply.log?.verdict ?? reply.status)
    return jsonResponse(reply.status, reply.body, reply.headers)
  })
}

/** Sends chat jobs to the queue `notify` reads (`CAPBROKER_CHAT_QUEUE_URL`). */
export function chatQueue(env: FunctionEnvironment): (job: ChatJob) => Promise<void> {
  const queueUrl = requireVariable(env, 'CAPBROKER_CHAT_QUEUE_URL', 'the URL of the chat queue')
  // Two attempts of at most a second each: Slack wants its answer within 3 seconds.
  const settings = { ...readAwsClientSettings(env), maxAttempts: 2, requestTimeoutMs: 1000 }
  const client = new AwsJsonClient(SQS, validateAwsClientOptions(settings, 'sqs'))
  return async function sendChatJob(job) {
    await client.call('SendMessage', { QueueUrl: queueUrl, MessageBody: JSON.stringify(job) })
  }
}

const env = process.env
const logger = createHostLogger(env)
const commands = lazy((): SlackCommandDependencies => {
  const catalog = readPackagedCatalog(catalogPath(env))
  const stores = new StoreSet(catalog.stores, awsStoreRegistry(readAwsClientSettings(env)), {
    home: '',
    cwd: process.cwd(),
  })
  return {
    slack: catalog.document.chatops?.slack,
    secrets: new TriggerSecrets({
      stores: (n) => stores.get(n),
      now: Date.now,
      ttlMs: catalog.cacheTtlMs,
    }),
    replay: new ReplayGuard(),
    clock: () => new Date(),
    logger,
    schedule: chatQueue(env),
  }
})
prewarm(env, logger, commands)

/** The Lambda entry point (`functions/slack.handler`). */
export const handler = createSlackHandler({ name: 'slack', logger, commands })
