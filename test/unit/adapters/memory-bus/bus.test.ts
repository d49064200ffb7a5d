import { describe, expect, it, vi } from 'vitest'
import { MemoryEventBus } from '../../../../adapters/memory-bus/index.ts'
import type { Logger } from '../../../../broker/ports.ts'
import { buildEvent, EventTypes } from '../../../../events/index.ts'

const event = (n: number) =>
  buildEvent(
    EventTypes.released,
    { id: `evt-${n}`, source: 'capbroker', time: '2026-01-01T00:00:00Z' },
    { app: 'checkout', environment: 'dev', name: `cap-${n}` },
  )
const ids = (bus: MemoryEventBus) => bus.events.map((e) => e.id)

describe('MemoryEventBus', () => {
  it('keeps events in publish order across publishes', async () => {
    const bus = new MemoryEventBus()
    await bus.publish([event(1), event(2)])
    await bus.publish([event(3)])
    expect(ids(bus)).toEqual(['evt-1', 'evt-2', 'evt-3'])
  })

  it('returns a snapshot that later publishes do not change', async () => {
    const bus = new MemoryEventBus()
    await bus.publish([event(1)])
    const snapshot = bus.events
    await bus.publish([event(2)])
    expect(snapshot.map((e) => e.id)).toEqual(['evt-1'])
  })

  it('tells subscribers about each event in order until they unsubscribe', async () => {
    const bus = new MemoryEventBus()
    const seen: string[] = []
    const unsubscribe = bus.subscribe((e) => seen.push(e.id))
    await bus.publish([event(1), event(2)])
    unsubscribe()
    await bus.publish([event(3)])
    expect(seen).toEqual(['evt-1', 'evt-2'])
  })

  it('keeps only the newest maxEvents events', async () => {
    const bus = new MemoryEventBus({ maxEvents: 3 })
    for (let n = 1; n <= 5; n++) await bus.publish([event(n)])
    expect(ids(bus)).toEqual(['evt-3', 'evt-4', 'evt-5'])
    expect(bus.dropped).toBe(2)
    await bus.publish([event(6), event(7), event(8), event(9)])
    expect(ids(bus)).toEqual(['evt-7', 'evt-8', 'evt-9'])
  })

  it('delivers to other listeners and succeeds when one listener throws, logging it', async () => {
    const logger: Logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }
    const bus = new MemoryEventBus({ logger })
    const seen: string[] = []
    bus.subscribe(() => {
      throw new Error('listener bug')
    })
    bus.subscribe((e) => seen.push(e.id))
    await bus.publish([event(1)])
    expect(seen).toEqual(['evt-1'])
    expect(ids(bus)).toEqual(['evt-1'])
    expect(logger.error).toHaveBeenCalledWith('event bus listener failed', {
      eventType: EventTypes.released,
      eventId: 'evt-1',
      error: 'Error',
    })
  })

  it('publishes nothing when the signal is already aborted', async () => {
    const bus = new MemoryEventBus()
    const controller = new AbortController()
    controller.abort()
    await expect(bus.publish([event(1)], { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    })
    expect(bus.events).toEqual([])
  })

  it('forgets events on clear and refuses a zero bound', async () => {
    const bus = new MemoryEventBus()
    await bus.publish([event(1)])
    bus.clear()
    expect(bus.events).toEqual([])
    expect(() => new MemoryEventBus({ maxEvents: 0 })).toThrow(RangeError)
  })
})
