/** EventBridge adapter: the broker's event bus on AWS. */
export { EventBridgeBus, type EventBridgeBusDeps, type EventBridgeBusOptions } from './bus.ts'
export {
  type EventEntry,
  EventTooLargeError,
  entrySize,
  fullJitterDelay,
  MAX_ENTRIES_PER_CALL,
  MAX_ENTRY_BYTES,
  planCalls,
  sizedEntries,
  toEntry,
} from './entries.ts'
export {
  EventPublishError,
  type FailedEntry,
  mapEventBridgeError,
  TRANSIENT_ENTRY_CODES,
} from './errors.ts'
