/**
 * Refresh on the embedded adapters (local store, service-binding files, SQLite state):
 * a changed source is re-injected and announced, an unchanged one writes nothing, an
 * unreadable one goes stale and keeps its binding.
 */
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isWritable, type WritableSecretStore } from '../../../broker/ports.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { EventTypes } from '../../../events/index.ts'
import { workspace } from '../../support/workspace.ts'

const DB = (password: string) =>
  JSON.stringify({
    host: 'db.internal',
    port: 5432,
    dbname: 'orders',
    username: 'checkout',
    password,
  })
const target = { app: 'checkout', environment: 'dev' }
const trigger = { source: '/test/refresh', id: 'r-1' }
const both = [
  { name: 'orders-db', type: 'postgres' },
  { name: 'stripe', type: 'secret', params: { key: 'stripe' } },
]

let ws: ReturnType<typeof workspace>
let store: WritableSecretStore

beforeEach(async () => {
  ws = workspace()
  const s = await ws.runtime.stores.get('local')
  if (!isWritable(s)) throw new Error('local store must be writable')
  store = s
  await store.write('postgres/checkout', new SecretValue(DB('canary-pw-1')))
  await store.write('apps/checkout/stripe', new SecretValue('canary-sk-1'))
  const result = await ws.runtime.broker.handle(ws.request({ capabilities: both }))
  expect(result.status).toBe('resolved')
  ws.runtime.bus.clear()
})
afterEach(async () => {
  await ws.close()
})

const bindingDir = (name: string) => join(ws.dir, 'bindings', 'checkout', 'dev', name)
const read = (name: string, entry: string) => readFileSync(join(bindingDir(name), entry), 'utf8')
/** Every path under the bindings root with its mtime (links, directories and files). */
function mtimes(): Map<string, number> {
  const out = new Map<string, number>()
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      const stat = lstatSync(path)
      out.set(path, stat.mtimeMs)
      if (stat.isDirectory()) walk(path)
    }
  }
  walk(join(ws.dir, 'bindings'))
  return out
}
const records = () => ws.runtime.state.listBindings(target)
const refreshAll = () => ws.runtime.broker.refresh({ select: { kind: 'all' }, trigger })

describe('refresh', () => {
  it('writes nothing when nothing changed: no file, no event, no state change', async () => {
    const before = mtimes()
    const recorded = await records()
    await new Promise((r) => setTimeout(r, 20))
    const result = await refreshAll()
    expect(result.bindings.map((b) => [b.name, b.result])).toEqual([
      ['orders-db', 'unchanged'],
      ['stripe', 'unchanged'],
    ])
    expect(result.events).toEqual([])
    expect(ws.runtime.bus.events).toEqual([])
    expect(mtimes()).toEqual(before)
    expect(await records()).toEqual(recorded)
  })

  it('re-injects a changed source, announces it, and records the new version and digest', async () => {
    const stripeBefore = lstatSync(bindingDir('stripe')).mtimeMs
    const [dbBefore] = await records()
    await store.write('postgres/checkout', new SecretValue(DB('canary-pw-2')))
    const result = await refreshAll()
    expect(result.bindings.find((b) => b.name === 'orders-db')).toMatchObject({
      result: 'rotated',
      previousVersion: '1',
      version: '2',
    })
    expect(read('orders-db', 'password')).toBe('canary-pw-2')
    expect(lstatSync(bindingDir('stripe')).mtimeMs).toBe(stripeBefore)
    expect(ws.runtime.bus.events.map((e) => [e.type, e.data])).toEqual([
      [
        EventTypes.rotated,
        {
          ...target,
          name: 'orders-db',
          type: 'postgres',
          store: 'local',
          key: 'postgres/checkout',
          previousVersion: '1',
          version: '2',
          entries: ['type', 'provider', 'host', 'port', 'database', 'username', 'password'],
        },
      ],
      [EventTypes.injected, expect.objectContaining({ request: trigger, sink: 'service-binding' })],
    ])
    const [db] = await records()
    expect(db).toMatchObject({ version: '2', lastRotatedAt: expect.any(String) })
    expect(db?.digest).toMatch(/^hmac-sha256:/)
    expect(db?.digest).not.toBe(dbBefore?.digest)
    expect(db?.status).toBeUndefined()
  })

  it('a new version holding the same values is recorded, not re-injected (the digest decides)', async () => {
    await store.write('apps/checkout/stripe', new SecretValue('canary-sk-2'))
    await store.write('apps/checkout/stripe', new SecretValue('canary-sk-1'))
    const before = mtimes()
    const result = await refreshAll()
    expect(result.bindings.find((b) => b.name === 'stripe')).toMatchObject({
      result: 'unchanged',
      version: '3',
    })
    expect(result.events).toEqual([])
    expect(mtimes()).toEqual(before)
    expect((await records()).find((r) => r.name === 'stripe')).toMatchObject({ version: '3' })
    expect((await records()).find((r) => r.name === 'stripe')?.lastRotatedAt).toBeUndefined()
  })

  it('a retried trigger announces a rotation with the same ids, and only once it changed', async () => {
    await store.write('postgres/checkout', new SecretValue(DB('canary-pw-2')))
    const first = await refreshAll()
    const second = await refreshAll()
    expect(first.events.map((e) => e.type)).toEqual([EventTypes.rotated, EventTypes.injected])
    expect(second.events).toEqual([])
  })

  it('a source refresh looks only at the bindings of that key', async () => {
    await store.write('postgres/checkout', new SecretValue(DB('canary-pw-2')))
    await store.write('apps/checkout/stripe', new SecretValue('canary-sk-2'))
    const result = await ws.runtime.broker.refresh({
      select: { kind: 'sources', sources: [{ store: 'local', key: 'apps/checkout/stripe' }] },
      trigger,
    })
    expect(result.bindings.map((b) => [b.name, b.result])).toEqual([['stripe', 'rotated']])
    expect(read('stripe', 'value')).toBe('canary-sk-2')
    expect(read('orders-db', 'password')).toBe('canary-pw-1')
  })

  it('an unreadable source marks the binding stale since then, keeps it, and recovers', async () => {
    await store.delete('apps/checkout/stripe')
    const before = mtimes()
    const first = await refreshAll()
    const stale = first.bindings.find((b) => b.name === 'stripe')
    expect(stale).toMatchObject({ result: 'stale', reason: { code: 'NOT_FOUND' } })
    expect(read('stripe', 'value')).toBe('canary-sk-1')
    expect(mtimes()).toEqual(before)
    const record = (await records()).find((r) => r.name === 'stripe')
    expect(record).toMatchObject({
      status: 'stale',
      staleSince: stale?.since,
      failure: { code: 'NOT_FOUND' },
    })

    // Still unreadable: still stale since the first failure; nothing written.
    await new Promise((r) => setTimeout(r, 10))
    const again = await refreshAll()
    expect(again.bindings.find((b) => b.name === 'stripe')?.since).toBe(stale?.since)
    expect((await records()).find((r) => r.name === 'stripe')).toEqual(record)

    await store.write('apps/checkout/stripe', new SecretValue('canary-sk-3'))
    const recovered = await refreshAll()
    expect(recovered.bindings.find((b) => b.name === 'stripe')?.result).toBe('rotated')
    expect(read('stripe', 'value')).toBe('canary-sk-3')
    const ready = (await records()).find((r) => r.name === 'stripe')
    expect(ready?.status).toBeUndefined()
    expect(ready?.staleSince).toBeUndefined()
  })

  it('a source that can no longer be bound fails the binding and keeps the old one', async () => {
    await store.write('postgres/checkout', new SecretValue('not json: canary-pw-broken'))
    const result = await refreshAll()
    expect(result.bindings.find((b) => b.name === 'orders-db')).toMatchObject({
      result: 'failed',
      reason: { code: 'INVALID_SECRET' },
    })
    expect(read('orders-db', 'password')).toBe('canary-pw-1')
    expect((await records()).find((r) => r.name === 'orders-db')).toMatchObject({
      status: 'failed',
      failure: { code: 'INVALID_SECRET' },
    })
    expect(JSON.stringify(result)).not.toContain('canary')
  })

  it('a binding released while it was re-read stays released', async () => {
    await store.write('apps/checkout/stripe', new SecretValue('canary-sk-2'))
    // The release lands while the refresh reads the source, before it re-injects.
    const read = store.read.bind(store)
    store.read = async (locators, options) => {
      await ws.runtime.broker.release({
        ...target,
        names: ['stripe'],
        reason: 'meanwhile',
        request: trigger,
      })
      return read(locators, options)
    }
    const result = await refreshAll()
    expect(result.bindings.find((b) => b.name === 'stripe')?.result).toBe('rotated')
    expect(() => statSync(bindingDir('stripe'))).toThrow()
    expect((await records()).map((r) => r.name)).toEqual(['orders-db'])
  })

  it('never writes a value into the state, the audit log or the events', async () => {
    await store.write('postgres/checkout', new SecretValue(DB('canary-pw-2')))
    await store.delete('apps/checkout/stripe')
    const result = await refreshAll()
    const state = [...ws.files(join(ws.dir, 'home')).entries()].filter(([p]) =>
      p.includes('state.db'),
    )
    expect(state.length).toBeGreaterThan(0)
    for (const [path, content] of state)
      for (const canary of ['canary-pw-1', 'canary-pw-2', 'canary-sk-1'])
        expect(content.includes(canary), `${canary} in ${path}`).toBe(false)
    expect(JSON.stringify([result, ws.runtime.bus.events, ws.logs])).not.toMatch(/canary-(pw|sk)/)
  })
})
