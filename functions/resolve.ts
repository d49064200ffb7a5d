/**
 * `resolve` — the EventBridge rule target for `requested` events. The event's `detail`
 * is the structured CloudEvent the bus put there; the broker does the rest. An event
 * that can never be processed is logged and dropped (a retry would fail alike); a
 * failure worth retrying is thrown, so Lambda retries and finally dead-letters it.
 */
import type { EventBridgeEvent } from 'aws-lambda'
import { UnavailableError } from '../broker/errors.ts'
import type { Broker } from '../broker/pipeline.ts'
import { EventTypes, EventValidationError, parseEvent } from '../events/index.ts'
import { createHostLogger, lazy, prewarm } from './host.ts'
import { eventFunction, type FunctionOptions, invocationFacts } from './middleware.ts'
import { createRecordingBroker } from './recording-broker.ts'

/** What `resolve` needs: the broker (built once per execution environment). */
export interface ResolveDependencies extends FunctionOptions {
  readonly broker: () => Pick<Broker, 'handle'>
}

/** Builds the `resolve` handler over its dependencies. */
export function createResolveHandler(deps: ResolveDependencies) {
  return eventFunction<EventBridgeEvent<string, unknown>>(
    deps,
    async function resolveRequested(event, context) {
      const facts = invocationFacts(context)
      let request: ReturnType<typeof parseEvent>
      try {
        request = parseEvent(event.detail)
      } catch (error) {
        if (!(error instanceof EventValidationError)) throw error
        facts.outcome = 'dropped'
        deps.logger.warn('invalid requested event dropped', {
          eventBridgeId: event.id,
          detailType: event['detail-type'],
          problems: error.problems.map((p) => p.path),
        })
        return
      }
      if (request.type !== EventTypes.requested) {
        facts.outcome = 'dropped'
        deps.logger.warn('event of another type dropped', { id: request.id, type: request.type })
        return
      }
      Object.assign(facts, { app: request.data.app, environment: request.data.environment })
      const result = await deps.broker().handle(request)
      // Another invocation holds the claim; if it dies, only a retry finishes the request.
      if (result.status === 'in-progress')
        throw new UnavailableError(
          `request ${request.source} ${request.id} is being resolved elsewhere`,
        )
      facts.outcome = result.duplicate ? `${result.status} (duplicate)` : result.status
    },
  )
}

const env = process.env
const logger = createHostLogger(env)
const broker = lazy(() => createRecordingBroker(env, logger).broker)
prewarm(env, logger, broker)

/** The Lambda entry point (`functions/resolve.handler`). */
export const handler = createResolveHandler({ name: 'resolve', logger, broker })
