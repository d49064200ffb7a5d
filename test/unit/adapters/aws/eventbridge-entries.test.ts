import { describe, expect, it } from 'vitest'
import {
  EventTooLargeError,
  entrySize,
  fullJitterDelay,
  MAX_ENTRY_BYTES,
  planCalls,
  sizedEntries,
  toEntry,
} from '../../../../adapters/eventbridge/index.ts'
import { buildEvent, EventTypes } from '../../../../events/index.ts'

const released = (id: string, reason: string, time = '2025-01-01T00:00:00Z') =>
  buildEvent(
    EventTypes.released,
    { id, source: '/apps/checkout', time },
    { app: 'checkout', environment: 'dev', name: 'db', reason },
  )

describe('toEntry', () => {
  it('maps source, type, the whole event as Detail, the bus and the time', () => {
    const event = released('e1', 'gone')
    const entry = toEntry(event, 'capbroker')
    expect(entry).toEqual({
      Source: '/apps/checkout',
      DetailType: EventTypes.released,
      Detail: JSON.stringify(event),
      EventBusName: 'capbroker',
      Time: new Date('2025-01-01T00:00:00Z'),
    })
    expect(JSON.parse(entry.Detail)).toEqual(event)
  })
})

describe('entrySize (the EventBridge guide)', () => {
  it('counts 14 bytes for Time and UTF-8 bytes of Source, DetailType, Detail, Resources', () => {
    const base = { Source: 'src', DetailType: 'dt', Detail: '{"a":"é"}' }
    expect(entrySize(base)).toBe(3 + 2 + 10)
    expect(entrySize({ ...base, Time: new Date() })).toBe(3 + 2 + 10 + 14)
    expect(entrySize({ ...base, Resources: ['arn:1', 'ü'] })).toBe(3 + 2 + 10 + 5 + 2)
  })

  it('does not count EventBusName', () => {
    const entry = toEntry(released('e1', 'x'), 'a-very-long-bus-name-that-would-change-the-size')
    expect(entrySize(entry)).toBe(entrySize({ ...entry, EventBusName: 'b' } as typeof entry))
  })
})

describe('sizedEntries', () => {
  const padTo = (target: number) => {
    const probe = entrySize(toEntry(released('big', ''), 'bus'))
    return released('big', 'x'.repeat(target - probe))
  }

  it('accepts an entry of exactly 256 KB and refuses one byte more, naming the event', () => {
    expect(sizedEntries([padTo(MAX_ENTRY_BYTES)], 'bus')[0]?.size).toBe(MAX_ENTRY_BYTES)
    const over = () => sizedEntries([released('ok', 'small'), padTo(MAX_ENTRY_BYTES + 1)], 'bus')
    expect(over).toThrow(EventTooLargeError)
    expect(over).toThrow(/event "big" is 262145 bytes/)
  })
})

describe('planCalls', () => {
  const item = (id: string, size: number) => ({ id, size, entry: toEntry(released(id, ''), 'bus') })

  it('puts at most 10 entries in a call, keeping order', () => {
    const items = Array.from({ length: 25 }, (_, i) => item(`e${i}`, 100))
    const calls = planCalls(items)
    expect(calls.map((c) => c.length)).toEqual([10, 10, 5])
    expect(calls.flat().map((i) => i.id)).toEqual(items.map((i) => i.id))
  })

  it('starts a new call before the request total would pass 256 KB', () => {
    const calls = planCalls([
      item('a', 100_000),
      item('b', 100_000),
      item('c', 100_000),
      item('d', 1),
    ])
    expect(calls.map((c) => c.map((i) => i.id))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ])
  })

  it('plans no call for no events', () => {
    expect(planCalls([])).toEqual([])
  })
})

describe('fullJitterDelay', () => {
  it('is random × min(cap, base × 2^retry)', () => {
    expect(fullJitterDelay(0, () => 0.5, 100, 2000)).toBe(50)
    expect(fullJitterDelay(3, () => 0.5, 100, 2000)).toBe(400)
    expect(fullJitterDelay(10, () => 0.999, 100, 2000)).toBe(1998)
    expect(fullJitterDelay(4, () => 0, 100, 2000)).toBe(0)
  })
})
