/**
 * Fetching: group references by store and read each store once per call through its
 * batched `read`; an in-process cache keyed by the whole reference (store, key,
 * version) with a TTL; single-flight, so concurrent misses for one reference cause one
 * read. This is the one place those live — adapters only talk to their SDK.
 */
import { BrokerError, toBrokerError } from '../errors.ts'
import type { CallOptions, ReadOutcome, SecretStore } from '../ports.ts'

/** A secret to fetch: which store, which key, which version (absent = newest). */
export interface SecretReference {
  readonly store: string
  readonly key: string
  readonly version?: string
  /** How long a successful read may be served from cache. */
  readonly ttlMs: number
}

/** Gives the store instance for a catalog store name (created lazily by the host). */
export type StoreLookup = (name: string) => Promise<SecretStore>

/** Options of {@link SecretResolver}. */
export interface SecretResolverOptions {
  readonly stores: StoreLookup
  /** Milliseconds since the epoch; injected so tests control expiry. */
  readonly now: () => number
  /** Bounds memory: the oldest entries go first. Default 10 000. */
  readonly maxEntries?: number
}

interface CacheEntry {
  readonly outcome: Extract<ReadOutcome, { ok: true }>
  readonly expiresAt: number
}

/** The cache key: the whole reference, so two versions of one key never share an entry. */
export function referenceId(ref: Pick<SecretReference, 'store' | 'key' | 'version'>): string {
  return JSON.stringify([ref.store, ref.key, ref.version ?? null])
}

/** Counters for `/healthz` and benchmarks. */
export interface ResolverStats {
  hits: number
  misses: number
  joined: number
  reads: number
}

/** Resolves secret references with batching, caching and single-flight. */
export class SecretResolver {
  readonly #options: SecretResolverOptions
  readonly #cache = new Map<string, CacheEntry>()
  readonly #inflight = new Map<string, Promise<ReadOutcome>>()
  readonly stats: ResolverStats = { hits: 0, misses: 0, joined: 0, reads: 0 }

  constructor(options: SecretResolverOptions) {
    this.#options = options
  }

  /** Resolves every reference; the map is keyed by {@link referenceId}. Never rejects for a store fault. */
  async resolve(
    refs: readonly SecretReference[],
    options?: CallOptions,
  ): Promise<Map<string, ReadOutcome>> {
    const results = new Map<string, ReadOutcome>()
    const waiting: Promise<void>[] = []
    const misses = new Map<string, SecretReference[]>()
    const seen = new Set<string>()
    const now = this.#options.now()
    for (const ref of refs) {
      const id = referenceId(ref)
      if (seen.has(id)) continue
      seen.add(id)
      const cached = this.#cache.get(id)
      if (cached && cached.expiresAt > now) {
        this.stats.hits++
        results.set(id, cached.outcome)
        continue
      }
      if (cached) this.#cache.delete(id)
      const inflight = this.#inflight.get(id)
      if (inflight) {
        this.stats.joined++
        waiting.push(inflight.then((outcome) => void results.set(id, outcome)))
        continue
      }
      this.stats.misses++
      const list = misses.get(ref.store) ?? []
      list.push(ref)
      misses.set(ref.store, list)
    }
    for (const [store, list] of misses) {
      const batch = this.#readBatch(store, list, options)
      list.forEach((ref, i) => {
        const id = referenceId(ref)
        const one = batch.then((outcomes) => outcomes[i] as ReadOutcome)
        this.#inflight.set(id, one)
        waiting.push(
          one.then((outcome) => {
            results.set(id, outcome)
            if (outcome.ok) this.#remember(id, outcome, ref.ttlMs)
          }),
        )
        void one.finally(() => this.#inflight.delete(id))
      })
    }
    // All hits (the common case once warm): answer without another trip through the
    // microtask queue.
    if (waiting.length > 0) await Promise.all(waiting)
    return results
  }

  /** Drops cached entries: all, or one store's, or one key's (every version). */
  invalidate(filter?: { store: string; key?: string }): void {
    if (!filter) {
      this.#cache.clear()
      return
    }
    for (const id of this.#cache.keys()) {
      const [store, key] = JSON.parse(id) as [string, string]
      if (store === filter.store && (filter.key === undefined || key === filter.key))
        this.#cache.delete(id)
    }
  }

  async #readBatch(
    storeName: string,
    refs: readonly SecretReference[],
    options?: CallOptions,
  ): Promise<ReadOutcome[]> {
    this.stats.reads++
    const failAll = (error: BrokerError) =>
      refs.map((r): ReadOutcome => ({ ok: false, key: r.key, error }))
    try {
      const store = await this.#options.stores(storeName)
      const locators = refs.map((r) =>
        r.version === undefined ? { key: r.key } : { key: r.key, version: r.version },
      )
      const outcomes = await store.read(locators, options)
      if (outcomes.length !== refs.length) {
        return failAll(
          new BrokerError(
            'INTERNAL',
            `store "${storeName}" answered ${outcomes.length} of ${refs.length} reads`,
          ),
        )
      }
      return outcomes
    } catch (error) {
      return failAll(toBrokerError(error, `store "${storeName}"`))
    }
  }

  #remember(id: string, outcome: Extract<ReadOutcome, { ok: true }>, ttlMs: number): void {
    if (ttlMs <= 0) return
    this.#cache.delete(id)
    this.#cache.set(id, { outcome, expiresAt: this.#options.now() + ttlMs })
    const max = this.#options.maxEntries ?? 10_000
    while (this.#cache.size > max) {
      const oldest = this.#cache.keys().next().value
      if (oldest === undefined) break
      this.#cache.delete(oldest)
    }
  }
}
