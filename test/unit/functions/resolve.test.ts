/**
 * `resolve` with EventBridge events as a rule delivers them and a broker that records
 * what it was asked: valid requests reach the broker, events that can never succeed are
 * dropped (logged, not retried), failures worth retrying are thrown.
 */
import { describe, expect, it } from 'vitest'
import { EventPublishError } from '../../../adapters/eventbridge/index.ts'
import { UnavailableError } from '../../../broker/errors.ts'
import type { RequestResult } from '../../../broker/pipeline.ts'
import { type AnyCloudEvent, EventTypes } from '../../../events/index.ts'
import { createResolveHandler } from '../../../functions/resolve.ts'
import { createJsonLogger } from '../../../server/logger.ts'
import { eventBridgeEvent, lambdaContext, logCapture, requestedEvent } from './fixtures.ts'

const resolved: RequestResult = {
  status: 'resolved',
  duplicate: false,
  events: [],
  capabilities: [],
}

function resolve(answer: () => Promise<RequestResult> = async () => resolved) {
  const handled: AnyCloudEvent[] = []
  const log = logCapture()
  const handler = createResolveHandler({
    name: 'resolve',
    logger: createJsonLogger({ write: log.write }),
    broker: () => ({
      handle: async (event) => {
        handled.push(event)
        return answer()
      },
    }),
  })
  const deliver = (detail: unknown, detailType?: string) =>
    handler(eventBridgeEvent(detail, detailType), lambdaContext('resolve'))
  return { deliver, handled, log }
}

describe('resolve', () => {
  it('hands the CloudEvent in detail to the broker and logs the outcome', async () => {
    const { deliver, handled, log } = resolve()
    const event = requestedEvent('r-1')
    // What EventBridge delivers is JSON: a plain copy, not the frozen original.
    await deliver(JSON.parse(JSON.stringify(event)))
    expect(handled).toEqual([event])
    expect(log.records()).toEqual([
      expect.objectContaining({
        level: 'info',
        function: 'resolve',
        status: 'resolved',
        app: 'checkout',
        environment: 'prod',
      }),
    ])
  })

  it.each([
    ['a detail that is not a CloudEvent', { hello: 'world' }],
    [
      'a requested event without data.app',
      { ...requestedEvent(), data: { environment: 'prod', capabilities: [] } },
    ],
    ['a detail that is a string', JSON.stringify(requestedEvent())],
  ])('drops %s: logged once, not retried, the broker never asked', async (_label, detail) => {
    const { deliver, handled, log } = resolve()
    await expect(deliver(detail)).resolves.toBeUndefined()
    expect(handled).toEqual([])
    const [warning, invocation] = log.records()
    expect(warning).toMatchObject({ level: 'warn', msg: 'invalid requested event dropped' })
    expect(warning?.problems).toEqual(expect.arrayContaining([expect.any(String)]))
    expect(invocation).toMatchObject({ status: 'dropped' })
  })

  it('drops an event of another type that a misconfigured rule delivered', async () => {
    const { deliver, handled, log } = resolve()
    const other = {
      ...requestedEvent(),
      type: EventTypes.released,
      data: { app: 'checkout', environment: 'prod', name: 'db' },
    }
    await deliver(other, EventTypes.released)
    expect(handled).toEqual([])
    expect(log.records().at(-1)).toMatchObject({ status: 'dropped' })
  })

  it('throws when the outcome could not be published, so Lambda retries the event', async () => {
    const failure = new EventPublishError([{ id: 'e', code: 'ThrottlingException' }], 4)
    const { deliver, log } = resolve(async () => {
      throw failure
    })
    await expect(deliver(requestedEvent())).rejects.toBe(failure)
    expect(log.records().at(-1)).toMatchObject({
      level: 'error',
      status: 'error',
      code: 'UNAVAILABLE',
    })
  })

  it('throws for a request another invocation still holds, so a retry can finish it', async () => {
    const { deliver } = resolve(async () => ({
      ...resolved,
      status: 'in-progress',
      duplicate: true,
    }))
    await expect(deliver(requestedEvent())).rejects.toBeInstanceOf(UnavailableError)
  })

  it('completes a redelivery quietly, noting it was a duplicate', async () => {
    const { deliver, log } = resolve(async () => ({
      ...resolved,
      status: 'failed',
      duplicate: true,
    }))
    await deliver(requestedEvent())
    expect(log.records().at(-1)).toMatchObject({ status: 'failed (duplicate)' })
  })
})
