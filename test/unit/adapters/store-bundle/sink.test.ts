import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LocalSecretStore } from '../../../../adapters/local/index.ts'
import { StoreBundleSink } from '../../../../adapters/store-bundle/sink.ts'
import { type Binding, ConflictError, SecretValue } from '../../../../broker/index.ts'

let home: string
const stores: LocalSecretStore[] = []

function store(): LocalSecretStore {
  const s = new LocalSecretStore({ home })
  stores.push(s)
  return s
}

const binding = (name: string, entries: Record<string, string>): Binding => ({
  name,
  type: 'secret',
  provider: 'local',
  entries: new Map(Object.entries(entries).map(([k, v]) => [k, new SecretValue(v)])),
  secretEntries: Object.keys(entries),
})

const target = { app: 'checkout', environment: 'prod' }

async function bundle(s: LocalSecretStore) {
  const [outcome] = await s.read([{ key: 'capbroker/checkout/prod' }])
  if (!outcome?.ok) throw new Error('no bundle')
  return { version: outcome.version, content: JSON.parse(outcome.value.reveal()) }
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'capbroker-bundle-'))
})
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
  rmSync(home, { recursive: true, force: true })
})

describe('StoreBundleSink', () => {
  it('writes every binding of an app and environment into one JSON secret', async () => {
    const s = store()
    const sink = new StoreBundleSink({ store: s, name: 'capbroker/{app}/{environment}' })
    const receipt = await sink.inject(target, [
      binding('db', { host: 'h', password: 'p' }),
      binding('stripe', { value: 'k' }),
    ])
    expect(receipt).toEqual({
      sink: 'store',
      location: 'capbroker/checkout/prod',
      version: '1',
      bindings: [{ name: 'db' }, { name: 'stripe' }],
    })
    expect((await bundle(s)).content).toEqual({
      db: { host: 'h', password: 'p', provider: 'local', type: 'secret' },
      stripe: { provider: 'local', type: 'secret', value: 'k' },
    })
  })

  it('writes nothing when nothing changed, and removes a binding by name', async () => {
    const s = store()
    const sink = new StoreBundleSink({ store: s, name: 'capbroker/{app}/{environment}' })
    await sink.inject(target, [binding('db', { host: 'h' }), binding('stripe', { value: 'k' })])
    await sink.inject(target, [binding('db', { host: 'h' })])
    expect((await bundle(s)).version).toBe('1')
    await sink.remove(target, ['stripe'])
    expect(await bundle(s)).toEqual({
      version: '2',
      content: { db: { host: 'h', provider: 'local', type: 'secret' } },
    })
    await sink.remove(target, ['stripe'])
    expect((await bundle(s)).version).toBe('2')
  })

  it('loses no update when two processes inject into one bundle at once', async () => {
    // Two sinks over two connections to one store file: what the CLI and the server, or
    // two Lambdas, are. Without compare-and-write one of the bindings would be lost.
    const one = new StoreBundleSink({ store: store(), name: 'capbroker/{app}/{environment}' })
    const two = new StoreBundleSink({ store: store(), name: 'capbroker/{app}/{environment}' })
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? one : two).inject(target, [binding(`b${i}`, { value: String(i) })]),
      ),
    )
    expect(Object.keys((await bundle(stores[0] as LocalSecretStore)).content).sort()).toEqual([
      'b0',
      'b1',
      'b2',
      'b3',
      'b4',
      'b5',
      'b6',
      'b7',
      'b8',
      'b9',
    ])
  })

  it('refuses to overwrite a bundle that is not a JSON object', async () => {
    const s = store()
    await s.write(
      'capbroker/checkout/prod',
      new SecretValue('not json, maybe someone else’s secret'),
    )
    const sink = new StoreBundleSink({ store: s, name: 'capbroker/{app}/{environment}' })
    await expect(sink.inject(target, [binding('db', { host: 'h' })])).rejects.toThrow(
      /is not a JSON object; refusing to overwrite it/,
    )
  })
})

describe('LocalSecretStore compare-and-write', () => {
  it('writes only over the version it was given', async () => {
    const s = store()
    expect((await s.write('k', new SecretValue('a'), { ifVersion: null })).version).toBe('1')
    await expect(s.write('k', new SecretValue('b'), { ifVersion: null })).rejects.toBeInstanceOf(
      ConflictError,
    )
    await expect(s.write('k', new SecretValue('b'), { ifVersion: '2' })).rejects.toThrow(
      /changed since it was read \(expected 2, found 1\)/,
    )
    expect((await s.write('k', new SecretValue('b'), { ifVersion: '1' })).version).toBe('2')
  })
})
