/**
 * Refresh: re-read the sources of bound capabilities and make the bindings follow
 * them. A changed value is re-injected through the environment's sink and announced
 * (`binding.rotated` per binding, `binding.injected` per app and environment); an
 * unchanged one costs a read and writes nothing; an unreadable source marks the
 * binding `stale` and the old binding keeps being served.
 */
import type { AnyCloudEvent, Reason } from '../../events/index.ts'
import type { Catalog } from '../catalog/load.ts'
import type { InjectConfig } from '../catalog/schema.ts'
import { toBrokerError } from '../errors.ts'
import type {
  AuditEntry,
  Binding,
  BindingSink,
  BindingTarget,
  EventBus,
  LifecycleState,
  Logger,
  RequestKey,
  StateStore,
} from '../ports.ts'
import { referenceId, type SecretResolver } from '../resolution/secret-resolver.ts'
import { auditEntriesOf, recordAudit } from './audit.ts'
import { bindingDigest, type DigestKey, type DigestKeySource } from './digest.ts'
import { reinject, resultOf, statusChange, writeRecord } from './refresh-apply.ts'
import {
  failedVerdict,
  judge,
  planRefresh,
  type RefreshSelection,
  selectBindings,
  type Verdict,
} from './refresh-check.ts'

/** What a refresh needs: the pipeline's ports, and a state that keeps the lifecycle. */
export interface RefreshDependencies {
  readonly catalog: Catalog
  readonly resolver: SecretResolver
  readonly sinkFor: (environment: string, inject: InjectConfig) => Promise<BindingSink>
  readonly state: StateStore & LifecycleState
  readonly bus: EventBus
  readonly clock: () => Date
  readonly digestKey?: DigestKeySource
  readonly source: string
  readonly logger: Logger
}

/** What to refresh and why. */
export interface RefreshRequest {
  readonly select: RefreshSelection
  /**
   * Who or what asked (source + id): the schedule, a provider's change event, the CLI.
   * Recorded in the audit log, and the seed of the emitted events' ids, so a retried
   * trigger emits the same ids.
   */
  readonly trigger: RequestKey
  /** For the audit log and the log line: `PutSecretValue by arn:…`, `schedule`. */
  readonly reason?: string
}

/** What happened to one binding. */
export interface RefreshedBinding {
  readonly app: string
  readonly environment: string
  readonly name: string
  readonly store: string
  readonly key: string
  readonly result: 'rotated' | 'unchanged' | 'stale' | 'failed' | 'pinned'
  readonly previousVersion?: string
  readonly version: string
  /** For `stale`: since when; for `stale` and `failed`: why. */
  readonly since?: string
  readonly reason?: Reason
}

/** What a refresh did. */
export interface RefreshResult {
  readonly bindings: readonly RefreshedBinding[]
  readonly events: readonly AnyCloudEvent[]
}

const targetId = (t: BindingTarget) => JSON.stringify([t.app, t.environment])
/** How many apps' bindings are re-injected at once. */
const REINJECT_CONCURRENCY = 4

/** Refreshes the selected bindings; see the module comment. */
export async function refreshBindings(
  deps: RefreshDependencies,
  request: RefreshRequest,
): Promise<RefreshResult> {
  const records = await selectBindings(deps.state, deps.catalog, request.select)
  if (records.length === 0) return { bindings: [], events: [] }
  const now = deps.clock().toISOString()
  const plans = records.map((record) => planRefresh(deps.catalog, record))
  const reads = plans.flatMap((p) => (p.kind === 'read' ? [p.ref] : []))
  // A refresh exists to see the provider's value now, not the cached one; the fresh
  // reads go back into the cache, so requests after it are served the new value.
  for (const ref of reads) deps.resolver.invalidate({ store: ref.store, key: ref.key })
  const outcomes = await deps.resolver.resolve(reads)
  const key = await loadDigestKey(deps)
  const verdicts: Verdict[] = plans.map((plan) => {
    if (plan.kind === 'pinned') return { kind: 'pinned', record: plan.record }
    if (plan.kind === 'unservable') return failedVerdict(plan.record, plan.reason)
    const digestOf = key ? (b: Binding) => bindingDigest(plan.record, b, key) : undefined
    return judge(plan, outcomes.get(referenceId(plan.ref)), digestOf, now)
  })

  const results: RefreshedBinding[] = []
  const events: AnyCloudEvent[] = []
  const audit: AuditEntry[] = []
  const changed = new Map<string, Extract<Verdict, { kind: 'changed' }>[]>()
  for (const verdict of verdicts) {
    if (verdict.kind === 'changed') {
      const id = targetId(verdict.record)
      changed.set(id, [...(changed.get(id) ?? []), verdict])
      continue
    }
    results.push(resultOf(verdict))
    if (verdict.kind === 'pinned' || !verdict.update) continue
    const status = await writeRecord(deps, verdict.update, verdict.record)
    if (status !== 'updated') continue
    const entry = statusChange(verdict, now, request.trigger)
    if (entry) audit.push(entry)
  }
  // Apps are independent (one sink call each): a few at a time, so a sweep of many apps
  // is not one long queue, nor a burst against one store.
  const groups = [...changed.values()]
  for (let i = 0; i < groups.length; i += REINJECT_CONCURRENCY) {
    const batch = groups.slice(i, i + REINJECT_CONCURRENCY)
    for (const done of await Promise.all(
      batch.map((g) => reinject(deps, g, request.trigger, now)),
    )) {
      results.push(...done.results)
      events.push(...done.events)
      audit.push(...done.audit)
    }
  }
  await recordAudit(
    deps.state,
    [...audit, ...auditEntriesOf(events, request.trigger, now)],
    deps.logger,
  )
  const count = (r: RefreshedBinding['result']) => results.filter((b) => b.result === r).length
  deps.logger.info('refresh', {
    trigger: request.trigger.source,
    triggerId: request.trigger.id,
    reason: request.reason,
    checked: results.length,
    rotated: count('rotated'),
    stale: count('stale'),
    failed: count('failed'),
  })
  return { bindings: results, events }
}

async function loadDigestKey(deps: RefreshDependencies): Promise<DigestKey | undefined> {
  if (!deps.digestKey) return undefined
  try {
    return await deps.digestKey()
  } catch (error) {
    // Without the key a refresh still works: it compares versions instead of values.
    deps.logger.warn('digest key unavailable; comparing versions only', {
      error: toBrokerError(error, 'digest key').message,
    })
    return undefined
  }
}
