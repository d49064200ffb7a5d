/**
 * The resolution pipeline: requested event → validate → authorize → plan → fetch →
 * inject → publish → record, one outcome per capability. Pure orchestration over ports.
 */
import type { AnyCloudEvent, CapabilityOutcome, CloudEvent, EventTypes } from '../events/index.ts'
import type { Catalog } from './catalog/load.ts'
import type { InjectConfig } from './catalog/schema.ts'
import { InvalidConfigError, ManifestError, toBrokerError } from './errors.ts'
import { injectReady } from './injection.ts'
import { auditEntriesOf, recordAudit } from './lifecycle/audit.ts'
import type { DigestKey, DigestKeySource } from './lifecycle/digest.ts'
import { invalidateRotated } from './lifecycle/records.ts'
import { type RefreshRequest, type RefreshResult, refreshBindings } from './lifecycle/refresh.ts'
import { type CapabilitySpec, normalizeRequest } from './manifest.ts'
import {
  deriveEventId,
  type Emitter,
  outcomeEvent,
  type RequestResult,
  reason,
  resultOf,
} from './outcome.ts'
import { fetchAndBind, planCapability } from './planning.ts'
import {
  type BindingRecord,
  type BindingSink,
  type EventBus,
  hasLifecycle,
  type Logger,
  type RequestKey,
  type StateStore,
  silentLogger,
} from './ports.ts'
import { type ReleaseRequest, type ReleaseResult, releaseBindings } from './release.ts'
import type { SecretResolver } from './resolution/secret-resolver.ts'

export { deriveEventId, type RequestResult, resultOf } from './outcome.ts'

/** What the pipeline needs; the host (embedded runtime, Lambda, tests) wires the adapters. */
export interface BrokerDependencies {
  readonly catalog: Catalog
  readonly resolver: SecretResolver
  /** The sink of an environment, built from its `inject` config. */
  readonly sinkFor: (environment: string, inject: InjectConfig) => Promise<BindingSink>
  readonly state: StateStore
  readonly bus: EventBus
  readonly clock: () => Date
  readonly logger?: Logger
  /** `source` of the events the broker emits. Default `/capbroker`. */
  readonly source?: string
  /** How long a claim protects an unfinished request from a redelivery. Default 60 s. */
  readonly leaseMs?: number
  /** How long a finished request's id is remembered. Default 7 days. */
  readonly idempotencyTtlMs?: number
  /**
   * The key of the bindings' digests (see lifecycle/digest.ts). Without it, records
   * carry no digest and a refresh compares versions only.
   */
  readonly digestKey?: DigestKeySource
}

/** Per-call options of {@link Broker.handle}. */
export interface HandleOptions {
  /** The id of the HTTP request or invocation that carried the event, for the log line. */
  readonly requestId?: string
}

type Processed = { events: AnyCloudEvent[]; records: BindingRecord[]; transient: boolean }

/** The broker core. One instance per catalog; it holds the secret cache through its resolver. */
export class Broker {
  readonly #deps: BrokerDependencies
  readonly #log: Logger
  readonly #inflight = new Map<string, Promise<RequestResult>>()
  /** Rotations whose cached values this process already dropped (see invalidateRotated). */
  readonly #seenRotations = new Map<string, string>()

  constructor(deps: BrokerDependencies) {
    this.#deps = deps
    this.#log = deps.logger ?? silentLogger
  }

  /** The catalog this broker resolves with. */
  get catalog(): Catalog {
    return this.#deps.catalog
  }

  /**
   * Handles a parsed `requested` event. A redelivery (same source + id) returns the
   * recorded outcome and does nothing else; concurrent duplicates share one run. An
   * outcome whose failures were all transient is not remembered, so a redelivery tries
   * again. Rejects only when the outcome could not be published or recorded — the
   * caller (an event bus) should redeliver.
   */
  handle(
    event: CloudEvent<typeof EventTypes.requested>,
    options: HandleOptions = {},
  ): Promise<RequestResult> {
    const id = JSON.stringify([event.source, event.id])
    const running = this.#inflight.get(id)
    if (running) return running.then((r) => ({ ...r, duplicate: true }))
    const run = this.#handleOnce(event, options).finally(() => this.#inflight.delete(id))
    this.#inflight.set(id, run)
    return run
  }

  /**
   * Releases bindings (see {@link releaseBindings}): out of the sink, a `released`
   * event each, out of the state. Releasing what is not bound is a no-op.
   */
  release(input: ReleaseRequest): Promise<ReleaseResult> {
    const { catalog, sinkFor, state, bus, clock } = this.#deps
    const source = this.#deps.source ?? '/capbroker'
    return releaseBindings(
      { catalog, sinkFor, state, bus, clock, eventId: deriveEventId, source, logger: this.#log },
      input,
    )
  }

  /**
   * Re-reads the selected bindings' sources and makes the bindings follow them (see
   * lifecycle/refresh.ts). Needs a state store that keeps the lifecycle.
   */
  async refresh(request: RefreshRequest): Promise<RefreshResult> {
    const { catalog, resolver, sinkFor, state, bus, clock, digestKey } = this.#deps
    if (!hasLifecycle(state))
      throw new InvalidConfigError(
        'this state store cannot find bindings across apps, so it cannot refresh them',
      )
    return refreshBindings(
      {
        catalog,
        resolver,
        sinkFor,
        state,
        bus,
        clock,
        source: this.#deps.source ?? '/capbroker',
        logger: this.#log,
        ...(digestKey ? { digestKey } : {}),
      },
      request,
    )
  }

  async #handleOnce(
    event: CloudEvent<typeof EventTypes.requested>,
    options: HandleOptions,
  ): Promise<RequestResult> {
    const started = this.#deps.clock().getTime()
    const request: RequestKey = { source: event.source, id: event.id }
    const logged = {
      requestId: options.requestId,
      source: request.source,
      id: request.id,
      app: event.data.app,
      environment: event.data.environment,
    }
    const claim = await this.#deps.state.claim(request, {
      now: this.#deps.clock(),
      leaseMs: this.#deps.leaseMs ?? 60_000,
    })
    if (claim.status === 'completed') {
      const result = resultOf(claim.outcome.events, true)
      this.#log.info('request', { ...logged, outcome: result.status, duplicate: true })
      return result
    }
    if (claim.status === 'in-progress') {
      this.#log.info('request', { ...logged, outcome: 'in-progress', duplicate: true })
      return { status: 'in-progress', duplicate: true, events: [], capabilities: [] }
    }
    try {
      const { events, records, transient } = await this.#process(event, request)
      await this.#deps.bus.publish(events)
      const now = this.#deps.clock()
      // A transient failure is not the request's final word: remember the bindings, but
      // not the id, so that the redelivery the bus makes tries again.
      const ttlMs = transient ? 0 : (this.#deps.idempotencyTtlMs ?? 7 * 24 * 3_600_000)
      await this.#deps.state.complete(
        request,
        { events, completedAt: now.toISOString() },
        records,
        { now, ttlMs },
      )
      await recordAudit(
        this.#deps.state,
        auditEntriesOf([event, ...events], request, now.toISOString()),
        this.#log,
      )
      const result = { ...resultOf(events, false), ...(transient ? { retryable: true } : {}) }
      const count = (s: CapabilityOutcome['status']) =>
        result.capabilities.filter((c) => c.status === s).length
      this.#log.info('request', {
        ...logged,
        outcome: result.status,
        retryable: transient || undefined,
        ready: count('ready'),
        failed: count('failed'),
        denied: count('denied'),
        durationMs: now.getTime() - started,
      })
      return result
    } catch (error) {
      // Let a redelivery try again rather than wait out the lease.
      await this.#deps.state.abandon(request).catch(() => {})
      this.#log.error('request not completed', {
        ...logged,
        error: toBrokerError(error, 'request').message,
      })
      throw error
    }
  }

  /** The digest key, or none: a request is not failed for want of it. */
  async #digestKey(): Promise<DigestKey | undefined> {
    if (!this.#deps.digestKey) return undefined
    try {
      return await this.#deps.digestKey()
    } catch (error) {
      this.#log.warn('digest key unavailable; bindings recorded without a digest', {
        error: toBrokerError(error, 'digest key').message,
      })
      return undefined
    }
  }

  #emitter(): Emitter {
    return { source: this.#deps.source ?? '/capbroker', time: this.#deps.clock().toISOString() }
  }

  async #process(
    event: CloudEvent<typeof EventTypes.requested>,
    request: RequestKey,
  ): Promise<Processed> {
    const target = { app: event.data.app, environment: event.data.environment }
    const refuse = (
      why: Parameters<typeof outcomeEvent>[4],
      outcomes: CapabilityOutcome[] = [],
    ): Processed => ({
      events: [outcomeEvent(this.#emitter(), request, target, outcomes, why)],
      records: [],
      transient: false,
    })
    let specs: readonly CapabilitySpec[]
    try {
      specs = normalizeRequest(event.data).capabilities
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error
      return refuse(reason('INVALID_REQUEST', error.message))
    }
    // An app speaks for itself only: `/apps/billing` cannot ask for checkout's secrets,
    // and no other spelling under /apps/ (`/apps/billing/`, `/apps//x`, `…/../x`) may
    // either — anything there but exactly `/apps/<app>` is refused.
    if (event.source.startsWith('/apps/') && event.source !== `/apps/${target.app}`) {
      const why = reason(
        'DENIED',
        `events from ${event.source} may not request capabilities for app "${target.app}"`,
      )
      return refuse(
        { ...why, denied: true },
        specs.map((s) => ({ name: s.name, type: s.type, status: 'denied', reason: why })),
      )
    }
    const env = this.#deps.catalog.environments.get(target.environment)
    if (!env) {
      const why = reason('INVALID_REQUEST', `unknown environment "${target.environment}"`)
      return refuse(
        why,
        specs.map((s) => ({ name: s.name, type: s.type, status: 'failed', reason: why })),
      )
    }
    const planned = specs.map((spec) =>
      planCapability(this.#deps.catalog, target.app, target.environment, spec),
    )
    const refs = planned.flatMap((d) => (d.planned ? [d.planned.ref] : []))
    const previous = refs.length > 0 ? await this.#deps.state.listBindings(target) : []
    invalidateRotated(
      this.#deps.resolver,
      refs,
      previous,
      this.#deps.clock().getTime(),
      this.#seenRotations,
    )
    const decided = await fetchAndBind(this.#deps.resolver, planned, this.#log)
    const injection = await injectReady(
      {
        sinkFor: this.#deps.sinkFor,
        clock: this.#deps.clock,
        emitter: this.#emitter(),
        logger: this.#log,
        digestKey: () => this.#digestKey(),
      },
      { target, env, decided, request, previous },
    )
    const transient = decided.some((d) => d.transient === true)
    const outcome = outcomeEvent(
      this.#emitter(),
      request,
      target,
      decided.map((d) => d.outcome),
    )
    return { events: [outcome, ...injection.events], records: injection.records, transient }
  }
}
