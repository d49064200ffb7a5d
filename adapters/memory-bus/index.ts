/** The embedded in-memory event bus. */
export {
  type BusListener,
  DEFAULT_MAX_EVENTS,
  MemoryEventBus,
  type MemoryEventBusOptions,
} from './bus.ts'
