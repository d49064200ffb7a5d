/**
 * `rotate` — bindings follow their sources on AWS. Two EventBridge rules invoke it: a
 * schedule (every `CAPBROKER_REFRESH_EVERY`, default 5 min: a sweep of the bindings whose
 * class `refreshInterval` came due) and Secrets Manager changes recorded by CloudTrail
 * (PutSecretValue, UpdateSecret, RotateSecret, RotationSucceeded, UpdateSecretVersionStage:
 * the bindings of that secret, within seconds). Changed values are re-injected into the
 * bundle and announced as `binding.rotated`. A failure worth retrying (the state table,
 * the bus) is thrown, so Lambda retries the event; per-binding problems are statuses.
 */
import type { EventBridgeEvent } from 'aws-lambda'
import { parseDuration } from '../broker/catalog/catalog.ts'
import { DURATION_PATTERN } from '../broker/catalog/patterns.ts'
import { InvalidConfigError } from '../broker/errors.ts'
import { rotationTriggerOf } from '../broker/lifecycle/triggers.ts'
import type { Broker } from '../broker/pipeline.ts'
import type { FunctionEnvironment } from './environment.ts'
import { createHostLogger, lazy, prewarm } from './host.ts'
import { eventFunction, type FunctionOptions, invocationFacts } from './middleware.ts'
import { createRecordingBroker } from './recording-broker.ts'

/** What `rotate` needs: the broker (built once per execution environment) and the schedule's rate. */
export interface RotateDependencies extends FunctionOptions {
  readonly broker: () => Pick<Broker, 'refresh' | 'catalog'>
  /** The schedule's rate: must equal the rule's `rate(…)`, see rotationTriggerOf. */
  readonly periodMs: () => number
  readonly clock?: () => Date
}

/** `CAPBROKER_REFRESH_EVERY`: the schedule's rate as a duration (`5m`); default 5 minutes. */
export function refreshPeriodMs(env: FunctionEnvironment): number {
  const value = env.CAPBROKER_REFRESH_EVERY?.trim()
  if (value === undefined || value === '') return 5 * 60_000
  if (!new RegExp(DURATION_PATTERN).test(value) || parseDuration(value) < 60_000)
    throw new InvalidConfigError(
      'CAPBROKER_REFRESH_EVERY must be a duration of at least a minute, like 5m (the rotate schedule’s rate)',
    )
  return parseDuration(value)
}

/** Builds the `rotate` handler over its dependencies. */
export function createRotateHandler(deps: RotateDependencies) {
  return eventFunction<EventBridgeEvent<string, unknown>>(
    deps,
    async function rotateBindings(event, context) {
      const facts = invocationFacts(context)
      const broker = deps.broker()
      const now = (deps.clock ?? (() => new Date()))()
      const trigger = rotationTriggerOf(event, broker.catalog, deps.periodMs(), now)
      if (trigger.kind === 'ignored') {
        facts.outcome = 'ignored'
        deps.logger.info('event ignored', { eventBridgeId: event.id, reason: trigger.reason })
        return
      }
      const result = await broker.refresh(trigger.request)
      const count = (r: string) => result.bindings.filter((b) => b.result === r).length
      facts.events = result.events.length
      facts.outcome = `${trigger.what}: ${result.bindings.length} checked, ${count('rotated')} rotated, ${count('stale')} stale, ${count('failed')} failed`
    },
  )
}

const env = process.env
const logger = createHostLogger(env)
const broker = lazy(() => createRecordingBroker(env, logger).broker)
const periodMs = lazy(() => refreshPeriodMs(env))
prewarm(env, logger, broker)
prewarm(env, logger, periodMs)

/** The Lambda entry point (`functions/rotate.handler`). */
export const handler = createRotateHandler({ name: 'rotate', logger, broker, periodMs })
