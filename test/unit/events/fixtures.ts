/** Valid data and attributes for every event type, shared by the events tests. */
import type { DataOf, EventAttributes, EventType } from '../../../events/index.ts'
import { EventTypes } from '../../../events/index.ts'

/** Attributes a builder gets from its caller. */
export const attributes: EventAttributes = {
  id: '7f1c9a52-3d7e-4b8a-9d61-0c2f5e8b1a43',
  source: '/apps/checkout',
  time: '2025-01-15T09:30:00Z',
}

const request = { source: '/apps/checkout', id: attributes.id }

/** A native-list request. */
export const requestedList: DataOf<typeof EventTypes.requested> = {
  app: 'checkout',
  environment: 'dev',
  capabilities: [
    { name: 'orders-db', type: 'postgres' },
    {
      name: 'stripe',
      type: 'secret',
      class: 'api-key',
      params: { key: 'stripe-api-key', ttl: 300, rotate: true },
    },
  ],
}

// A whole workload: the schema reads `resources` and lets the rest of Score through.
const scoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'checkout' },
  containers: { main: { image: 'ghcr.io/acme/checkout:1.4.2' } },
  resources: {
    'orders-db': { type: 'postgres' },
    stripe: { type: 'secret', params: { key: 'stripe-api-key' } },
  },
}

/** A Score-workload request. */
export const requestedScore: DataOf<typeof EventTypes.requested> = {
  app: 'checkout',
  environment: 'prod',
  score: scoreWorkload,
}

/** One valid data value per event type. */
export const validData: { readonly [T in EventType]: DataOf<T> } = {
  [EventTypes.requested]: requestedList,
  [EventTypes.resolved]: {
    app: 'checkout',
    environment: 'dev',
    request,
    capabilities: [
      {
        name: 'orders-db',
        type: 'postgres',
        status: 'ready',
        provider: 'local',
        store: 'local',
        key: 'postgres/checkout',
        version: '3',
        entries: ['type', 'provider', 'host', 'port', 'database', 'username', 'password'],
        secretEntries: ['password'],
      },
    ],
  },
  [EventTypes.failed]: {
    app: 'checkout',
    environment: 'dev',
    request,
    capabilities: [
      {
        name: 'orders-db',
        type: 'postgres',
        status: 'ready',
        store: 'local',
        key: 'postgres/checkout',
      },
      {
        name: 'stripe',
        type: 'secret',
        status: 'failed',
        reason: {
          code: 'NotFound',
          message: 'apps/checkout/stripe-api-key not found in store local',
        },
      },
    ],
  },
  [EventTypes.denied]: {
    app: 'checkout',
    environment: 'prod',
    request,
    reason: { code: 'Denied', message: 'no policy lets checkout read rds/checkout-prod' },
    capabilities: [{ name: 'orders-db', type: 'postgres', status: 'denied' }],
  },
  [EventTypes.injected]: {
    app: 'checkout',
    environment: 'dev',
    request,
    sink: 'service-binding',
    location: '.capbroker/bindings/checkout/dev',
    bindings: [{ name: 'orders-db', path: '.capbroker/bindings/checkout/dev/orders-db' }],
  },
  [EventTypes.rotated]: {
    app: 'checkout',
    environment: 'prod',
    name: 'orders-db',
    type: 'postgres',
    store: 'aws',
    key: 'rds/checkout-prod',
    previousVersion: 'v1',
    version: 'v2',
    entries: ['password'],
  },
  [EventTypes.released]: {
    app: 'checkout',
    environment: 'dev',
    name: 'stripe',
    type: 'secret',
    reason: 'removed from capabilities.yaml',
  },
}

/** A structured-mode requested event as it arrives over HTTP (before parsing). */
export function requestedInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: attributes.id,
    source: attributes.source,
    type: EventTypes.requested,
    time: attributes.time,
    datacontenttype: 'application/json',
    data: structuredClone(requestedList),
    ...overrides,
  }
}

/** True when a value and everything it holds is frozen. */
export function isDeeplyFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true
  return Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen)
}
