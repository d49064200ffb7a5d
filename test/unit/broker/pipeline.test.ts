import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  isWritable,
  SecretValue,
  UnavailableError,
  type WritableSecretStore,
} from '../../../broker/index.ts'
import { buildEvent, EventTypes } from '../../../events/index.ts'
import { workspace } from '../../support/workspace.ts'

const DB = {
  host: 'db.internal',
  port: 5432,
  dbname: 'orders',
  username: 'checkout',
  password: 'canary-pg-7f3a9',
}
const STRIPE = 'canary-stripe-c41d'

let ws: ReturnType<typeof workspace>
let store: WritableSecretStore

beforeEach(async () => {
  ws = workspace()
  const s = await ws.runtime.stores.get('local')
  if (!isWritable(s)) throw new Error('local store must be writable')
  store = s
  await store.write('postgres/checkout', new SecretValue(JSON.stringify(DB)))
  await store.write('apps/checkout/stripe', new SecretValue(STRIPE))
})
afterEach(async () => {
  await ws.close()
})

const bindingDir = (name: string) => join(ws.dir, 'bindings', 'checkout', 'dev', name)
const three = {
  capabilities: [
    { name: 'orders-db', type: 'postgres' },
    { name: 'stripe', type: 'secret', params: { key: 'stripe' } },
    { name: 'sendgrid', type: 'secret', params: { key: 'sendgrid' } },
  ],
}

describe('the pipeline on the local adapters', () => {
  it('resolves every capability, injects files, emits resolved + injected, records state', async () => {
    const result = await ws.runtime.broker.handle(
      ws.request({ capabilities: three.capabilities.slice(0, 2) }),
    )
    expect(result.status).toBe('resolved')
    expect(result.events.map((e) => e.type)).toEqual([EventTypes.resolved, EventTypes.injected])
    expect(ws.runtime.bus.events.map((e) => e.type)).toEqual([
      EventTypes.resolved,
      EventTypes.injected,
    ])
    expect(readFileSync(join(bindingDir('orders-db'), 'password'), 'utf8')).toBe(DB.password)
    expect(readFileSync(join(bindingDir('orders-db'), 'port'), 'utf8')).toBe('5432')
    expect(readFileSync(join(bindingDir('orders-db'), 'type'), 'utf8')).toBe('postgres')
    expect(readFileSync(join(bindingDir('stripe'), 'value'), 'utf8')).toBe(STRIPE)
    const records = await ws.runtime.state.listBindings({ app: 'checkout', environment: 'dev' })
    expect(records.map((r) => [r.name, r.key, r.version])).toEqual([
      ['orders-db', 'postgres/checkout', '1'],
      ['stripe', 'apps/checkout/stripe', '1'],
    ])
  })

  it('3 capabilities with one key missing: failed, 2 ready and 1 NOT_FOUND, the 2 ready on disk', async () => {
    const result = await ws.runtime.broker.handle(ws.request(three))
    expect(result.status).toBe('failed')
    const outcome = result.events[0]
    expect(outcome?.type).toBe(EventTypes.failed)
    expect(result.capabilities.map((c) => [c.name, c.status, c.reason?.code])).toEqual([
      ['orders-db', 'ready', undefined],
      ['stripe', 'ready', undefined],
      ['sendgrid', 'failed', 'NOT_FOUND'],
    ])
    expect(statSync(join(bindingDir('orders-db'), 'password')).isFile()).toBe(true)
    expect(statSync(join(bindingDir('stripe'), 'value')).isFile()).toBe(true)
    expect(() => statSync(bindingDir('sendgrid'))).toThrow()
  })

  it('a redelivered event returns the recorded outcome and does nothing else', async () => {
    const event = ws.request(three, 'same-id')
    const first = await ws.runtime.broker.handle(event)
    const mtime = statSync(join(bindingDir('stripe'), 'value')).mtimeMs
    const published = ws.runtime.bus.events.length
    await store.write('apps/checkout/stripe', new SecretValue('changed-later'))
    const second = await ws.runtime.broker.handle(event)
    expect(second.duplicate).toBe(true)
    expect(second.events).toEqual(first.events)
    expect(ws.runtime.bus.events.length).toBe(published)
    expect(statSync(join(bindingDir('stripe'), 'value')).mtimeMs).toBe(mtime)
    expect(readFileSync(join(bindingDir('stripe'), 'value'), 'utf8')).toBe(STRIPE)
  })

  it('concurrent duplicates are processed once', async () => {
    const event = ws.request(three, 'dup')
    const results = await Promise.all(
      Array.from({ length: 5 }, () => ws.runtime.broker.handle(event)),
    )
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1)
    expect(ws.runtime.bus.events.filter((e) => e.type === EventTypes.failed)).toHaveLength(1)
  })

  it.each([
    [
      'an unknown type (not allowed by policy)',
      { name: 'cache', type: 'memcached' },
      'denied',
      'DENIED',
    ],
    [
      'a type allowed but served by no class',
      { name: 'cache', type: 'redis' },
      'failed',
      'NO_MATCHING_CLASS',
    ],
    ['a class keyed by the capability name', { name: 'other', type: 'queue' }, 'ready', undefined],
    [
      'a template injection through params',
      { name: 'x', type: 'secret', params: { key: '../billing/stripe' } },
      'failed',
      'INVALID_PARAMS',
    ],
    [
      'a glob through params',
      { name: 'x', type: 'secret', params: { key: '*' } },
      'failed',
      'INVALID_PARAMS',
    ],
    ['a missing template param', { name: 'x', type: 'secret' }, 'failed', 'INVALID_PARAMS'],
  ])('%s', async (_what, capability, status, code) => {
    if (capability.type === 'queue')
      await store.write('queues/checkout/other', new SecretValue('q'))
    const result = await ws.runtime.broker.handle(ws.request({ capabilities: [capability] }))
    expect(result.capabilities[0]?.status).toBe(status)
    expect(result.capabilities[0]?.reason?.code).toBe(code)
  })

  it('denies a key outside the policy and never reads it', async () => {
    const catalog = ws.runtime.catalog
    const read: string[] = []
    const original = store.read.bind(store)
    store.read = async (locators, options) => {
      read.push(...locators.map((l) => l.key))
      return original(locators, options)
    }
    await store.write('shared/cache', new SecretValue('shared'))
    expect(
      catalog.policy.decide({
        app: 'checkout',
        environment: 'dev',
        type: 'cache',
        key: 'shared/cache',
      }).allowed,
    ).toBe(false)
    const byKey = await ws.runtime.broker.handle(
      ws.request({
        capabilities: [
          { name: 'c', type: 'cache' },
          { name: 'db', type: 'postgres' },
        ],
      }),
    )
    expect(byKey.capabilities.map((c) => [c.name, c.status, c.reason?.message])).toEqual([
      [
        'c',
        'denied',
        'no policy allows app "checkout" to read key "shared/cache" in environment "dev"',
      ],
      ['db', 'ready', undefined],
    ])
    expect(byKey.events.map((e) => e.type)).toEqual([EventTypes.denied, EventTypes.injected])
    const byApp = await ws.runtime.broker.handle(
      ws.request({ app: 'billing', capabilities: [{ name: 'db', type: 'postgres' }] }),
    )
    expect(byApp.status).toBe('denied')
    expect(byApp.events.map((e) => e.type)).toEqual([EventTypes.denied])
    expect(read).toEqual(['postgres/checkout'])
  })

  it('a secret that is not the JSON the class needs fails with INVALID_SECRET', async () => {
    await store.write(
      'postgres/checkout',
      new SecretValue('{"host": "h", "password": "canary-broken'),
    )
    const result = await ws.runtime.broker.handle(
      ws.request({ capabilities: [{ name: 'db', type: 'postgres' }] }),
    )
    expect(result.capabilities[0]?.reason?.code).toBe('INVALID_SECRET')
    expect(JSON.stringify(result)).not.toContain('canary')
  })

  it('an invalid request (duplicate names) is a failed outcome with INVALID_REQUEST', async () => {
    const result = await ws.runtime.broker.handle(
      ws.request({
        capabilities: [
          { name: 'a', type: 'secret' },
          { name: 'a', type: 'queue' },
        ],
      }),
    )
    expect(result.status).toBe('failed')
    const event = result.events[0]
    expect(event?.type === EventTypes.failed && event.data.reason?.code).toBe('INVALID_REQUEST')
  })

  it('an unknown environment fails each capability without listing the catalog to the caller', async () => {
    const result = await ws.runtime.broker.handle(
      ws.request({ environment: 'staging', capabilities: [{ name: 'db', type: 'postgres' }] }),
    )
    expect(result.capabilities[0]?.reason?.message).toBe('unknown environment "staging"')
    expect(result.reason?.code).toBe('INVALID_REQUEST')
  })

  it('an app speaks only for itself: /apps/billing cannot request for checkout', async () => {
    const event = buildEvent(
      EventTypes.requested,
      { id: 'spoof', source: '/apps/billing', time: new Date().toISOString() },
      { app: 'checkout', environment: 'dev', capabilities: [{ name: 'db', type: 'postgres' }] },
    )
    const result = await ws.runtime.broker.handle(event)
    expect(result.status).toBe('denied')
    expect(result.capabilities[0]?.reason?.message).toMatch(
      /events from \/apps\/billing may not request capabilities for app "checkout"/,
    )
    expect(() => statSync(bindingDir('db'))).toThrow()
  })

  it('a transient failure is not remembered: the redelivery tries again and succeeds', async () => {
    const event = ws.request({ capabilities: [{ name: 'db', type: 'postgres' }] }, 'flaky')
    const original = store.read.bind(store)
    store.read = async () => {
      throw new UnavailableError('store throttled')
    }
    const first = await ws.runtime.broker.handle(event)
    expect([first.status, first.retryable, first.capabilities[0]?.reason?.code]).toEqual([
      'failed',
      true,
      'UNAVAILABLE',
    ])
    store.read = original
    const second = await ws.runtime.broker.handle(event)
    expect([second.status, second.duplicate]).toEqual(['resolved', false])
    const third = await ws.runtime.broker.handle(event)
    expect([third.status, third.duplicate]).toEqual(['resolved', true])
  })

  it('resolves a Score workload the same as the native list', async () => {
    const result = await ws.runtime.broker.handle(
      ws.request({
        score: {
          apiVersion: 'score.dev/v1b1',
          metadata: { name: 'checkout' },
          resources: { 'orders-db': { type: 'postgres' } },
        },
      }),
    )
    expect(result.status).toBe('resolved')
    expect(readFileSync(join(bindingDir('orders-db'), 'host'), 'utf8')).toBe(DB.host)
  })

  it('leaks no secret value: events, logs, state and errors hold names only', async () => {
    await ws.runtime.broker.handle(ws.request(three))
    await ws.runtime.broker.handle(
      ws.request({ capabilities: [{ name: 'x', type: 'secret', params: { key: '../x' } }] }),
    )
    await ws.runtime.broker.handle(
      ws.request({ app: 'billing', capabilities: [{ name: 'db', type: 'postgres' }] }),
    )
    await store.write('postgres/checkout', new SecretValue(`not json ${DB.password}`))
    await ws.runtime.broker.handle(
      ws.request({ capabilities: [{ name: 'db2', type: 'postgres' }] }),
    )
    await ws.runtime.state.close()
    const canaries = [DB.password, STRIPE]
    const everywhere = new Map<string, Buffer>([
      ['events', Buffer.from(JSON.stringify(ws.runtime.bus.events))],
      ['logs', Buffer.from(ws.logs.join(''))],
      ...ws.files(join(ws.dir, 'home')),
    ])
    for (const [where, content] of everywhere) {
      for (const canary of canaries)
        expect(content.includes(canary), `${canary} found in ${where}`).toBe(false)
    }
    // …and the values are where they belong.
    const bindings = [...ws.files(join(ws.dir, 'bindings')).values()].map(String)
    expect(bindings).toContain(DB.password)
    expect(bindings).toContain(STRIPE)
  })
})

describe('release', () => {
  const request = { source: '/apps/checkout', id: 'release-1' }

  it('removes the binding from the sink and the state, emits released, and is a no-op the second time', async () => {
    await ws.runtime.broker.handle(ws.request({ capabilities: three.capabilities.slice(0, 2) }))
    const before = ws.runtime.bus.events.length
    const first = await ws.runtime.broker.release({
      app: 'checkout',
      environment: 'dev',
      names: ['stripe'],
      reason: 'removed from score.yaml',
      request,
    })
    expect(first.released).toEqual(['stripe'])
    expect(first.events.map((e) => [e.type, e.data])).toEqual([
      [
        EventTypes.released,
        {
          app: 'checkout',
          environment: 'dev',
          name: 'stripe',
          type: 'secret',
          reason: 'removed from score.yaml',
        },
      ],
    ])
    expect(() => statSync(bindingDir('stripe'))).toThrow()
    expect(statSync(join(bindingDir('orders-db'), 'host')).isFile()).toBe(true)
    expect(
      (await ws.runtime.state.listBindings({ app: 'checkout', environment: 'dev' })).map(
        (b) => b.name,
      ),
    ).toEqual(['orders-db'])
    const second = await ws.runtime.broker.release({
      app: 'checkout',
      environment: 'dev',
      names: ['stripe'],
      reason: 'again',
      request,
    })
    expect(second.released).toEqual([])
    expect(ws.runtime.bus.events.length).toBe(before + 1)
  })

  it('releases everything of an environment', async () => {
    await ws.runtime.broker.handle(ws.request({ capabilities: three.capabilities.slice(0, 2) }))
    const result = await ws.runtime.broker.release({
      app: 'checkout',
      environment: 'dev',
      names: 'all',
      reason: 'branch deleted',
      request,
    })
    expect(result.released).toEqual(['orders-db', 'stripe'])
    expect(await ws.runtime.state.listBindings({ app: 'checkout', environment: 'dev' })).toEqual([])
  })
})
