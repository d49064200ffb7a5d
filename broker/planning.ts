/**
 * Planning and fetching, per capability: authorize (app, environment, type), pick the
 * class, render the key, authorize the key; then read every planned secret in one
 * batched, cached pass and turn each into a binding or a reason.
 */
import type { CapabilityOutcome, Reason } from '../events/index.ts'
import { buildBinding } from './bindings.ts'
import type { Catalog } from './catalog/load.ts'
import type { ClassConfig } from './catalog/schema.ts'
import { BrokerError, toBrokerError } from './errors.ts'
import type { CapabilitySpec } from './manifest.ts'
import { reason } from './outcome.ts'
import type { Binding, Logger } from './ports.ts'
import {
  referenceId,
  type SecretReference,
  type SecretResolver,
} from './resolution/secret-resolver.ts'
import { renderTemplate, TemplateValueError } from './template.ts'

/** Where a capability's secret is: its class, the reference to read, the adapter kind. */
export interface Planned {
  readonly spec: CapabilitySpec
  readonly cls: ClassConfig
  readonly ref: SecretReference
  readonly provider: string
}

/** One capability on its way through the pipeline. */
export interface Decided {
  readonly spec: CapabilitySpec
  outcome: CapabilityOutcome
  binding?: Binding
  planned?: Planned
  /** The failure was transient (worth redelivering). */
  transient?: boolean
}

/** Authorize (app, environment, type), pick the class, render the key, authorize the key. */
export function planCapability(
  catalog: Catalog,
  app: string,
  environment: string,
  spec: CapabilitySpec,
): Decided {
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

/** Reads every planned secret (batched per store, cached) and builds each binding. */
export async function fetchAndBind(
  resolver: SecretResolver,
  decided: Decided[],
  log: Logger,
): Promise<Decided[]> {
  const planned = decided.flatMap((d) => (d.planned ? [d.planned] : []))
  if (planned.length === 0) return decided
  const reads = await resolver.resolve(planned.map((p) => p.ref))
  for (const d of decided) {
    const p = d.planned
    if (!p) continue
    const read = reads.get(referenceId(p.ref))
    const where = { provider: p.provider, store: p.ref.store, key: p.ref.key }
    const base = { name: p.spec.name, type: p.spec.type }
    if (!read?.ok) {
      const error = read?.error ?? new BrokerError('INTERNAL', `no result for key "${p.ref.key}"`)
      d.outcome = { ...base, status: 'failed', reason: reason(error.code, error.message), ...where }
      d.transient = error.retryable
      log.debug('read failed', {
        capability: p.spec.name,
        store: p.ref.store,
        key: p.ref.key,
        code: error.code,
      })
      continue
    }
    try {
      const binding = buildBinding(
        { ...base, provider: p.provider, key: p.ref.key },
        p.cls,
        read.value,
      )
      d.binding = binding
      d.outcome = {
        ...base,
        status: 'ready',
        ...where,
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
        ...where,
        version: read.version,
      }
    }
  }
  return decided
}
