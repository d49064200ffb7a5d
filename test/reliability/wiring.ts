/**
 * The broker wired as the embedded runtime wires it (server/runtime.ts), with the knobs
 * the reliability tests need and the runtime does not expose: the stores' resilience
 * (short timeouts and circuit), the claim lease, the registry (a store pointed at a
 * fault-injecting proxy), and the state store and bus (DynamoDB, a counting bus).
 */
import { resolve } from 'node:path'
import { MemoryEventBus } from '../../adapters/memory-bus/index.ts'
import { defaultStoreRegistry, type StoreRegistry } from '../../adapters/registry.ts'
import { ServiceBindingSink } from '../../adapters/service-binding/index.ts'
import { SqliteStateStore } from '../../adapters/sqlite/index.ts'
import { StoreBundleSink } from '../../adapters/store-bundle/sink.ts'
import { StoreSet } from '../../adapters/store-set.ts'
import { type Catalog, parseCatalog } from '../../broker/catalog/load.ts'
import type { InjectConfig } from '../../broker/catalog/schema.ts'
import { InvalidConfigError } from '../../broker/errors.ts'
import { Broker } from '../../broker/pipeline.ts'
import {
  type BindingSink,
  type EventBus,
  isWritable,
  type Logger,
  type StateStore,
} from '../../broker/ports.ts'
import type { ResilienceOptions } from '../../broker/resolution/resilient-store.ts'
import { SecretResolver } from '../../broker/resolution/secret-resolver.ts'

/** What {@link wireBroker} takes. */
export interface WiringOptions {
  /** The catalog's YAML text. */
  readonly catalog: string
  /** The working directory: relative binding roots resolve against it. */
  readonly cwd: string
  /** CAPBROKER_HOME. Default `<cwd>/home`. */
  readonly home?: string
  readonly resilience?: ResilienceOptions
  readonly leaseMs?: number
  readonly registry?: StoreRegistry
  /** Default: SQLite in the home. */
  readonly state?: StateStore
  /** Default: an in-memory bus. */
  readonly bus?: EventBus
  readonly logger?: Logger
}

/** A wired broker and its parts. */
export interface Wired {
  readonly catalog: Catalog
  readonly broker: Broker
  readonly stores: StoreSet
  readonly state: StateStore
  readonly bus: EventBus
  readonly resolver: SecretResolver
  close(): Promise<void>
}

/** Wires a broker over a catalog; stores are created on first use. */
export function wireBroker(options: WiringOptions): Wired {
  const catalog = parseCatalog(options.catalog, 'capbroker.yaml')
  const home = resolve(options.cwd, options.home ?? 'home')
  const stores = new StoreSet(
    catalog.stores,
    options.registry ?? defaultStoreRegistry,
    { home, cwd: options.cwd },
    options.resilience,
  )
  const state = options.state ?? new SqliteStateStore({ home })
  const bus = options.bus ?? new MemoryEventBus()
  const resolver = new SecretResolver({ stores: (name) => stores.get(name), now: () => Date.now() })
  const sinks = new Map<string, Promise<BindingSink>>()
  const createSink = async (inject: InjectConfig): Promise<BindingSink> => {
    if (inject.to === 'service-binding')
      return new ServiceBindingSink({ root: resolve(options.cwd, inject.root) })
    const store = await stores.get(inject.store)
    if (!isWritable(store)) throw new InvalidConfigError(`store "${inject.store}" is not writable`)
    return new StoreBundleSink({ store, name: inject.name })
  }
  const sinkFor = (environment: string, inject: InjectConfig) => {
    let sink = sinks.get(environment)
    if (!sink) {
      sink = createSink(inject)
      sinks.set(environment, sink)
    }
    return sink
  }
  const broker = new Broker({
    catalog,
    resolver,
    sinkFor,
    state,
    bus,
    clock: () => new Date(),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
  })
  return {
    catalog,
    broker,
    stores,
    state,
    bus,
    resolver,
    async close() {
      await state.close()
      await stores.close()
    },
  }
}

/** An EventBus that only counts, so a long run holds no events in memory. */
export class CountingBus implements EventBus {
  readonly counts = new Map<string, number>()
  async publish(events: readonly { type: string }[]): Promise<void> {
    for (const e of events) this.counts.set(e.type, (this.counts.get(e.type) ?? 0) + 1)
  }
}
