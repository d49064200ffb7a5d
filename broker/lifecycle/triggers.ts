/**
 * What the rotate function was woken for, as a refresh: an EventBridge schedule (a
 * sweep of the bindings due in the period that just ended) or a Secrets Manager change
 * (the bindings of that secret, now). Pure, so the handler only parses and calls.
 */
import type { Catalog } from '../catalog/load.ts'
import type { RefreshRequest } from './refresh.ts'
import { describeChange, parseSecretsManagerChange, sourcesOfChange } from './secret-events.ts'

/** The envelope fields read here (an EventBridge event, as a Lambda target receives it). */
export interface EventEnvelope {
  readonly id?: string
  readonly source?: string
  readonly 'detail-type'?: string
  readonly time?: string
  readonly resources?: readonly string[]
  readonly detail?: unknown
}

/** A refresh to run, or why there is none. */
export type RotationTrigger =
  | { readonly kind: 'refresh'; readonly request: RefreshRequest; readonly what: string }
  | { readonly kind: 'ignored'; readonly reason: string }

/**
 * The refresh an event asks for. A schedule firing at `time` sweeps `(time − periodMs,
 * time]`: with `periodMs` the schedule's rate, consecutive sweeps cover time without
 * gaps, and a retried invocation (same event, same `time`) sweeps the same window and
 * emits the same event ids. `now` stands in for an event without a usable `time`.
 */
export function rotationTriggerOf(
  event: EventEnvelope,
  catalog: Pick<Catalog, 'stores'>,
  periodMs: number,
  now: Date,
): RotationTrigger {
  if (event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') {
    const parsed = Date.parse(event.time ?? '')
    const to = new Date(Number.isNaN(parsed) ? now.getTime() : parsed)
    return {
      kind: 'refresh',
      what: 'schedule',
      request: {
        select: { kind: 'due', from: new Date(to.getTime() - periodMs), to },
        trigger: { source: event.resources?.[0] ?? 'aws.events', id: event.id ?? to.toISOString() },
        reason: 'schedule',
      },
    }
  }
  if (event.source === 'aws.secretsmanager') {
    const parsed = parseSecretsManagerChange(event)
    if (parsed.kind === 'ignored') return parsed
    const sources = sourcesOfChange(catalog, parsed.change)
    if (sources.length === 0)
      return {
        kind: 'ignored',
        reason: `no aws-secrets-manager store of the catalog is in ${parsed.change.region}`,
      }
    return {
      kind: 'refresh',
      what: parsed.change.eventName,
      request: {
        select: { kind: 'sources', sources },
        trigger: { source: 'aws.secretsmanager', id: parsed.change.eventId },
        reason: describeChange(parsed.change),
      },
    }
  }
  return {
    kind: 'ignored',
    reason: `events from ${event.source ?? '(no source)'} (${event['detail-type'] ?? 'no detail-type'}) do not refresh bindings`,
  }
}
