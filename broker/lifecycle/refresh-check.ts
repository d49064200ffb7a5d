/**
 * The pure half of a refresh: which bindings a refresh looks at, where each one's
 * source is now, and what a fresh read of it means for the binding — changed (re-inject
 * it), unchanged (write nothing), stale (the source cannot be read: keep serving the old
 * binding) or failed (it changed, but cannot be bound any more).
 */
import type { Reason } from '../../events/index.ts'
import { buildBinding } from '../bindings.ts'
import type { Catalog } from '../catalog/load.ts'
import type { ClassConfig } from '../catalog/schema.ts'
import { reason } from '../outcome.ts'
import type { Binding, BindingRecord, LifecycleState, ReadOutcome } from '../ports.ts'
import type { SecretReference } from '../resolution/secret-resolver.ts'
import { isDue, refreshIntervalOf } from './schedule.ts'

/** Which bindings a refresh re-reads. */
export type RefreshSelection =
  /** Every binding (of one app, one environment, or both): `capbroker refresh`. */
  | { readonly kind: 'all'; readonly app?: string; readonly environment?: string }
  /** The bindings of these sources: a secret changed (`secrets put`, a provider's event). */
  | { readonly kind: 'sources'; readonly sources: readonly { store: string; key: string }[] }
  /** The bindings whose class interval has a boundary in `(from, to]`: a scheduled sweep. */
  | {
      readonly kind: 'due'
      readonly from: Date
      readonly to: Date
      readonly app?: string
      readonly environment?: string
    }

const identity = (r: { app: string; environment: string; name: string }) =>
  JSON.stringify([r.app, r.environment, r.name])

/** The records a selection names, each once. */
export async function selectBindings(
  state: LifecycleState,
  catalog: Catalog,
  selection: RefreshSelection,
): Promise<BindingRecord[]> {
  let records: BindingRecord[]
  if (selection.kind === 'sources') {
    const found = await Promise.all(
      selection.sources.map((source) => state.findBindings({ source })),
    )
    records = found.flat()
  } else {
    records = await state.findBindings({
      ...(selection.app === undefined ? {} : { app: selection.app }),
      ...(selection.environment === undefined ? {} : { environment: selection.environment }),
    })
  }
  const unique = new Map(records.map((r) => [identity(r), r]))
  const chosen = [...unique.values()]
  if (selection.kind !== 'due') return chosen
  const from = selection.from.getTime()
  const to = selection.to.getTime()
  return chosen.filter((record) => {
    const cls = catalog.findClass(record.type, record.class, record.environment)
    // A binding whose class is gone is looked at on the default interval, to say so once.
    return isDue(cls ? refreshIntervalOf(cls) : refreshIntervalOf({}), from, to)
  })
}

/** Where a binding's source is now, or why a refresh cannot re-read it. */
export type RecordPlan =
  | {
      readonly kind: 'read'
      readonly record: BindingRecord
      readonly cls: ClassConfig
      readonly ref: SecretReference
      readonly provider: string
    }
  /** The class pins a version: a pinned version never changes, so there is nothing to re-read. */
  | { readonly kind: 'pinned'; readonly record: BindingRecord }
  | { readonly kind: 'unservable'; readonly record: BindingRecord; readonly reason: Reason }

/**
 * Plans the re-read of a record's source: the same store and key it was injected from,
 * shaped by the catalog class that serves it now, and only while policy still allows it.
 */
export function planRefresh(catalog: Catalog, record: BindingRecord): RecordPlan {
  const { app, environment, type } = record
  const cls = catalog.findClass(type, record.class, environment)
  if (!cls)
    return {
      kind: 'unservable',
      record,
      reason: reason(
        'NO_MATCHING_CLASS',
        `no catalog class serves type "${type}" in environment "${environment}" any more`,
      ),
    }
  if (cls.version !== undefined) return { kind: 'pinned', record }
  const allowed = catalog.policy.decide({ app, environment, type, key: record.key })
  if (!allowed.allowed)
    return { kind: 'unservable', record, reason: reason('DENIED', allowed.message) }
  const store = catalog.stores.get(record.store)
  if (!store)
    return {
      kind: 'unservable',
      record,
      reason: reason('INVALID_CONFIG', `the catalog has no store "${record.store}" any more`),
    }
  return {
    kind: 'read',
    record,
    cls,
    ref: { store: record.store, key: record.key, ttlMs: catalog.cacheTtlFor(cls) },
    provider: store.adapter,
  }
}

/** What a fresh read means for one binding. `update` is the record to write, if any. */
export type Verdict =
  | {
      readonly kind: 'changed'
      readonly record: BindingRecord
      readonly binding: Binding
      readonly version: string
      readonly digest?: string
    }
  | { readonly kind: 'unchanged'; readonly record: BindingRecord; readonly update?: BindingRecord }
  | {
      readonly kind: 'stale'
      readonly record: BindingRecord
      readonly reason: Reason
      readonly update?: BindingRecord
    }
  | {
      readonly kind: 'failed'
      readonly record: BindingRecord
      readonly reason: Reason
      readonly update?: BindingRecord
    }
  | { readonly kind: 'pinned'; readonly record: BindingRecord }

/** The record without its status fields: a `ready` binding. */
export function readyRecord(record: BindingRecord): BindingRecord {
  const { status: _status, staleSince: _since, failure: _failure, ...rest } = record
  return rest
}

/** `failed`, written only when the status or its code changes. */
export function failedVerdict(record: BindingRecord, why: Reason): Verdict {
  const same = record.status === 'failed' && record.failure?.code === why.code
  const update: BindingRecord = { ...readyRecord(record), status: 'failed', failure: why }
  return { kind: 'failed', record, reason: why, ...(same ? {} : { update }) }
}

/**
 * Judges one read. `digestOf` is absent when the host has no digest key: then only a
 * new version counts as a change. With a digest, a new version holding the same values
 * is recorded (the version the state shows) but not re-injected.
 */
export function judge(
  plan: Extract<RecordPlan, { kind: 'read' }>,
  read: ReadOutcome | undefined,
  digestOf: ((binding: Binding) => string) | undefined,
  now: string,
): Verdict {
  const { record } = plan
  if (!read?.ok) {
    const why = read
      ? reason(read.error.code, read.error.message)
      : reason('INTERNAL', `no read result for key "${record.key}"`)
    // Stale since the first failed read: later failures keep that time, and write nothing.
    if (record.status === 'stale') return { kind: 'stale', record, reason: why }
    const update: BindingRecord = {
      ...readyRecord(record),
      status: 'stale',
      staleSince: now,
      failure: why,
    }
    return { kind: 'stale', record, reason: why, update }
  }
  let binding: Binding
  try {
    binding = buildBinding(
      { name: record.name, type: record.type, provider: plan.provider, key: record.key },
      plan.cls,
      read.value,
    )
  } catch (error) {
    const failure = error as { code?: string; message?: string }
    return failedVerdict(
      record,
      reason(failure.code ?? 'INVALID_SECRET', failure.message ?? 'the secret cannot be bound'),
    )
  }
  const digest = digestOf?.(binding)
  const changed =
    digest !== undefined && record.digest !== undefined
      ? digest !== record.digest
      : read.version !== record.version
  if (changed)
    return {
      kind: 'changed',
      record,
      binding,
      version: read.version,
      ...(digest ? { digest } : {}),
    }
  const recovered = record.status === 'stale' || record.status === 'failed'
  const newVersion = read.version !== record.version
  const gainedDigest = digest !== undefined && record.digest === undefined
  if (!recovered && !newVersion && !gainedDigest) return { kind: 'unchanged', record }
  const update: BindingRecord = {
    ...readyRecord(record),
    version: read.version,
    ...(digest === undefined ? {} : { digest }),
  }
  return { kind: 'unchanged', record, update }
}
