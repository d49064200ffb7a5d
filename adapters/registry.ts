/**
 * The one registry of adapters. Each kind is loaded with its own `import()` only when a
 * catalog store uses it, so a local-only or AWS-only host never loads the Google or
 * Azure SDK (the GCP client alone costs 150–200 ms to load).
 */
import { resolve } from 'node:path'
import { parseDuration } from '../broker/catalog/load.ts'
import type { AdapterKind, StoreConfig } from '../broker/catalog/schema.ts'
import { InvalidConfigError } from '../broker/errors.ts'
import type { SecretStore } from '../broker/ports.ts'
import { type ResilienceOptions, withResilience } from '../broker/resolution/resilient-store.ts'

/** What a store factory may need from its host. */
export interface StoreContext {
  /** CAPBROKER_HOME: where the local store keeps its files. */
  readonly home: string
  /** The working directory relative paths resolve against. */
  readonly cwd: string
}

/** Builds one store instance from its catalog entry. */
export type StoreFactory = (config: StoreConfig, context: StoreContext) => SecretStore

/** A lazily loaded factory per adapter kind. */
export type StoreRegistry = Readonly<Record<AdapterKind, () => Promise<StoreFactory>>>

const unavailable = (kind: string) => async (): Promise<StoreFactory> => {
  throw new InvalidConfigError(`adapter "${kind}" is not available in this version of capbroker`)
}

/** Every adapter this build knows. Hosts may pass a smaller registry (a Lambda bundle). */
export const defaultStoreRegistry: StoreRegistry = {
  local: async () => {
    const { LocalSecretStore } = await import('./local/index.ts')
    return (config, context) =>
      new LocalSecretStore({
        home: resolve(context.cwd, typeof config.path === 'string' ? config.path : context.home),
      })
  },
  'aws-secrets-manager': async () => {
    const { AwsSecretsManagerStore } = await import('./aws-secrets-manager/index.ts')
    return (config) =>
      new AwsSecretsManagerStore({
        region: config.region as string,
        ...(typeof config.endpoint === 'string' ? { endpoint: config.endpoint } : {}),
        ...(config.timeout === undefined
          ? {}
          : { requestTimeoutMs: parseDuration(config.timeout) }),
      })
  },
  'gcp-secret-manager': unavailable('gcp-secret-manager'),
  'azure-key-vault': unavailable('azure-key-vault'),
}

/** A store that can be closed (local SQLite files, SDK clients with sockets). */
interface Closable {
  close(): void | Promise<void>
}

/** Creates stores on first use, one instance per catalog store name. */
export class StoreSet {
  readonly #configs: ReadonlyMap<string, StoreConfig>
  readonly #context: StoreContext
  readonly #registry: StoreRegistry
  readonly #instances = new Map<string, Promise<SecretStore>>()
  readonly #resilience: ResilienceOptions

  /**
   * Every store is wrapped with {@link withResilience}: timeouts, retries, a circuit
   * breaker and bounded concurrency, with `resilience` as defaults (tests shorten them)
   * and the catalog's per-store `timeout` on top.
   */
  constructor(
    configs: ReadonlyMap<string, StoreConfig>,
    context: StoreContext,
    registry: StoreRegistry = defaultStoreRegistry,
    resilience: ResilienceOptions = {},
  ) {
    this.#configs = configs
    this.#context = context
    this.#registry = registry
    this.#resilience = resilience
  }

  /** The configured store names. */
  get names(): string[] {
    return [...this.#configs.keys()]
  }

  /** The store called `name`, created on first use. */
  get(name: string): Promise<SecretStore> {
    let instance = this.#instances.get(name)
    if (!instance) {
      instance = this.#create(name)
      this.#instances.set(name, instance)
      // A failed creation (bad config) is not cached: fixing the environment fixes it.
      instance.catch(() => this.#instances.delete(name))
    }
    return instance
  }

  async #create(name: string): Promise<SecretStore> {
    const config = this.#configs.get(name)
    if (!config)
      throw new InvalidConfigError(
        `unknown store "${name}" (defined: ${this.names.join(', ') || 'none'})`,
      )
    const loader = this.#registry[config.adapter]
    if (!loader)
      throw new InvalidConfigError(`store "${name}": unknown adapter "${config.adapter}"`)
    const factory = await loader()
    const timeout = config.timeout === undefined ? {} : { timeoutMs: parseDuration(config.timeout) }
    return withResilience(factory(config, this.#context), name, { ...this.#resilience, ...timeout })
  }

  /** Closes every store that was created. */
  async close(): Promise<void> {
    const created = await Promise.allSettled(this.#instances.values())
    this.#instances.clear()
    for (const result of created) {
      if (
        result.status === 'fulfilled' &&
        typeof (result.value as Partial<Closable>).close === 'function'
      ) {
        await (result.value as unknown as Closable).close()
      }
    }
  }
}
