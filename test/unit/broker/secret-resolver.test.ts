import { describe, expect, it } from 'vitest'
import { referenceId, SecretResolver } from '../../../broker/index.ts'
import { MemoryStore } from '../../support/memory-store.ts'

function setup(seed: Record<string, string> = { a: 'A', b: 'B', c: 'C' }) {
  const stores = { one: new MemoryStore(seed), two: new MemoryStore({ x: 'X' }) }
  let now = 1_000
  const resolver = new SecretResolver({
    stores: async (name) => {
      const store = stores[name as keyof typeof stores]
      if (!store) throw new Error(`no store ${name}`)
      return store
    },
    now: () => now,
  })
  return { stores, resolver, advance: (ms: number) => (now += ms) }
}

const ref = (store: string, key: string, version?: string) => ({
  store,
  key,
  ttlMs: 60_000,
  ...(version ? { version } : {}),
})

describe('SecretResolver', () => {
  it('reads each store once per call, batched', async () => {
    const { stores, resolver } = setup()
    const out = await resolver.resolve([
      ref('one', 'a'),
      ref('one', 'b'),
      ref('two', 'x'),
      ref('one', 'missing'),
    ])
    expect(stores.one.calls).toEqual([[{ key: 'a' }, { key: 'b' }, { key: 'missing' }]])
    expect(stores.two.calls).toHaveLength(1)
    const a = out.get(referenceId(ref('one', 'a')))
    expect(a?.ok && a.value.reveal()).toBe('A')
    expect(out.get(referenceId(ref('one', 'missing')))?.ok).toBe(false)
  })

  it('serves repeats from cache until the TTL runs out', async () => {
    const { stores, resolver, advance } = setup()
    await resolver.resolve([ref('one', 'a')])
    await resolver.resolve([ref('one', 'a')])
    expect(stores.one.calls).toHaveLength(1)
    advance(60_001)
    await resolver.resolve([ref('one', 'a')])
    expect(stores.one.calls).toHaveLength(2)
  })

  it('keys the cache by the whole reference: two versions never share an entry', async () => {
    const { stores, resolver } = setup()
    stores.one.put('a', 'A2')
    const first = await resolver.resolve([ref('one', 'a', '1')])
    const second = await resolver.resolve([ref('one', 'a', '2')])
    const latest = await resolver.resolve([ref('one', 'a')])
    const v = (m: Map<string, unknown>, r: ReturnType<typeof ref>) => {
      const o = m.get(referenceId(r)) as { ok: boolean; value: { reveal(): string } }
      return o.value.reveal()
    }
    expect([
      v(first, ref('one', 'a', '1')),
      v(second, ref('one', 'a', '2')),
      v(latest, ref('one', 'a')),
    ]).toEqual(['A', 'A2', 'A2'])
    expect(stores.one.calls).toHaveLength(3)
  })

  it('does not cache failures', async () => {
    const { stores, resolver } = setup()
    await resolver.resolve([ref('one', 'late')])
    stores.one.put('late', 'L')
    const out = await resolver.resolve([ref('one', 'late')])
    expect(out.get(referenceId(ref('one', 'late')))?.ok).toBe(true)
  })

  it('single-flight: 100 concurrent misses for one reference cause one read', async () => {
    const { stores, resolver } = setup()
    stores.one.delayMs = 20
    const all = await Promise.all(
      Array.from({ length: 100 }, () => resolver.resolve([ref('one', 'a')])),
    )
    expect(stores.one.calls).toHaveLength(1)
    expect(all.every((m) => m.get(referenceId(ref('one', 'a')))?.ok)).toBe(true)
  })

  it('turns a store-wide failure into a failure of each reference, keeping the cause', async () => {
    const { stores, resolver } = setup()
    stores.one.down = true
    const out = await resolver.resolve([ref('one', 'a'), ref('one', 'b'), ref('three', 'q')])
    const a = out.get(referenceId(ref('one', 'a')))
    expect(a?.ok === false && a.error.code).toBe('UNAVAILABLE')
    expect(a?.ok === false && a.error.retryable).toBe(true)
    const q = out.get(referenceId(ref('three', 'q')))
    expect(q?.ok === false && q.error.code).toBe('INTERNAL')
    expect(q?.ok === false && q.error.message).toBe('store "three": internal error')
  })

  it('bounds the cache', async () => {
    const store = new MemoryStore(
      Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`])),
    )
    const resolver = new SecretResolver({ stores: async () => store, now: () => 0, maxEntries: 10 })
    await resolver.resolve(Array.from({ length: 50 }, (_, i) => ref('s', `k${i}`)))
    await resolver.resolve([ref('s', 'k49')])
    expect(store.calls).toHaveLength(1)
    await resolver.resolve([ref('s', 'k0')])
    expect(store.calls).toHaveLength(2)
  })

  it('invalidates one key, every version', async () => {
    const { stores, resolver } = setup()
    await resolver.resolve([ref('one', 'a'), ref('one', 'a', '1'), ref('one', 'b')])
    resolver.invalidate({ store: 'one', key: 'a' })
    await resolver.resolve([ref('one', 'a'), ref('one', 'a', '1'), ref('one', 'b')])
    expect(stores.one.calls[1]).toEqual([{ key: 'a' }, { key: 'a', version: '1' }])
  })
})
