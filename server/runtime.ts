/**
 * The embedded runtime: the same core as the Lambda functions, wired to the embedded
 * adapters — the encrypted local store, SQLite state, an in-memory bus and the sinks
 * of the catalog's environments.
 */
import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import { MemoryEventBus } from '../adapters/memory-bus/index.ts'
import { StoreSet } from '../adapters/registry.ts'
import { ServiceBindingSink } from '../adapters/service-binding/index.ts'
import { SqliteStateStore } from '../adapters/sqlite/index.ts'
import { StoreBundleSink } from '../adapters/store-bundle/sink.ts'
import type { Catalog } from '../broker/catalog/load.ts'
import type { InjectConfig } from '../broker/catalog/schema.ts'
import { BrokerError, InvalidConfigError } from '../broker/errors.ts'
import { Broker } from '../broker/pipeline.ts'
import {
  type BindingSink,
  isWritable,
  type Logger,
  type StoreHealth,
  silentLogger,
} from '../broker/ports.ts'
import { SecretResolver } from '../broker/resolution/secret-resolver.ts'

/** Options of {@link createEmbeddedRuntime}. */
export interface EmbeddedRuntimeOptions {
  readonly catalog: Catalog
  /** CAPBROKER_HOME: state and the local store live here. */
  readonly home: string
  /** Relative paths in the catalog (binding roots) resolve against this. */
  readonly cwd?: string
  readonly logger?: Logger
  readonly clock?: () => Date
}

/** Health of one configured store, as `/healthz` reports it. */
export interface StoreHealthReport extends StoreHealth {
  readonly adapter: string
}

/** The wired runtime: the broker and what the HTTP server and the CLI need besides. */
export interface EmbeddedRuntime {
  readonly catalog: Catalog
  readonly broker: Broker
  readonly state: SqliteStateStore
  readonly bus: MemoryEventBus
  readonly stores: StoreSet
  readonly newId: () => string
  /** Checks every configured store, each with a time limit. */
  health(timeoutMs?: number): Promise<Record<string, StoreHealthReport>>
  close(): Promise<void>
}

/** Wires the embedded runtime. Stores are created lazily, on first use. */
export function createEmbeddedRuntime(options: EmbeddedRuntimeOptions): EmbeddedRuntime {
  const { catalog } = options
  const cwd = options.cwd ?? process.cwd()
  const home = resolve(cwd, options.home)
  const clock = options.clock ?? (() => new Date())
  const logger = options.logger ?? silentLogger
  const stores = new StoreSet(catalog.stores, { home, cwd })
  const state = new SqliteStateStore({ home })
  const bus = new MemoryEventBus()
  const resolver = new SecretResolver({
    stores: (name) => stores.get(name),
    now: () => clock().getTime(),
  })
  const sinks = new Map<string, Promise<BindingSink>>()

  async function createSink(inject: InjectConfig): Promise<BindingSink> {
    if (inject.to === 'service-binding')
      return new ServiceBindingSink({ root: resolve(cwd, inject.root) })
    const store = await stores.get(inject.store)
    if (!isWritable(store))
      throw new InvalidConfigError(
        `store "${inject.store}" (${store.provider}) cannot be written, so it cannot hold bundles`,
      )
    return new StoreBundleSink({ store, name: inject.name })
  }

  const sinkFor = (environment: string, inject: InjectConfig) => {
    let sink = sinks.get(environment)
    if (!sink) {
      sink = createSink(inject)
      sinks.set(environment, sink)
      sink.catch(() => sinks.delete(environment))
    }
    return sink
  }

  const broker = new Broker({ catalog, resolver, sinkFor, state, bus, clock, logger })

  return {
    catalog,
    broker,
    state,
    bus,
    stores,
    newId: randomUUID,
    async health(timeoutMs = 2_000) {
      const entries = await Promise.all(
        stores.names.map(async (name): Promise<[string, StoreHealthReport]> => {
          const adapter = catalog.stores.get(name)?.adapter ?? 'unknown'
          try {
            const store = await stores.get(name)
            const health = await store.health({ signal: AbortSignal.timeout(timeoutMs) })
            return [name, { adapter, ...health }]
          } catch (error) {
            const message =
              error instanceof BrokerError
                ? error.message
                : `health check failed: ${(error as Error).name}`
            return [name, { adapter, status: 'unavailable', message }]
          }
        }),
      )
      return Object.fromEntries(entries)
    },
    async close() {
      await state.close()
      await stores.close()
    },
  }
}
