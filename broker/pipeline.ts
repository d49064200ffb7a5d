/**
 * The resolution pipeline: requested event → validate → authorize → plan → fetch →
 * inject → publish → record, one outcome per capability. Pure orchestration over ports.
 */
import {
  type AnyCloudEvent,
  buildEvent,
  type CapabilityOutcome,
  type CloudEvent,
  EventTypes,
} from '../events/index.ts'
import type { Catalog } from './catalog/load.ts'
import type { EnvironmentConfig, InjectConfig } from './catalog/schema.ts'
import { isRetryable, ManifestError, toBrokerError } from './errors.ts'
import { type CapabilitySpec, normalizeRequest } from './manifest.ts'
import {
  attributesFor,
  deriveEventId,
  type Emitter,
  outcomeEvent,
  type RequestResult,
  reason,
  resultOf,
} from './outcome.ts'
import { type Decided, fetchAndBind, planCapability } from './planning.ts'
import {
  type Binding,
  type BindingRecord,
  type BindingSink,
  type EventBus,
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
}

/** Per-call options of {@link Broker.handle}. */
export interface HandleOptions {
  /** The id of the HTTP request or invocation that carried the event, for the log line. */
  readonly requestId?: string
}

type Processed = { events: AnyCloudEvent[]; records: BindingRecord[]; transient: boolean }

const APP_SOURCE = /^\/apps\/([^/]+)$/

/** The broker core. One instance per catalog; it holds the secret cache through its resolver. */
export class Broker {
  readonly #deps: BrokerDependencies
  readonly #log: Logger
  readonly #inflight = new Map<string, Promise<RequestResult>>()

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
    // An app speaks for itself only: `/apps/billing` cannot ask for checkout's secrets.
    const speaker = APP_SOURCE.exec(event.source)?.[1]
    if (speaker !== undefined && speaker !== target.app) {
      const why = reason(
        'DENIED',
        `events from ${event.source} may only request capabilities for app "${speaker}"`,
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
    const decided = await fetchAndBind(this.#deps.resolver, planned, this.#log)
    const injection = await this.#inject(target, env, decided, request)
    const transient = decided.some((d) => d.transient === true)
    const outcome = outcomeEvent(
      this.#emitter(),
      request,
      target,
      decided.map((d) => d.outcome),
    )
    return { events: [outcome, ...injection.events], records: injection.records, transient }
  }

  /** Injects the ready bindings through the environment's sink; a sink failure fails them. */
  async #inject(
    target: { app: string; environment: string },
    env: EnvironmentConfig,
    decided: Decided[],
    request: RequestKey,
  ): Promise<{ events: AnyCloudEvent[]; records: BindingRecord[] }> {
    const ready = decided.filter(
      (d): d is Decided & { binding: Binding } =>
        d.binding !== undefined && d.planned !== undefined,
    )
    if (ready.length === 0) return { events: [], records: [] }
    try {
      const sink = await this.#deps.sinkFor(target.environment, env.inject)
      const receipt = await sink.inject(
        target,
        ready.map((d) => d.binding),
      )
      const injectedAt = this.#deps.clock().toISOString()
      const records = ready.map(
        (d): BindingRecord => ({
          ...target,
          name: d.spec.name,
          type: d.spec.type,
          provider: d.planned?.provider ?? '',
          store: d.planned?.ref.store ?? '',
          key: d.planned?.ref.key ?? '',
          version: d.outcome.version ?? '',
          entries: d.outcome.entries ?? [],
          secretEntries: d.outcome.secretEntries ?? [],
          sink: receipt.sink,
          location: receipt.location,
          injectedAt,
          request,
        }),
      )
      const injected = buildEvent(
        EventTypes.injected,
        attributesFor(this.#emitter(), request, EventTypes.injected),
        {
          ...target,
          request,
          sink: receipt.sink,
          location: receipt.location,
          ...(receipt.version === undefined ? {} : { version: receipt.version }),
          bindings: receipt.bindings.map((b) => ({
            name: b.name,
            ...(b.path === undefined ? {} : { path: b.path }),
          })),
        },
      )
      return { events: [injected], records }
    } catch (error) {
      const failure = toBrokerError(error, `injecting into environment "${target.environment}"`)
      const why = reason('INJECTION_FAILED', failure.message)
      this.#log.warn('injection failed', { ...target, error: why.message })
      for (const d of ready) {
        d.outcome = { name: d.spec.name, type: d.spec.type, status: 'failed', reason: why }
        d.transient = isRetryable(failure)
      }
      return { events: [], records: [] }
    }
  }
}
