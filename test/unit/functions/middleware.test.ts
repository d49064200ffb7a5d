/**
 * The shared middy stack: problem documents for every error (a 5xx keeps its internals
 * to itself, in the response and in the log), header normalization, request bodies as
 * API Gateway sends them, and exactly one log line per invocation.
 */
import { describe, expect, it } from 'vitest'
import { AccessDeniedError, UnavailableError } from '../../../broker/errors.ts'
import {
  eventFunction,
  httpFunction,
  invocationFacts,
  jsonResponse,
  requestBody,
} from '../../../functions/middleware.ts'
import { createJsonLogger } from '../../../server/logger.ts'
import { HttpProblem } from '../../../server/problem.ts'
import { eventBridgeEvent, httpApiEvent, lambdaContext, logCapture } from './fixtures.ts'

const SECRET = 'hunter2-db-password'

function stack(handle: Parameters<typeof httpFunction>[1]) {
  const log = logCapture()
  const handler = httpFunction(
    { name: 'test', logger: createJsonLogger({ write: log.write }) },
    handle,
  )
  return { handler, log }
}

const get = httpApiEvent({ method: 'GET', path: '/things' })

describe('problem documents', () => {
  it('answers a thrown internal error with a bare 500: no message, no stack, nothing logged of it', async () => {
    const { handler, log } = stack(async () => {
      throw new Error(`connection to postgres://admin:${SECRET}@db failed`)
    })
    const response = await handler(get, lambdaContext('test'))
    expect(response.statusCode).toBe(500)
    expect(response.headers?.['content-type']).toBe('application/problem+json')
    expect(JSON.parse(response.body ?? '')).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      instance: '/things',
    })
    expect(log.records()).toEqual([
      expect.objectContaining({ level: 'error', msg: 'invocation', status: 500, error: 'Error' }),
    ])
    expect(JSON.stringify(response) + log.lines.join('')).not.toContain(SECRET)
  })

  it('answers an HttpProblem with its status, detail, field errors and headers', async () => {
    const errors = [{ path: 'data.app', message: 'is required' }]
    const { handler } = stack(async () => {
      throw new HttpProblem(415, 'send JSON', { errors, headers: { accept: 'application/json' } })
    })
    const response = await handler(get, lambdaContext('test'))
    expect(response.statusCode).toBe(415)
    expect(response.headers).toMatchObject({
      accept: 'application/json',
      'content-type': 'application/problem+json',
    })
    expect(JSON.parse(response.body ?? '')).toEqual({
      type: 'about:blank',
      title: 'Unsupported Media Type',
      status: 415,
      detail: 'send JSON',
      instance: '/things',
      errors,
    })
  })

  it('turns a retryable broker error into a 503 and any other into a 500, both without detail', async () => {
    for (const [error, status] of [
      [new UnavailableError('dynamodb: throttled (ThrottlingException)'), 503],
      [new AccessDeniedError('eventbridge: access denied (AccessDeniedException)'), 500],
    ] as const) {
      const { handler, log } = stack(async () => {
        throw error
      })
      const response = await handler(get, lambdaContext('test'))
      expect(response.statusCode).toBe(status)
      expect(JSON.parse(response.body ?? '')).not.toHaveProperty('detail')
      // Our own messages name keys and codes, never values: the operator gets them.
      expect(log.records()[0]).toMatchObject({ code: error.code, detail: error.message })
    }
  })

  it('hides the detail of an HttpProblem of 500 or more', async () => {
    const { handler } = stack(async () => {
      throw new HttpProblem(503, `store said ${SECRET}`)
    })
    const response = await handler(get, lambdaContext('test'))
    expect(response.statusCode).toBe(503)
    expect(response.body).not.toContain(SECRET)
  })
})

describe('requests', () => {
  it('gives the handler lower-case header names, whatever the client sent', async () => {
    let seen: Record<string, unknown> = {}
    const { handler } = stack(async (event) => {
      seen = { ...event.headers }
      return jsonResponse(200, {})
    })
    await handler(
      httpApiEvent({ path: '/things', headers: { 'Content-Type': 'text/plain', 'CE-Id': '1' } }),
      lambdaContext('test'),
    )
    expect(seen).toMatchObject({ 'content-type': 'text/plain', 'ce-id': '1' })
    expect(seen).not.toHaveProperty('Content-Type')
  })

  it('reads plain, base64-encoded and missing bodies byte for byte', () => {
    const bytes = Buffer.from('{"name":"café ☕"}')
    expect(requestBody(httpApiEvent({ path: '/', body: bytes }))).toEqual(bytes)
    expect(requestBody(httpApiEvent({ path: '/', body: bytes, base64: true }))).toEqual(bytes)
    expect(requestBody(httpApiEvent({ path: '/' }))).toEqual(Buffer.alloc(0))
  })
})

describe('the invocation log', () => {
  it('writes one line per invocation: ids, function, status, duration and the noted facts', async () => {
    const { handler, log } = stack(async (event, context) => {
      if (event.rawPath === '/things')
        Object.assign(invocationFacts(context), { app: 'checkout', environment: 'prod' })
      return jsonResponse(202, { ok: true })
    })
    await handler(get, lambdaContext('test', 'invocation-1'))
    await handler(httpApiEvent({ path: '/other' }), lambdaContext('test', 'invocation-2'))
    const records = log.records()
    expect(records).toHaveLength(2)
    expect(records[0]).toMatchObject({
      level: 'info',
      msg: 'invocation',
      function: 'test',
      requestId: 'invocation-1',
      apiRequestId: 'JKJaXmPLvHcESHA=',
      status: 202,
      app: 'checkout',
      environment: 'prod',
    })
    expect(records[0]?.durationMs).toBeTypeOf('number')
    // Facts belong to their invocation: nothing carries over to the next one.
    expect(records[1]).toMatchObject({ requestId: 'invocation-2', status: 202 })
    expect(records[1]).not.toHaveProperty('app')
  })

  it('logs a failed event invocation once, as an error, and rethrows for a retry', async () => {
    const log = logCapture()
    const failure = new UnavailableError('eventbridge: 1 event(s) not published')
    const handler = eventFunction(
      { name: 'resolve', logger: createJsonLogger({ write: log.write }) },
      async () => {
        throw failure
      },
    )
    await expect(handler(eventBridgeEvent({}), lambdaContext('resolve'))).rejects.toBe(failure)
    expect(log.records()).toEqual([
      expect.objectContaining({
        level: 'error',
        function: 'resolve',
        status: 'error',
        code: 'UNAVAILABLE',
      }),
    ])
  })

  it('logs an event invocation with the outcome its handler noted', async () => {
    const log = logCapture()
    const handler = eventFunction(
      { name: 'resolve', logger: createJsonLogger({ write: log.write }) },
      async (_event, context) => {
        invocationFacts(context).outcome = 'resolved'
      },
    )
    await handler(eventBridgeEvent({}), lambdaContext('resolve'))
    expect(log.records()).toEqual([
      expect.objectContaining({ level: 'info', status: 'resolved', outcome: 'resolved' }),
    ])
  })
})
