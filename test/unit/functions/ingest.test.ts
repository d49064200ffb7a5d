/**
 * `ingest` with HTTP API 2.0 events as API Gateway sends them and a bus that records
 * what it was given (the bus is a port): the three CloudEvents HTTP modes, base64
 * bodies, and the 400/413/415/503 answers of the embedded runtime.
 */
import { describe, expect, it } from 'vitest'
import { EventPublishError, EventTooLargeError } from '../../../adapters/eventbridge/index.ts'
import type { EventBus } from '../../../broker/ports.ts'
import type { AnyCloudEvent } from '../../../events/index.ts'
import { createIngestHandler } from '../../../functions/ingest.ts'
import { createJsonLogger } from '../../../server/logger.ts'
import { httpApiEvent, lambdaContext, logCapture, requestedEvent } from './fixtures.ts'

function ingest(publish: EventBus['publish'] = async () => {}) {
  const published: AnyCloudEvent[][] = []
  const log = logCapture()
  const handler = createIngestHandler({
    name: 'ingest',
    logger: createJsonLogger({ write: log.write }),
    bus: () => ({
      publish: async (events) => {
        published.push([...events])
        await publish(events)
      },
    }),
  })
  const call = async (request: Parameters<typeof httpApiEvent>[0]) => {
    const response = await handler(httpApiEvent(request), lambdaContext('ingest'))
    return { ...response, json: JSON.parse(response.body ?? 'null') }
  }
  return { call, published, log }
}

const structured = (body: unknown, headers = {}) => ({
  path: '/events',
  headers: { 'content-type': 'application/cloudevents+json', ...headers },
  body: JSON.stringify(body),
})

describe('ingest', () => {
  it('puts a structured-mode event on the bus and answers 202 with its id and source', async () => {
    const { call, published, log } = ingest()
    const event = requestedEvent('s-1')
    const response = await call(structured(event))
    expect(response.statusCode).toBe(202)
    expect(response.json).toEqual({ accepted: [{ id: 's-1', source: '/apps/checkout' }] })
    expect(published).toEqual([[event]])
    expect(log.records()).toEqual([
      expect.objectContaining({
        function: 'ingest',
        status: 202,
        app: 'checkout',
        environment: 'prod',
        events: 1,
      }),
    ])
  })

  it('decodes a base64-encoded body (API Gateway does so for types it deems binary)', async () => {
    const { call, published } = ingest()
    const event = requestedEvent('b64-1')
    const response = await call({ ...structured(event), base64: true })
    expect(response.statusCode).toBe(202)
    expect(published).toEqual([[event]])
  })

  it('reads binary mode from ce-* headers, in whatever case the client wrote them', async () => {
    const { call, published } = ingest()
    const event = requestedEvent('bin-1')
    const response = await call({
      path: '/events',
      headers: {
        'Content-Type': 'application/json',
        'Ce-Id': event.id,
        'Ce-Source': event.source,
        'Ce-Type': event.type,
        'Ce-Specversion': '1.0',
        'Ce-Time': event.time as string,
      },
      body: JSON.stringify(event.data),
    })
    expect(response.statusCode).toBe(202)
    expect(published[0]?.[0]).toMatchObject({ id: 'bin-1', type: event.type, data: event.data })
  })

  it('publishes a batch in one call', async () => {
    const { call, published } = ingest()
    const batch = [requestedEvent('batch-1'), requestedEvent('batch-2')]
    const response = await call({
      path: '/events',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(batch),
    })
    expect(response.statusCode).toBe(202)
    expect(response.json.accepted.map((a: { id: string }) => a.id)).toEqual(['batch-1', 'batch-2'])
    expect(published).toEqual([batch])
  })

  it('answers 400 naming each wrong field, and publishes nothing', async () => {
    const { call, published } = ingest()
    const { app: _app, ...data } = requestedEvent('bad-1').data
    const response = await call(structured({ ...requestedEvent('bad-1'), data }))
    expect(response.statusCode).toBe(400)
    expect(response.headers?.['content-type']).toBe('application/problem+json')
    expect(response.json.errors).toEqual([
      expect.objectContaining({ path: expect.stringContaining('data') }),
    ])
    expect(published).toEqual([])
  })

  it('refuses other event types, other content types and oversized bodies', async () => {
    const { call, published } = ingest()
    const outcome = { ...requestedEvent('x'), type: 'io.capbroker.capability.resolved.v1' }
    expect((await call(structured(outcome))).statusCode).toBe(400)
    const plain = await call({
      path: '/events',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    })
    expect(plain.statusCode).toBe(415)
    expect(plain.headers?.accept).toContain('application/cloudevents+json')
    const big = await call({ ...structured({}), body: 'x'.repeat(1024 * 1024 + 1) })
    expect(big.statusCode).toBe(413)
    expect(published).toEqual([])
  })

  it('refuses ?wait=true, which only the embedded runtime can honour, and ignores wait=false', async () => {
    const { call } = ingest()
    const waiting = await call({ ...structured(requestedEvent('w-1')), query: 'wait=true' })
    expect(waiting.statusCode).toBe(400)
    expect(waiting.json.detail).toMatch(/not available on the AWS deployment/)
    const notWaiting = await call({ ...structured(requestedEvent('w-2')), query: 'wait=false' })
    expect(notWaiting.statusCode).toBe(202)
  })

  it('answers 503 without detail when the bus is unavailable, so the client retries', async () => {
    const { call } = ingest(async (events) => {
      throw new EventPublishError([{ id: events[0]!.id, code: 'ThrottlingException' }], 4)
    })
    const response = await call(structured(requestedEvent('t-1')))
    expect(response.statusCode).toBe(503)
    expect(response.json).not.toHaveProperty('detail')
  })

  it('answers 413 naming the event that is too large for EventBridge', async () => {
    const { call } = ingest(async (events) => {
      throw new EventTooLargeError(events[0]!.id, 300_000)
    })
    const response = await call(structured(requestedEvent('huge-1')))
    expect(response.statusCode).toBe(413)
    expect(response.json.detail).toContain('huge-1')
  })
})
