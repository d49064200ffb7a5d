/**
 * `bindings` with HTTP API 2.0 events and a state store that answers from memory: the
 * same body as the embedded server's `GET /apps/<app>/environments/<env>/bindings`.
 */
import { describe, expect, it } from 'vitest'
import { UnavailableError } from '../../../broker/errors.ts'
import type { BindingRecord, BindingTarget } from '../../../broker/ports.ts'
import { createBindingsHandler } from '../../../functions/bindings.ts'
import { createJsonLogger } from '../../../server/logger.ts'
import { httpApiEvent, lambdaContext, logCapture } from './fixtures.ts'

const record: BindingRecord = {
  app: 'checkout',
  environment: 'prod',
  name: 'orders-db',
  type: 'postgres',
  provider: 'aws-secrets-manager',
  store: 'aws',
  key: 'rds/checkout-prod',
  version: 'v-1',
  entries: ['type', 'provider', 'host', 'password'],
  secretEntries: ['password'],
  sink: 'store',
  location: 'capbroker/checkout/prod',
  injectedAt: '2025-06-01T12:00:00.000Z',
  request: { source: '/apps/checkout', id: 'req-1' },
}

function bindings(list: (target: BindingTarget) => Promise<BindingRecord[]>) {
  const asked: BindingTarget[] = []
  const log = logCapture()
  const handler = createBindingsHandler({
    name: 'bindings',
    logger: createJsonLogger({ write: log.write }),
    state: () => ({
      listBindings: (target) => {
        asked.push(target)
        return list(target)
      },
    }),
  })
  const get = async (app: string, env: string, withParameters = true) => {
    const path = `/apps/${app}/environments/${env}/bindings`
    const event = httpApiEvent({
      method: 'GET',
      path,
      routeKey: 'GET /apps/{app}/environments/{env}/bindings',
      ...(withParameters ? { pathParameters: { app, env } } : {}),
    })
    const response = await handler(event, lambdaContext('bindings'))
    return { ...response, json: JSON.parse(response.body ?? 'null') }
  }
  return { get, asked, log }
}

describe('bindings', () => {
  it('lists the metadata of the bindings, as the embedded server does', async () => {
    const { get, asked, log } = bindings(async () => [record])
    const response = await get('checkout', 'prod')
    expect(response.statusCode).toBe(200)
    expect(asked).toEqual([{ app: 'checkout', environment: 'prod' }])
    const { app: _a, environment: _e, request: _r, ...metadata } = record
    expect(response.json).toEqual({
      app: 'checkout',
      environment: 'prod',
      bindings: [{ ...metadata, status: 'ready' }],
    })
    expect(log.records()[0]).toMatchObject({ status: 200, app: 'checkout', environment: 'prod' })
  })

  it('reads app and environment from the raw path when the route has no parameters', async () => {
    const { get, asked } = bindings(async () => [])
    expect((await get('checkout', 'dev', false)).json).toEqual({
      app: 'checkout',
      environment: 'dev',
      bindings: [],
    })
    expect(asked).toEqual([{ app: 'checkout', environment: 'dev' }])
  })

  it('answers 400 for a name outside the pattern, before asking the state store', async () => {
    const { get, asked } = bindings(async () => [])
    const response = await get('..', 'prod')
    expect(response.statusCode).toBe(400)
    expect(response.json.detail).toMatch(/^app must match/)
    expect(asked).toEqual([])
  })

  it('answers 503 without detail when the state table is unavailable', async () => {
    const { get } = bindings(async () => {
      throw new UnavailableError('dynamodb: bindings of checkout/prod: throttled')
    })
    const response = await get('checkout', 'prod')
    expect(response.statusCode).toBe(503)
    expect(response.json).not.toHaveProperty('detail')
  })
})
