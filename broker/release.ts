/**
 * Release: a capability is no longer declared (removed from a manifest, a deleted
 * branch, a chat `release`). Its binding leaves the sink, a `released` event says so,
 * and its record leaves the state. Releasing what is not bound is a no-op, so a
 * redelivered release does nothing.
 */
import { type AnyCloudEvent, buildEvent, EventTypes } from '../events/index.ts'
import type { Catalog } from './catalog/load.ts'
import type { InjectConfig } from './catalog/schema.ts'
import { InvalidConfigError } from './errors.ts'
import { auditEntriesOf, recordAudit } from './lifecycle/audit.ts'
import type { BindingSink, EventBus, Logger, RequestKey, StateStore } from './ports.ts'

/** What to release. */
export interface ReleaseRequest {
  readonly app: string
  readonly environment: string
  /** The capability names to release, or `all` of the app's bindings in the environment. */
  readonly names: readonly string[] | 'all'
  /** Why, for the event: `removed from score.yaml`, `branch deleted`, `chat release by U123`. */
  readonly reason: string
  /** What asked for it (source + id), so a retried release emits the same event ids. */
  readonly request: RequestKey
}

/** What a release did. */
export interface ReleaseResult {
  readonly released: readonly string[]
  readonly events: readonly AnyCloudEvent[]
}

/** What a release needs: the pipeline's dependencies, less the secret reading. */
export interface ReleaseDependencies {
  readonly catalog: Catalog
  readonly sinkFor: (environment: string, inject: InjectConfig) => Promise<BindingSink>
  readonly state: StateStore
  readonly bus: EventBus
  readonly clock: () => Date
  readonly eventId: (request: RequestKey, type: string) => string
  readonly source: string
  readonly logger: Logger
}

/** Removes bindings from their sink, announces each, then forgets them. */
export async function releaseBindings(
  deps: ReleaseDependencies,
  input: ReleaseRequest,
): Promise<ReleaseResult> {
  const target = { app: input.app, environment: input.environment }
  const bound = await deps.state.listBindings(target)
  const chosen = input.names === 'all' ? bound : bound.filter((b) => input.names.includes(b.name))
  if (chosen.length === 0) return { released: [], events: [] }
  const env = deps.catalog.environments.get(input.environment)
  if (!env)
    throw new InvalidConfigError(
      `unknown environment "${input.environment}": cannot find its sink to release from`,
    )
  const names = chosen.map((b) => b.name)
  const sink = await deps.sinkFor(input.environment, env.inject)
  await sink.remove(target, names)
  const time = deps.clock().toISOString()
  const events = chosen.map((b) =>
    buildEvent(
      EventTypes.released,
      {
        id: deps.eventId(input.request, `${EventTypes.released}/${b.name}`),
        source: deps.source,
        time,
      },
      {
        app: input.app,
        environment: input.environment,
        name: b.name,
        type: b.type,
        reason: input.reason,
      },
    ),
  )
  // Announce before forgetting: a crash in between leaves the record, so a retry
  // finds it, removes nothing more from the sink and publishes the same ids again.
  await deps.bus.publish(events)
  await deps.state.removeBindings(target, names)
  await recordAudit(deps.state, auditEntriesOf(events, input.request, time), deps.logger)
  deps.logger.info('release', { ...target, released: names.length, reason: input.reason })
  return { released: names, events }
}
