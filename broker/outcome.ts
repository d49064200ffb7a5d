/**
 * Outcome events: what a request's capabilities came to, as `resolved`, `failed` or
 * `denied` (names, versions and reasons — never values), and reading them back.
 */
import {
  type AnyCloudEvent,
  buildEvent,
  type CapabilityOutcome,
  EventTypes,
  type InjectedData,
  type Reason,
  type ResolvedCapability,
} from '../events/index.ts'
import { nodeCrypto } from './builtins.ts'
import type { BindingTarget, InjectionReceipt, RequestKey } from './ports.ts'

/** The result of handling one requested event. */
export interface RequestResult {
  /** `in-progress`: a duplicate of a request another worker is still handling. */
  readonly status: 'resolved' | 'failed' | 'denied' | 'in-progress'
  /** True when this was a redelivery and the recorded outcome was returned. */
  readonly duplicate: boolean
  /**
   * True when every failure was transient (a store unavailable, a write conflict): the
   * outcome is not remembered, so redelivering the same event tries again.
   */
  readonly retryable?: boolean
  readonly events: readonly AnyCloudEvent[]
  readonly capabilities: readonly CapabilityOutcome[]
  /** The request-level reason of a failed request (invalid, unknown environment). */
  readonly reason?: Reason
}

/** A reason for an outcome. */
export function reason(code: string, message: string): Reason {
  return { code, message }
}

/** A deterministic event id: reprocessing a request after a crash emits the same ids. */
export function deriveEventId(request: RequestKey, type: string): string {
  const hex = nodeCrypto()
    .createHash('sha256')
    .update(`${request.source}\n${request.id}\n${type}`)
    .digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/** Who emits, and when: the attributes every broker event shares. */
export interface Emitter {
  readonly source: string
  readonly time: string
}

/** The attributes of the event of `type` that answers `request`. */
export function attributesFor(emitter: Emitter, request: RequestKey, type: string) {
  return { id: deriveEventId(request, type), source: emitter.source, time: emitter.time }
}

/**
 * The outcome event: `resolved` when every capability is ready; `failed` when one
 * failed (or the request itself did, `why`); else `denied` (or `why.denied`: the
 * request as a whole was refused).
 */
export function outcomeEvent(
  emitter: Emitter,
  request: RequestKey,
  target: { app: string; environment: string },
  outcomes: readonly CapabilityOutcome[],
  why?: Reason & { denied?: boolean },
): AnyCloudEvent {
  const denied = why?.denied === true || outcomes.some((o) => o.status === 'denied')
  const failed =
    (why !== undefined && why.denied !== true) || outcomes.some((o) => o.status === 'failed')
  const base = { app: target.app, environment: target.environment, request }
  if (!failed && !denied) {
    const capabilities = outcomes.map((o) => o as ResolvedCapability)
    return buildEvent(EventTypes.resolved, attributesFor(emitter, request, EventTypes.resolved), {
      ...base,
      capabilities,
    })
  }
  const type = failed ? EventTypes.failed : EventTypes.denied
  return buildEvent(type, attributesFor(emitter, request, type), {
    ...base,
    ...(why ? { reason: { code: why.code, message: why.message } } : {}),
    capabilities: [...outcomes],
  })
}

/** Reads the status, the per-capability outcomes and the reason back out of the outcome events. */
export function resultOf(events: readonly AnyCloudEvent[], duplicate: boolean): RequestResult {
  for (const event of events) {
    if (event.type === EventTypes.resolved) {
      return { status: 'resolved', duplicate, events, capabilities: event.data.capabilities }
    }
    if (event.type === EventTypes.failed || event.type === EventTypes.denied) {
      const status = event.type === EventTypes.failed ? 'failed' : 'denied'
      return {
        status,
        duplicate,
        events,
        capabilities: event.data.capabilities,
        ...(event.data.reason ? { reason: event.data.reason } : {}),
      }
    }
  }
  return { status: 'failed', duplicate, events, capabilities: [] }
}

/** The data of a `binding.injected` event: where a sink put the bindings of `target`. */
export function injectedEventData(
  target: BindingTarget,
  request: RequestKey,
  receipt: InjectionReceipt,
): InjectedData {
  return {
    ...target,
    request,
    sink: receipt.sink,
    location: receipt.location,
    ...(receipt.version === undefined ? {} : { version: receipt.version }),
    bindings: receipt.bindings.map((b) => ({
      name: b.name,
      ...(b.path === undefined ? {} : { path: b.path }),
    })),
  }
}
