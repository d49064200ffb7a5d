/**
 * CloudEvent → PutEvents entry, the entry size as AWS computes it, and the split into
 * calls. Pure functions: unit-tested without a network.
 */

import { BrokerError } from '../../broker/errors.ts'
import type { AnyCloudEvent } from '../../events/index.ts'

/** PutEvents refuses an entry (and a whole request) over 256 KB. */
export const MAX_ENTRY_BYTES = 256 * 1024

/** PutEvents takes at most 10 entries per call. */
export const MAX_ENTRIES_PER_CALL = 10

/** The PutEvents entry fields the bus sets. */
export interface EventEntry {
  readonly Source: string
  readonly DetailType: string
  /** The whole structured-mode CloudEvent as JSON, so a consumer can `parseEvent` it back. */
  readonly Detail: string
  readonly EventBusName: string
  readonly Time?: Date
}

/** What {@link entrySize} looks at: any PutEvents entry (ours never sets Resources). */
export interface EntrySizeInput {
  readonly Source: string
  readonly DetailType: string
  readonly Detail?: string
  readonly Time?: Date
  readonly Resources?: readonly string[]
}

/**
 * Maps a CloudEvent to an entry: `source` → Source and `type` → DetailType (so rules
 * match on `detail-type`), the whole event as Detail, `time` → Time when set.
 */
export function toEntry(event: AnyCloudEvent, busName: string): EventEntry {
  const entry = {
    Source: event.source,
    DetailType: event.type,
    Detail: JSON.stringify(event),
    EventBusName: busName,
  }
  return event.time === undefined ? entry : { ...entry, Time: new Date(event.time) }
}

/**
 * The entry size as the EventBridge guide ("Calculating PutEvents event entry size")
 * defines it: 14 bytes for Time if set, plus the UTF-8 bytes of Source, DetailType,
 * Detail and each Resources item. EventBusName does not count.
 */
export function entrySize(entry: EntrySizeInput): number {
  let size = entry.Time === undefined ? 0 : 14
  size += Buffer.byteLength(entry.Source, 'utf8')
  size += Buffer.byteLength(entry.DetailType, 'utf8')
  if (entry.Detail !== undefined) size += Buffer.byteLength(entry.Detail, 'utf8')
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(resource, 'utf8')
  return size
}

/** An event whose entry is over {@link MAX_ENTRY_BYTES}: names the event id and the size. */
export class EventTooLargeError extends BrokerError {
  override name = 'EventTooLargeError'
  readonly eventId: string
  readonly size: number
  constructor(eventId: string, size: number) {
    super(
      'INVALID_REQUEST',
      `eventbridge: event "${eventId}" is ${size} bytes as a PutEvents entry (limit ${MAX_ENTRY_BYTES})`,
    )
    this.eventId = eventId
    this.size = size
  }
}

/** An event with its entry and the entry's size. */
export interface SizedEntry {
  readonly id: string
  readonly entry: EventEntry
  readonly size: number
}

/** Builds and size-checks every entry before anything is sent: one oversized event fails the publish. */
export function sizedEntries(events: readonly AnyCloudEvent[], busName: string): SizedEntry[] {
  return events.map((event) => {
    const entry = toEntry(event, busName)
    const size = entrySize(entry)
    if (size > MAX_ENTRY_BYTES) throw new EventTooLargeError(event.id, size)
    return { id: event.id, entry, size }
  })
}

/**
 * Groups entries into calls of at most 10 entries and, since the guide also limits the
 * total of one request to 256 KB, at most {@link MAX_ENTRY_BYTES} per call. Order kept.
 */
export function planCalls(
  entries: readonly SizedEntry[],
  maxEntries = MAX_ENTRIES_PER_CALL,
  maxBytes = MAX_ENTRY_BYTES,
): SizedEntry[][] {
  const calls: SizedEntry[][] = []
  let current: SizedEntry[] = []
  let bytes = 0
  for (const item of entries) {
    if (current.length > 0 && (current.length >= maxEntries || bytes + item.size > maxBytes)) {
      calls.push(current)
      current = []
      bytes = 0
    }
    current.push(item)
    bytes += item.size
  }
  if (current.length > 0) calls.push(current)
  return calls
}

export { fullJitterDelay } from '../aws-common/backoff.ts'
