/**
 * The catalog's stores, created on first use — one instance per store name for the life
 * of the process, so SDK clients and their sockets are reused — and each wrapped with
 * timeouts, retries, a circuit breaker and bounded concurrency. Which adapters exist is
 * the registry's business: this module imports none, so a host's bundle holds only the
 * adapters of the registry it passes.
 */
import { parseDuration } from '../broker/catalog/catalog.ts'
import type { StoreConfig } from '../broker/catalog/schema.ts'
import { InvalidConfigError } from '../broker/errors.ts'
import type { SecretStore } from '../broker/ports.ts'
import { type ResilienceOptions, withResilience } from '../broker/resolution/resilient-store.ts'
import type { StoreContext, StoreRegistry } from './registry.ts'

/** Creates stores on first use, one instance per catalog store name. */
export class StoreSet {
  readonly #configs: ReadonlyMap<string, StoreConfig>
  readonly #registry: StoreRegistry
  readonly #context: StoreContext
  readonly #resilience: ResilienceOptions
  readonly #instances = new Map<string, Promise<SecretStore>>()
  // The adapters themselves, for close(): the wrapper is not what holds the sockets.
  readonly #created: SecretStore[] = []

  /**
   * `resilience` gives the defaults of every store's protection (tests shorten them);
   * the catalog's per-store `timeout` goes on top.
   */
  constructor(
    configs: ReadonlyMap<string, StoreConfig>,
    registry: StoreRegistry,
    context: StoreContext,
    resilience: ResilienceOptions = {},
  ) {
    this.#configs = configs
    this.#registry = registry
    this.#context = context
    this.#resilience = resilience
  }

  /** The configured store names. */
  get names(): string[] {
    return [...this.#configs.keys()]
  }

  /** The store called `name`, created on first use; a failed creation is not cached. */
  get(name: string): Promise<SecretStore> {
    let instance = this.#instances.get(name)
    if (!instance) {
      instance = this.#create(name)
      this.#instances.set(name, instance)
      // Fixing the environment (credentials, a config file) then fixes the store.
      instance.catch(() => this.#instances.delete(name))
    }
    return instance
  }

  async #create(name: string): Promise<SecretStore> {
    const config = this.#configs.get(name)
    if (!config) {
      throw new InvalidConfigError(
        `unknown store "${name}" (defined: ${this.names.join(', ') || 'none'})`,
      )
    }
    const loader = this.#registry[config.adapter]
    if (!loader)
      throw new InvalidConfigError(`store "${name}": unknown adapter "${config.adapter}"`)
    let store: SecretStore
    try {
      store = (await loader())(config, this.#context)
    } catch (error) {
      if (error instanceof InvalidConfigError) {
        throw new InvalidConfigError(`store "${name}": ${error.message}`, { cause: error })
      }
      throw error
    }
    this.#created.push(store)
    const timeout = config.timeout === undefined ? {} : { timeoutMs: parseDuration(config.timeout) }
    return withResilience(store, name, { ...this.#resilience, ...timeout })
  }

  /** Closes every store that was created (SQLite files, SDK clients). */
  async close(): Promise<void> {
    await Promise.allSettled(this.#instances.values())
    this.#instances.clear()
    for (const store of this.#created.splice(0)) {
      const close = (store as { close?: () => void | Promise<void> }).close
      if (typeof close === 'function') await close.call(store)
    }
  }
}
