/**
 * Applying a refresh's verdicts: compare-and-write of records, the result per binding,
 * the audit entries of status changes, and re-injection of changed bindings.
 */
import { type AnyCloudEvent, buildEvent, EventTypes, type Reason } from '../../events/index.ts'
import type { InjectConfig } from '../catalog/schema.ts'
import { toBrokerError } from '../errors.ts'
import { deriveEventId, injectedEventData, reason } from '../outcome.ts'
import type { AuditEntry, BindingRecord, BindingSink, RequestKey } from '../ports.ts'
import { statusEntry } from './audit.ts'
import type { RefreshDependencies, RefreshedBinding } from './refresh.ts'
import { failedVerdict, readyRecord, type Verdict } from './refresh-check.ts'

/** Compare-and-write; a binding released meanwhile stays released. */
export async function writeRecord(
  deps: RefreshDependencies,
  update: BindingRecord,
  read: BindingRecord,
): Promise<'updated' | 'missing' | 'changed'> {
  const status = await deps.state.updateBinding(update, read.injectedAt)
  if (status !== 'updated')
    deps.logger.info('refresh: binding changed meanwhile; left as it is', {
      app: read.app,
      environment: read.environment,
      name: read.name,
      status,
    })
  return status
}

/** What a verdict other than `changed` means for the caller. */
export function resultOf(verdict: Exclude<Verdict, { kind: 'changed' }>): RefreshedBinding {
  const { record } = verdict
  const base = {
    app: record.app,
    environment: record.environment,
    name: record.name,
    store: record.store,
    key: record.key,
    version:
      verdict.kind === 'unchanged' ? (verdict.update?.version ?? record.version) : record.version,
  }
  if (verdict.kind === 'stale')
    return {
      ...base,
      result: 'stale',
      since: verdict.update?.staleSince ?? record.staleSince ?? '',
      reason: verdict.reason,
    }
  if (verdict.kind === 'failed') return { ...base, result: 'failed', reason: verdict.reason }
  return { ...base, result: verdict.kind }
}

/** The audit entry of a status change, if the verdict is one. */
export function statusChange(
  verdict: Verdict,
  now: string,
  trigger: RequestKey,
): AuditEntry | undefined {
  const { record } = verdict
  const id = (kind: string) =>
    deriveEventId(trigger, `${kind}/${record.app}/${record.environment}/${record.name}`)
  const why = (r: Reason) => `${r.code}: ${r.message}`
  if (verdict.kind === 'stale')
    return statusEntry(record, record.name, 'stale', now, id('stale'), trigger, why(verdict.reason))
  if (verdict.kind === 'failed')
    return statusEntry(
      record,
      record.name,
      'refresh-failed',
      now,
      id('failed'),
      trigger,
      why(verdict.reason),
    )
  if (verdict.kind === 'unchanged' && (record.status === 'stale' || record.status === 'failed'))
    return statusEntry(
      record,
      record.name,
      'recovered',
      now,
      id('recovered'),
      trigger,
      `was ${record.status}`,
    )
  return undefined
}

/**
 * Re-injects one app's changed bindings in one sink call (one bundle write), announces
 * them, then records them. Announcing before recording: if recording fails, the next
 * refresh finds the change again and announces it again — a consumer may see a
 * rotation twice, never not at all.
 */
export async function reinject(
  deps: RefreshDependencies,
  group: readonly Extract<Verdict, { kind: 'changed' }>[],
  trigger: RequestKey,
  now: string,
): Promise<{ results: RefreshedBinding[]; events: AnyCloudEvent[]; audit: AuditEntry[] }> {
  const first = group[0]?.record as BindingRecord
  const target = { app: first.app, environment: first.environment }
  const env = deps.catalog.environments.get(target.environment)
  let receipt: Awaited<ReturnType<BindingSink['inject']>>
  try {
    if (!env) throw new Error(`unknown environment "${target.environment}"`)
    const sink = await deps.sinkFor(target.environment, env.inject)
    receipt = await sink.inject(
      target,
      group.map((v) => v.binding),
    )
  } catch (error) {
    const failure = toBrokerError(error, `re-injecting into environment "${target.environment}"`)
    const why = reason('INJECTION_FAILED', failure.message)
    deps.logger.warn('refresh: re-injection failed', { ...target, error: why.message })
    const results: RefreshedBinding[] = []
    const audit: AuditEntry[] = []
    for (const v of group) {
      const verdict = failedVerdict(v.record, why)
      results.push(resultOf(verdict as Exclude<Verdict, { kind: 'changed' }>))
      if (verdict.kind === 'failed' && verdict.update) {
        if ((await writeRecord(deps, verdict.update, v.record)) === 'updated') {
          const entry = statusChange(verdict, now, trigger)
          if (entry) audit.push(entry)
        }
      }
    }
    return { results, events: [], audit }
  }
  const attributes = (type: string, suffix: string) => ({
    id: deriveEventId(trigger, `${type}/${target.app}/${target.environment}${suffix}`),
    source: deps.source,
    time: now,
  })
  const rotated = group.map((v) =>
    buildEvent(
      EventTypes.rotated,
      attributes(EventTypes.rotated, `/${v.record.name}/${v.version}`),
      {
        ...target,
        name: v.record.name,
        type: v.record.type,
        store: v.record.store,
        key: v.record.key,
        previousVersion: v.record.version,
        version: v.version,
        entries: ['type', 'provider', ...v.binding.entries.keys()],
      },
    ),
  )
  const injected = buildEvent(
    EventTypes.injected,
    attributes(
      EventTypes.injected,
      `/${group.map((v) => `${v.record.name}@${v.version}`).join(',')}`,
    ),
    injectedEventData(target, { source: trigger.source, id: trigger.id }, receipt),
  )
  const events: AnyCloudEvent[] = [...rotated, injected]
  await deps.bus.publish(events)
  const results: RefreshedBinding[] = []
  for (const v of group) {
    // A digest of the old values must not survive the values it describes.
    const { digest: _old, ...previous } = readyRecord(v.record)
    const update: BindingRecord = {
      ...previous,
      version: v.version,
      entries: ['type', 'provider', ...v.binding.entries.keys()],
      secretEntries: [...v.binding.secretEntries],
      provider: v.binding.provider,
      sink: receipt.sink,
      location: receipt.location,
      injectedAt: now,
      lastRotatedAt: now,
      ...(v.digest === undefined ? {} : { digest: v.digest }),
    }
    const status = await writeRecord(deps, update, v.record)
    if (status === 'missing') {
      // Released while we re-read it: take back what we just wrote.
      const sink = await deps.sinkFor(target.environment, (env as { inject: InjectConfig }).inject)
      await sink.remove(target, [v.record.name])
    }
    results.push({
      ...target,
      name: v.record.name,
      store: v.record.store,
      key: v.record.key,
      result: 'rotated',
      previousVersion: v.record.version,
      version: v.version,
    })
  }
  return { results, events, audit: [] }
}
