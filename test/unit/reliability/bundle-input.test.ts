/**
 * A bundle secret someone else edited: the store sink reads it, merges and writes it
 * back, so what it finds there must neither crash it nor be mangled or dropped. Entries
 * it cannot carry over unchanged make it refuse (INVALID_SECRET, saying why), and a
 * `__proto__` entry stays an entry.
 */
import { describe, expect, it } from 'vitest'
import { StoreBundleSink } from '../../../adapters/store-bundle/sink.ts'
import { InvalidSecretError } from '../../../broker/errors.ts'
import type { Binding } from '../../../broker/ports.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { WritableMemoryStore } from '../functions/writable-memory-store.ts'

const NAME = 'bundles/checkout/prod'
const target = { app: 'checkout', environment: 'prod' }
const binding: Binding = {
  name: 'db',
  type: 'postgres',
  provider: 'local',
  entries: new Map([['password', new SecretValue('pw')]]),
  secretEntries: ['password'],
}

function sinkOver(existing: string) {
  const store = new WritableMemoryStore({ [NAME]: existing })
  return { store, sink: new StoreBundleSink({ store, name: 'bundles/{app}/{environment}' }) }
}

describe('the store sink over a bundle it did not write', () => {
  it.each([
    ['a null entry', '{"other": null}'],
    ['a string entry', '{"other": "a string"}'],
    ['a list entry', '{"other": ["a"]}'],
    ['a number entry', '{"other": 7}'],
  ])('%s: refused with INVALID_SECRET, the bundle left as it was', async (_what, existing) => {
    const { store, sink } = sinkOver(existing)
    for (const work of [
      () => sink.inject(target, [binding]),
      () => sink.remove(target, ['other']),
    ]) {
      const error = await work().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidSecretError)
      expect((error as Error).message).toBe(
        `bundle secret "${NAME}" has an entry that is not a JSON object; refusing to overwrite it`,
      )
    }
    expect(store.current(NAME)).toBe(existing)
  })

  it('keeps a __proto__ entry as an entry, and pollutes nothing', async () => {
    const { store, sink } = sinkOver('{"__proto__": {"type": "x"}, "keep": {"type": "y"}}')
    await sink.inject(target, [binding])
    expect(Object.keys(JSON.parse(store.current(NAME) ?? '{}'))).toEqual([
      '__proto__',
      'db',
      'keep',
    ])
    expect(({} as Record<string, unknown>).type).toBeUndefined()
  })

  it('carries other apps’ well-formed entries over untouched', async () => {
    const { store, sink } = sinkOver('{"other": {"type": "queue", "url": "amqp://x", "n": 1}}')
    await sink.inject(target, [binding])
    expect(JSON.parse(store.current(NAME) ?? '{}')).toEqual({
      db: { password: 'pw', provider: 'local', type: 'postgres' },
      other: { n: 1, type: 'queue', url: 'amqp://x' },
    })
  })
})
