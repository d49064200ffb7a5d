/**
 * Injection, the pipeline's fifth step: the ready bindings go through the environment's
 * sink in one call, a `binding.injected` event says where, and each gets its record
 * (lifecycle/records.ts). A sink failure fails every binding of the call.
 */
import { type AnyCloudEvent, buildEvent, EventTypes } from '../events/index.ts'
import type { EnvironmentConfig, InjectConfig } from './catalog/schema.ts'
import { isRetryable, toBrokerError } from './errors.ts'
import type { DigestKey } from './lifecycle/digest.ts'
import { injectedRecords } from './lifecycle/records.ts'
import { attributesFor, type Emitter, injectedEventData, reason } from './outcome.ts'
import type { Decided } from './planning.ts'
import type {
  Binding,
  BindingRecord,
  BindingSink,
  BindingTarget,
  Logger,
  RequestKey,
} from './ports.ts'

/** What injecting needs from the broker. */
export interface InjectionContext {
  readonly sinkFor: (environment: string, inject: InjectConfig) => Promise<BindingSink>
  readonly clock: () => Date
  readonly emitter: Emitter
  readonly logger: Logger
  readonly digestKey: () => Promise<DigestKey | undefined>
}

/** One request's injection. */
export interface InjectionInput {
  readonly target: BindingTarget
  readonly env: EnvironmentConfig
  readonly decided: Decided[]
  readonly request: RequestKey
  /** The target's records before this request (what a new record carries over). */
  readonly previous: readonly BindingRecord[]
}

/** Injects the ready bindings; a sink failure turns them into failed outcomes in `decided`. */
export async function injectReady(
  ctx: InjectionContext,
  input: InjectionInput,
): Promise<{ events: AnyCloudEvent[]; records: BindingRecord[] }> {
  const { target, env, decided, request, previous } = input
  const ready = decided.filter(
    (d): d is Decided & { binding: Binding } => d.binding !== undefined && d.planned !== undefined,
  )
  if (ready.length === 0) return { events: [], records: [] }
  try {
    const sink = await ctx.sinkFor(target.environment, env.inject)
    const receipt = await sink.inject(
      target,
      ready.map((d) => d.binding),
    )
    const records = injectedRecords(
      target,
      ready.map((d) => ({
        binding: d.binding,
        ref: d.planned?.ref ?? { store: '', key: '' },
        provider: d.planned?.provider ?? '',
        version: d.outcome.version ?? '',
        entries: d.outcome.entries ?? [],
        secretEntries: d.outcome.secretEntries ?? [],
        ...(d.spec.class === undefined ? {} : { capabilityClass: d.spec.class }),
      })),
      { sink: receipt.sink, location: receipt.location, injectedAt: ctx.clock().toISOString() },
      request,
      previous,
      await ctx.digestKey(),
    )
    const injected = buildEvent(
      EventTypes.injected,
      attributesFor(ctx.emitter, request, EventTypes.injected),
      injectedEventData(target, request, receipt),
    )
    return { events: [injected], records }
  } catch (error) {
    const failure = toBrokerError(error, `injecting into environment "${target.environment}"`)
    const why = reason('INJECTION_FAILED', failure.message)
    ctx.logger.warn('injection failed', { ...target, error: why.message })
    for (const d of ready) {
      d.outcome = { name: d.spec.name, type: d.spec.type, status: 'failed', reason: why }
      d.transient = isRetryable(failure)
    }
    return { events: [], records: [] }
  }
}
