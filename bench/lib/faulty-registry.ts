/**
 * A store registry for the load run: the real adapters, except that the `local` store
 * fails a share of its `read` calls with UnavailableError — what a throttled or briefly
 * unreachable provider does. The fault sits inside the StoreSet's protection, so the
 * broker's timeouts, retries and breaker see it exactly as they would see a provider's.
 * Chance is a seeded generator: two runs inject the same faults in the same order.
 */
import { defaultStoreRegistry, type StoreRegistry } from '../../adapters/registry.ts'
import { UnavailableError } from '../../broker/errors.ts'
import type { CallOptions, SecretLocator, SecretStore } from '../../broker/ports.ts'

/** Counts of what the faulty store did. */
export interface FaultCounters {
  reads: number
  faults: number
}

/** mulberry32: a tiny seeded PRNG, good enough to pick which calls fail. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return function nextRandom() {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Wraps a store so that `rate` of its reads reject with UnavailableError. Every other
 * ability of the store (write, delete, list, close) is passed through unchanged.
 */
export function withReadFaults(
  store: SecretStore,
  rate: number,
  random: () => number,
  counters: FaultCounters,
): SecretStore {
  const inner = store as SecretStore & Record<string, unknown>
  const wrapped: Record<string, unknown> = {
    provider: store.provider,
    read(locators: readonly SecretLocator[], options?: CallOptions) {
      counters.reads++
      if (random() < rate) {
        counters.faults++
        return Promise.reject(new UnavailableError('injected fault: the store is unavailable'))
      }
      return store.read(locators, options)
    },
    health: (options?: CallOptions) => store.health(options),
  }
  for (const name of ['write', 'delete', 'list', 'close']) {
    const method = inner[name]
    if (typeof method === 'function')
      wrapped[name] = (...args: unknown[]) => method.apply(store, args)
  }
  if (inner.conditionalWrites === true) wrapped.conditionalWrites = true
  return wrapped as unknown as SecretStore
}

/** {@link defaultStoreRegistry} with faulty `local` stores. */
export function faultyLocalRegistry(
  rate: number,
  seed: number,
  counters: FaultCounters,
): StoreRegistry {
  const random = seededRandom(seed)
  return {
    ...defaultStoreRegistry,
    local: async () => {
      const create = await defaultStoreRegistry.local()
      return (config, context) => withReadFaults(create(config, context), rate, random, counters)
    },
  }
}
