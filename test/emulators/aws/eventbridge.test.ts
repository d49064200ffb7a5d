/**
 * The EventBridge bus against moto: events go through the counting proxy to a real
 * bus, a rule delivers them to SQS, and the test reads them back from the queue.
 * Partial failures (FailedEntryCount) are made at the wire by rewriting one PutEvents
 * exchange: the "failed" entries are cut from the request moto sees and reported
 * failed in the response, exactly what a partly failing PutEvents looks like.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  EventBridgeBus,
  EventPublishError,
  EventTooLargeError,
} from '../../../adapters/eventbridge/index.ts'
import { buildEvent, EventTypes, parseEvent } from '../../../events/index.ts'
import { type CountingProxy, type Fault, startCountingProxy } from '../harness/counting-proxy.ts'
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../harness/moto.ts'
import { useMoto } from '../harness/use-moto.ts'
import {
  type BusToQueue,
  createBusToQueue,
  injectedEvents,
  receiveAll,
} from './eventbridge-wiring.ts'
import { uniqueName } from './fixtures.ts'

const moto = useMoto()
let proxy: CountingProxy
let wiring: BusToQueue
const sleeps: number[] = []

beforeAll(async () => {
  proxy = await startCountingProxy(moto.endpoint)
  wiring = await createBusToQueue(moto.endpoint)
})

afterAll(async () => {
  wiring?.close()
  await proxy?.close()
})

beforeEach(() => {
  proxy.clearFaults()
  proxy.resetCounts()
  sleeps.length = 0
})

function createBus(publishAttempts = 4): EventBridgeBus {
  return new EventBridgeBus(
    {
      busName: wiring.busName,
      region: AWS_TEST_REGION,
      endpoint: proxy.url,
      credentials: AWS_TEST_CREDENTIALS,
      publishAttempts,
    },
    {
      sleep: async (ms) => {
        sleeps.push(ms)
      },
      random: () => 0.5,
    },
  )
}

/** Fails the entries at `positions` of the next PutEvents, as AWS reports a partial failure. */
function failEntries(positions: readonly number[], code = 'InternalFailure'): Fault {
  return {
    kind: 'rewrite',
    request: (body) => {
      const request = JSON.parse(body.toString())
      request.Entries = request.Entries.filter((_: unknown, i: number) => !positions.includes(i))
      return Buffer.from(JSON.stringify(request))
    },
    response: (body, forwarded) => {
      const sent = JSON.parse(forwarded.toString()).Entries.length
      const results = [...JSON.parse(body.toString()).Entries]
      const total = sent + positions.length
      const entries = Array.from({ length: total }, (_, i) =>
        positions.includes(i) ? { ErrorCode: code, ErrorMessage: 'injected' } : results.shift(),
      )
      return Buffer.from(JSON.stringify({ FailedEntryCount: positions.length, Entries: entries }))
    },
  }
}

/** Records the entries of the next PutEvents request without changing anything. */
function captureEntries(into: string[][]): Fault {
  return {
    kind: 'rewrite',
    request: (body) => {
      const entries: { Detail: string }[] = JSON.parse(body.toString()).Entries
      into.push(entries.map((e) => JSON.parse(e.Detail).id))
      return body
    },
  }
}

describe('EventBridgeBus on moto', () => {
  it('delivers 25 events in 3 PutEvents calls; each Detail parses back to the event', async () => {
    const events = injectedEvents(25, uniqueName('ok'))
    const bus = createBus()
    await bus.publish(events)
    bus.close()
    expect(proxy.count('PutEvents')).toBe(3)

    const delivered = await receiveAll(wiring, 25)
    expect(delivered).toHaveLength(25)
    const parsed = delivered.map((d) => parseEvent(d.detail))
    expect(parsed.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort())
    for (const [i, d] of delivered.entries()) {
      expect(d.detailType).toBe(EventTypes.injected)
      expect(d.source).toBe('/apps/checkout')
      expect(parsed[i]).toEqual(events.find((e) => e.id === parsed[i]!.id))
    }
  })

  it('retries only the entries counted in FailedEntryCount, after a jittered backoff', async () => {
    const events = injectedEvents(10, uniqueName('partial'))
    const retried: string[][] = []
    proxy.inject(failEntries([1, 4]), { operation: 'PutEvents' })
    proxy.inject(captureEntries(retried), { operation: 'PutEvents' })
    await createBus().publish(events)

    expect(proxy.count('PutEvents')).toBe(2)
    expect(retried).toEqual([[events[1]!.id, events[4]!.id]])
    expect(sleeps).toEqual([50]) // random 0.5 × base 100 ms × 2^0
    const delivered = await receiveAll(wiring, 10)
    expect(delivered.map((d) => parseEvent(d.detail).id).sort()).toEqual(
      events.map((e) => e.id).sort(),
    )
  })

  it('gives up after the attempts, naming the failed event ids and codes', async () => {
    const events = injectedEvents(3, uniqueName('exhausted'))
    proxy.inject(failEntries([0], 'ThrottlingException'), { operation: 'PutEvents', times: 3 })
    const error = await createBus(3)
      .publish(events)
      .catch((e: unknown) => e)

    expect(error).toBeInstanceOf(EventPublishError)
    expect((error as Error).message).toContain(`${events[0]!.id} (ThrottlingException)`)
    expect(error).toMatchObject({
      retryable: true,
      failed: [{ id: events[0]!.id, code: 'ThrottlingException' }],
    })
    expect(proxy.count('PutEvents')).toBe(3)
    expect(sleeps).toEqual([50, 100])
    // The other two got through, once each.
    const delivered = await receiveAll(wiring, 2)
    expect(delivered.map((d) => parseEvent(d.detail).id).sort()).toEqual(
      [events[1]!.id, events[2]!.id].sort(),
    )
  })

  it('retries a whole call that was throttled or reset', async () => {
    const events = injectedEvents(2, uniqueName('call'))
    proxy.inject({ kind: 'throttle' })
    proxy.inject({ kind: 'reset' })
    await createBus().publish(events)
    expect(proxy.count('PutEvents')).toBe(3)
    expect(await receiveAll(wiring, 2)).toHaveLength(2)
  })

  it('refuses an oversized event before sending anything, naming its id', async () => {
    const big = buildEvent(
      EventTypes.released,
      { id: uniqueName('big'), source: '/apps/checkout', time: new Date().toISOString() },
      { app: 'checkout', environment: 'dev', name: 'db', reason: 'x'.repeat(262_144) },
    )
    const error = await createBus()
      .publish([...injectedEvents(2, uniqueName('small')), big])
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(EventTooLargeError)
    expect((error as Error).message).toContain(big.id)
    expect(proxy.count()).toBe(0)
  })
})
