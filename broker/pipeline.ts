/**
 * The resolution pipeline: requested event → validate → authorize → plan → fetch →
 * inject → publish → record, one outcome per capability. Pure orchestration over ports.
 */
import { createHash } from 'node:crypto'
import {
  type AnyCloudEvent,
  buildEvent,
  type CapabilityOutcome,
  type CloudEvent,
  EventTypes,
  type Reason,
  type ResolvedCapability,
} from '../events/index.ts'
import { buildBinding } from './bindings.ts'
import type { Catalog } from './catalog/load.ts'
import type { ClassConfig, InjectConfig } from './catalog/schema.ts'
import { BrokerError, ManifestError, toBrokerError } from './errors.ts'
import { type CapabilitySpec, normalizeRequest } from './manifest.ts'
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
import {
  referenceId,
  type SecretReference,
  type SecretResolver,
} from './resolution/secret-resolver.ts'
import { renderTemplate, TemplateValueError } from './template.ts'

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

/** The result of handling one requested event. */
export interface RequestResult {
  /** `in-progress`: a duplicate of a request another worker is still handling. */
  readonly status: 'resolved' | 'failed' | 'denied' | 'in-progress'
  /** True when this was a redelivery and the recorded outcome was returned. */
  readonly duplicate: boolean
  readonly events: readonly AnyCloudEvent[]
  readonly capabilities: readonly CapabilityOutcome[]
}

type Planned = { spec: CapabilitySpec; cls: ClassConfig; ref: SecretReference; provider: string }
type Decided = {
  spec: CapabilitySpec
  outcome: CapabilityOutcome
  binding?: Binding
  planned?: Planned
}

const reason = (code: string, message: string): Reason => ({ code, message })

/** A deterministic event id: reprocessing a request after a crash emits the same ids. */
export function deriveEventId(request: RequestKey, type: string): string {
  const hex = createHash('sha256').update(`${request.source}\n${request.id}\n${type}`).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

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
   * recorded outcome and does nothing else; concurrent duplicates share one run.
   * Rejects only when the outcome could not be published or recorded — the caller
   * (an event bus) should redeliver.
   */
  handle(event: CloudEvent<typeof EventTypes.requested>): Promise<RequestResult> {
    const id = JSON.stringify([event.source, event.id])
    const running = this.#inflight.get(id)
    if (running) return running.then((r) => ({ ...r, duplicate: true }))
    const run = this.#handleOnce(event).finally(() => this.#inflight.delete(id))
    this.#inflight.set(id, run)
    return run
  }

  /**
   * Releases bindings (see {@link releaseBindings}): out of the sink, a `released`
   * event each, out of the state. Releasing what is not bound is a no-op.
   */
  release(input: ReleaseRequest): Promise<ReleaseResult> {
    return releaseBindings(
      {
        catalog: this.#deps.catalog,
        sinkFor: this.#deps.sinkFor,
        state: this.#deps.state,
        bus: this.#deps.bus,
        clock: this.#deps.clock,
        eventId: deriveEventId,
        source: this.#deps.source ?? '/capbroker',
        logger: this.#log,
      },
      input,
    )
  }

  async #handleOnce(event: CloudEvent<typeof EventTypes.requested>): Promise<RequestResult> {
    const started = this.#deps.clock().getTime()
    const request: RequestKey = { source: event.source, id: event.id }
    const claim = await this.#deps.state.claim(request, {
      now: this.#deps.clock(),
      leaseMs: this.#deps.leaseMs ?? 60_000,
    })
    if (claim.status === 'completed') {
      const result = resultOf(claim.outcome.events, true)
      this.#log.info('request', {
        source: request.source,
        id: request.id,
        subject: event.subject,
        outcome: result.status,
        duplicate: true,
      })
      return result
    }
    if (claim.status === 'in-progress')
      return { status: 'in-progress', duplicate: true, events: [], capabilities: [] }

    try {
      const { events, records } = await this.#process(event, request)
      await this.#deps.bus.publish(events)
      const now = this.#deps.clock()
      await this.#deps.state.complete(
        request,
        { events, completedAt: now.toISOString() },
        records,
        {
          now,
          ttlMs: this.#deps.idempotencyTtlMs ?? 7 * 24 * 3_600_000,
        },
      )
      const result = resultOf(events, false)
      this.#log.info('request', {
        source: request.source,
        id: request.id,
        app: event.data.app,
        environment: event.data.environment,
        outcome: result.status,
        ready: count(result, 'ready'),
        failed: count(result, 'failed'),
        denied: count(result, 'denied'),
        durationMs: now.getTime() - started,
      })
      return result
    } catch (error) {
      // Let a redelivery try again rather than wait out the lease.
      await this.#deps.state.abandon(request).catch(() => {})
      this.#log.error('request not completed', {
        source: request.source,
        id: request.id,
        error: toBrokerError(error, 'request').message,
      })
      throw error
    }
  }

  async #process(event: CloudEvent<typeof EventTypes.requested>, request: RequestKey) {
    const { app, environment } = event.data
    let specs: readonly CapabilitySpec[]
    try {
      specs = normalizeRequest(event.data).capabilities
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error
      return {
        events: [
          this.#outcomeEvent(
            request,
            app,
            environment,
            [],
            reason('INVALID_REQUEST', error.message),
          ),
        ],
        records: [],
      }
    }
    const env = this.#deps.catalog.environments.get(environment)
    if (!env) {
      const defined = [...this.#deps.catalog.environments.keys()].join(', ')
      const why = reason(
        'INVALID_REQUEST',
        `unknown environment "${environment}" (the catalog defines ${defined || 'none'})`,
      )
      const outcomes = specs.map(
        (s): CapabilityOutcome => ({ name: s.name, type: s.type, status: 'failed', reason: why }),
      )
      return { events: [this.#outcomeEvent(request, app, environment, outcomes, why)], records: [] }
    }

    const decided = await this.#fetch(
      app,
      environment,
      specs.map((spec) => this.#plan(app, environment, spec)),
    )
    const ready = decided.filter(
      (d): d is Decided & { binding: Binding; planned: Planned } => d.binding !== undefined,
    )
    const events: AnyCloudEvent[] = []
    const records: BindingRecord[] = []
    if (ready.length > 0) {
      try {
        const sink = await this.#deps.sinkFor(environment, env.inject)
        const receipt = await sink.inject(
          { app, environment },
          ready.map((d) => d.binding),
        )
        const injectedAt = this.#deps.clock().toISOString()
        for (const d of ready) {
          records.push({
            app,
            environment,
            name: d.spec.name,
            type: d.spec.type,
            provider: d.planned.provider,
            store: d.planned.ref.store,
            key: d.planned.ref.key,
            version: d.outcome.version ?? '',
            entries: d.outcome.entries ?? [],
            secretEntries: d.outcome.secretEntries ?? [],
            sink: receipt.sink,
            location: receipt.location,
            injectedAt,
            request,
          })
        }
        events.push(
          buildEvent(EventTypes.injected, this.#attributes(request, EventTypes.injected), {
            app,
            environment,
            request,
            sink: receipt.sink,
            location: receipt.location,
            ...(receipt.version === undefined ? {} : { version: receipt.version }),
            bindings: receipt.bindings.map((b) => ({
              name: b.name,
              ...(b.path === undefined ? {} : { path: b.path }),
            })),
          }),
        )
      } catch (error) {
        const why = reason(
          'INJECTION_FAILED',
          toBrokerError(error, `injecting into environment "${environment}"`).message,
        )
        this.#log.warn('injection failed', { app, environment, error: why.message })
        for (const d of ready)
          d.outcome = { name: d.spec.name, type: d.spec.type, status: 'failed', reason: why }
      }
    }
    events.unshift(
      this.#outcomeEvent(
        request,
        app,
        environment,
        decided.map((d) => d.outcome),
      ),
    )
    return { events, records }
  }

  /** Authorize (app, environment, type), pick the class, render the key, authorize the key. */
  #plan(app: string, environment: string, spec: CapabilitySpec): Decided {
    const { catalog } = this.#deps
    const fail = (status: 'failed' | 'denied', why: Reason): Decided => ({
      spec,
      outcome: { name: spec.name, type: spec.type, status, reason: why },
    })
    const byType = catalog.policy.decide({ app, environment, type: spec.type })
    if (!byType.allowed) return fail('denied', reason('DENIED', byType.message))
    const cls = catalog.findClass(spec.type, spec.class, environment)
    if (!cls) {
      const flavour = spec.class === undefined ? '' : ` (class "${spec.class}")`
      return fail(
        'failed',
        reason(
          'NO_MATCHING_CLASS',
          `no catalog class serves type "${spec.type}"${flavour} in environment "${environment}"`,
        ),
      )
    }
    let key: string
    let version: string | undefined
    try {
      const context = { app, environment, name: spec.name, params: spec.params }
      key = renderTemplate(cls.key, context)
      version = cls.version === undefined ? undefined : renderTemplate(cls.version, context)
    } catch (error) {
      if (!(error instanceof TemplateValueError)) throw error
      return fail('failed', reason('INVALID_PARAMS', `capability "${spec.name}": ${error.message}`))
    }
    const byKey = catalog.policy.decide({ app, environment, type: spec.type, key })
    if (!byKey.allowed) return fail('denied', reason('DENIED', byKey.message))
    const provider = catalog.stores.get(cls.store)?.adapter ?? cls.store
    const ref: SecretReference = {
      store: cls.store,
      key,
      ...(version === undefined ? {} : { version }),
      ttlMs: catalog.cacheTtlFor(cls),
    }
    return {
      spec,
      outcome: { name: spec.name, type: spec.type, status: 'failed' },
      planned: { spec, cls, ref, provider },
    }
  }

  async #fetch(app: string, environment: string, decided: Decided[]): Promise<Decided[]> {
    const planned = decided.flatMap((d) => (d.planned ? [d.planned] : []))
    if (planned.length === 0) return decided
    const reads = await this.#deps.resolver.resolve(planned.map((p) => p.ref))
    for (const d of decided) {
      const p = d.planned
      if (!p) continue
      const read = reads.get(referenceId(p.ref))
      const base = { name: p.spec.name, type: p.spec.type }
      if (!read?.ok) {
        const error = read?.error ?? new BrokerError('INTERNAL', `no result for key "${p.ref.key}"`)
        d.outcome = {
          ...base,
          status: 'failed',
          reason: reason(error.code, error.message),
          provider: p.provider,
          store: p.ref.store,
          key: p.ref.key,
        }
        this.#log.debug('read failed', {
          app,
          environment,
          capability: p.spec.name,
          store: p.ref.store,
          key: p.ref.key,
          code: error.code,
        })
        continue
      }
      try {
        const binding = buildBinding(
          { name: p.spec.name, type: p.spec.type, provider: p.provider, key: p.ref.key },
          p.cls,
          read.value,
        )
        d.binding = binding
        d.outcome = {
          ...base,
          status: 'ready',
          provider: p.provider,
          store: p.ref.store,
          key: p.ref.key,
          version: read.version,
          entries: ['type', 'provider', ...binding.entries.keys()],
          secretEntries: [...binding.secretEntries],
        }
      } catch (error) {
        const failure = toBrokerError(error, `capability "${p.spec.name}"`)
        d.outcome = {
          ...base,
          status: 'failed',
          reason: reason(failure.code, failure.message),
          provider: p.provider,
          store: p.ref.store,
          key: p.ref.key,
          version: read.version,
        }
      }
    }
    return decided
  }

  #attributes(request: RequestKey, type: string) {
    return {
      id: deriveEventId(request, type),
      source: this.#deps.source ?? '/capbroker',
      time: this.#deps.clock().toISOString(),
    }
  }

  #outcomeEvent(
    request: RequestKey,
    app: string,
    environment: string,
    outcomes: CapabilityOutcome[],
    why?: Reason,
  ): AnyCloudEvent {
    const failed = why !== undefined || outcomes.some((o) => o.status === 'failed')
    const denied = outcomes.some((o) => o.status === 'denied')
    if (!failed && !denied) {
      const capabilities = outcomes.map((o) => o as ResolvedCapability)
      return buildEvent(EventTypes.resolved, this.#attributes(request, EventTypes.resolved), {
        app,
        environment,
        request,
        capabilities,
      })
    }
    const type = failed ? EventTypes.failed : EventTypes.denied
    return buildEvent(type, this.#attributes(request, type), {
      app,
      environment,
      request,
      ...(why ? { reason: why } : {}),
      capabilities: outcomes,
    })
  }
}

function count(result: RequestResult, status: CapabilityOutcome['status']): number {
  return result.capabilities.filter((c) => c.status === status).length
}

/** Reads the status and the per-capability outcomes back out of the outcome events. */
export function resultOf(events: readonly AnyCloudEvent[], duplicate: boolean): RequestResult {
  for (const event of events) {
    if (event.type === EventTypes.resolved)
      return { status: 'resolved', duplicate, events, capabilities: event.data.capabilities }
    if (event.type === EventTypes.failed)
      return { status: 'failed', duplicate, events, capabilities: event.data.capabilities }
    if (event.type === EventTypes.denied)
      return { status: 'denied', duplicate, events, capabilities: event.data.capabilities }
  }
  return { status: 'failed', duplicate, events, capabilities: [] }
}
