/**
 * The embedded event bus: events stay in memory, in publish order, for the local
 * runtime and tests to read and to subscribe to. Bounded, so a long-running
 * `capbroker serve` does not grow without limit.
 */
import type { CallOptions, EventBus, Logger } from '../../broker/ports.ts'
import { silentLogger } from '../../broker/ports.ts'
import type { AnyCloudEvent } from '../../events/index.ts'

/** Called once per published event, in order. */
export type BusListener = (event: AnyCloudEvent) => void

/** Options for {@link MemoryEventBus}. */
export interface MemoryEventBusOptions {
  /** Keep at most this many events; the oldest are dropped first. Default 10 000. */
  readonly maxEvents?: number
  /** Where a failing listener is reported; default: nowhere. */
  readonly logger?: Logger
}

/** The default bound on retained events. */
export const DEFAULT_MAX_EVENTS = 10_000

/**
 * {@link EventBus} in memory, a ring buffer of the last `maxEvents` events.
 *
 * A listener that throws does not fail `publish` and does not stop other listeners:
 * like a real bus, delivery to one consumer is not the publisher's problem. The error
 * is logged (its name only: a message might quote event data).
 */
export class MemoryEventBus implements EventBus {
  readonly #ring: (AnyCloudEvent | undefined)[]
  readonly #capacity: number
  readonly #listeners = new Set<BusListener>()
  readonly #logger: Logger
  #start = 0
  #size = 0
  #dropped = 0

  constructor(options: MemoryEventBusOptions = {}) {
    const capacity = options.maxEvents ?? DEFAULT_MAX_EVENTS
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError('maxEvents must be a positive integer')
    }
    this.#capacity = capacity
    this.#ring = new Array(capacity)
    this.#logger = options.logger ?? silentLogger
  }

  /** Appends the events in order, then tells each listener about each event. */
  async publish(events: readonly AnyCloudEvent[], options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    for (const event of events) this.#append(event)
    for (const event of events) {
      for (const listener of [...this.#listeners]) {
        try {
          listener(event)
        } catch (error) {
          this.#logger.error('event bus listener failed', {
            eventType: event.type,
            eventId: event.id,
            error: (error as Error)?.name ?? typeof error,
          })
        }
      }
    }
  }

  /** The retained events, oldest first (a copy: later publishes do not change it). */
  get events(): readonly AnyCloudEvent[] {
    const out: AnyCloudEvent[] = []
    for (let i = 0; i < this.#size; i++) {
      out.push(this.#ring[(this.#start + i) % this.#capacity] as AnyCloudEvent)
    }
    return out
  }

  /** How many events were dropped to stay within `maxEvents`. */
  get dropped(): number {
    return this.#dropped
  }

  /** Calls `listener` for every event published from now on; returns the unsubscribe function. */
  subscribe(listener: BusListener): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Forgets the retained events (listeners stay subscribed). */
  clear(): void {
    this.#ring.fill(undefined)
    this.#start = 0
    this.#size = 0
  }

  #append(event: AnyCloudEvent): void {
    if (this.#size < this.#capacity) {
      this.#ring[(this.#start + this.#size) % this.#capacity] = event
      this.#size++
      return
    }
    this.#ring[this.#start] = event
    this.#start = (this.#start + 1) % this.#capacity
    this.#dropped++
  }
}
