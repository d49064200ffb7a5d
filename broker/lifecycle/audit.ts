/**
 * The audit log: what happened to an app's bindings in an environment, and who or what
 * caused it. Every entry comes from an event the broker published (or the requested
 * event it handled) plus the trigger, or from a binding's status changing during a
 * refresh. Names, versions and reason codes only — never a value.
 */
import { type AnyCloudEvent, EventTypes } from '../../events/index.ts'
import type { AuditEntry, BindingTarget, Logger, RequestKey, StateStore } from '../ports.ts'
import { hasLifecycle } from '../ports.ts'

const KIND: Record<string, string> = {
  [EventTypes.requested]: 'requested',
  [EventTypes.resolved]: 'resolved',
  [EventTypes.failed]: 'failed',
  [EventTypes.denied]: 'denied',
  [EventTypes.injected]: 'injected',
  [EventTypes.rotated]: 'rotated',
  [EventTypes.released]: 'released',
}

/** What a requested event asked for, by name, whatever its form (list or Score). */
function requestedNames(data: Record<string, unknown>): string[] {
  const list = data.capabilities as { name?: unknown }[] | undefined
  if (Array.isArray(list)) return list.map((c) => String(c?.name ?? ''))
  const resources = (data.score as { resources?: Record<string, unknown> } | undefined)?.resources
  return resources ? Object.keys(resources) : []
}

function describe(event: AnyCloudEvent): { names: string[]; detail?: string } {
  switch (event.type) {
    case EventTypes.requested:
      return { names: requestedNames(event.data as unknown as Record<string, unknown>) }
    case EventTypes.resolved:
      return {
        names: event.data.capabilities.map((c) => c.name),
        detail: event.data.capabilities.map((c) => `${c.name}@${c.version}`).join(', '),
      }
    case EventTypes.failed:
    case EventTypes.denied: {
      const notReady = event.data.capabilities.filter((c) => c.status !== 'ready')
      const why = notReady.map((c) => `${c.name}: ${c.status} ${c.reason?.code ?? ''}`.trim())
      const request = event.data.reason ? [`request: ${event.data.reason.code}`] : []
      return {
        names: event.data.capabilities.map((c) => c.name),
        detail: [...request, ...why].join(', '),
      }
    }
    case EventTypes.injected:
      return {
        names: event.data.bindings.map((b) => b.name),
        detail: `${event.data.sink} ${event.data.location}${event.data.version ? ` version ${event.data.version}` : ''}`,
      }
    case EventTypes.rotated:
      return {
        names: [event.data.name],
        detail: `${event.data.store} ${event.data.key}: version ${event.data.previousVersion} → ${event.data.version}`,
      }
    case EventTypes.released:
      return {
        names: [event.data.name],
        ...(event.data.reason ? { detail: event.data.reason } : {}),
      }
    default:
      return { names: [] }
  }
}

/**
 * The audit entries of events (each names its app and environment in its data), all at
 * `now` — when the broker recorded them — so a log reads in the order things were
 * recorded, not in the order of the clocks that stamped the events.
 */
export function auditEntriesOf(
  events: readonly AnyCloudEvent[],
  trigger: RequestKey,
  now: string,
): AuditEntry[] {
  return events.flatMap((event): AuditEntry[] => {
    const data = event.data as { app?: unknown; environment?: unknown }
    const kind = KIND[event.type]
    if (kind === undefined || typeof data.app !== 'string' || typeof data.environment !== 'string')
      return []
    const { names, detail } = describe(event)
    return [
      {
        app: data.app,
        environment: data.environment,
        time: now,
        id: event.id,
        kind,
        names,
        trigger: { source: trigger.source, id: trigger.id },
        ...(detail ? { detail } : {}),
      },
    ]
  })
}

/** A status change found by a refresh: `stale`, `recovered` or `refresh-failed`. */
export function statusEntry(
  target: BindingTarget,
  name: string,
  kind: 'stale' | 'recovered' | 'refresh-failed',
  time: string,
  id: string,
  trigger: RequestKey,
  detail?: string,
): AuditEntry {
  return {
    app: target.app,
    environment: target.environment,
    time,
    id,
    kind,
    names: [name],
    trigger: { source: trigger.source, id: trigger.id },
    ...(detail ? { detail } : {}),
  }
}

/**
 * Appends to the audit log when the state keeps one. Best effort: the events are
 * already published and the state recorded, and a log line says what was not audited.
 */
export async function recordAudit(
  state: StateStore,
  entries: readonly AuditEntry[],
  logger: Logger,
): Promise<void> {
  if (entries.length === 0 || !hasLifecycle(state)) return
  try {
    await state.appendAudit(entries)
  } catch (error) {
    logger.warn('audit not recorded', {
      entries: entries.length,
      kinds: [...new Set(entries.map((e) => e.kind))].join(','),
      error: (error as Error).name,
    })
  }
}
