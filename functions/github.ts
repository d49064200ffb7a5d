/**
 * `github` — HTTP API `POST /webhooks/github`: the same code as the embedded server
 * (server/webhooks.ts). The request goes onto the bus, where `resolve` picks it up (the
 * webhook answers 202 `accepted`); capabilities the push removed are released here.
 */
import { TriggerSecrets } from '../broker/triggers/trigger-secrets.ts'
import {
  createManifestSource,
  type GitHubWebhookDependencies,
  handleGitHubWebhook,
} from '../server/webhooks.ts'
import { createBroker } from './aws-broker.ts'
import { createEventBus, createHostLogger, createStateStore, lazy, prewarm } from './host.ts'
import {
  type FunctionOptions,
  httpFunction,
  invocationFacts,
  jsonResponse,
  requestBody,
} from './middleware.ts'

/** What `github` needs: the webhook's dependencies (built once per execution environment). */
export interface GitHubFunctionDependencies extends FunctionOptions {
  readonly webhook: () => GitHubWebhookDependencies
}

/** Builds the `github` handler over its dependencies. */
export function createGitHubHandler(deps: GitHubFunctionDependencies) {
  return httpFunction(deps, async function receiveGitHubDelivery(event, context) {
    const reply = await handleGitHubWebhook(deps.webhook(), {
      headers: event.headers,
      body: requestBody(event),
    })
    const { app, environment, outcome } = (reply.log ?? {}) as Record<string, string | undefined>
    Object.assign(invocationFacts(context), { app, environment, outcome })
    return jsonResponse(reply.status, reply.body, reply.headers)
  })
}

const env = process.env
const logger = createHostLogger(env)
const webhook = lazy((): GitHubWebhookDependencies => {
  const bus = createEventBus(env)
  const { broker, catalog, stores } = createBroker(env, {
    bus,
    state: createStateStore(env),
    logger,
  })
  const secrets = new TriggerSecrets({
    stores: (name) => stores.get(name),
    now: Date.now,
    ttlMs: catalog.cacheTtlMs,
  })
  return {
    catalog,
    secrets,
    manifests: (repository, config) =>
      createManifestSource(repository, config, { secrets, cwd: process.cwd() }),
    dispatch: async (request) => {
      await bus.publish([request])
      return { status: 'accepted', duplicate: false, events: [] }
    },
    release: (request) => broker.release(request),
    clock: () => new Date(),
    logger,
  }
})
prewarm(env, logger, webhook)

/** The Lambda entry point (`functions/github.handler`). */
export const handler = createGitHubHandler({ name: 'github', logger, webhook })
