/**
 * The broker of the AWS host (the `resolve` function): the packaged catalog, the
 * AWS-only secret stores with the same timeouts, retries and breaker as the embedded
 * host, the `store` sink — the only sink a Lambda function can serve — and the bus and
 * state the caller built.
 */
import { readCatalogText } from '../adapters/catalog-text.ts'
import type { StoreRegistry } from '../adapters/registry.ts'
import { StoreBundleSink } from '../adapters/store-bundle/sink.ts'
import { StoreSet } from '../adapters/store-set.ts'
import { type Catalog, parsePackagedCatalog } from '../broker/catalog/catalog.ts'
import type { InjectConfig } from '../broker/catalog/schema.ts'
import { InvalidConfigError } from '../broker/errors.ts'
import type { DigestKeySource } from '../broker/lifecycle/digest.ts'
import { Broker } from '../broker/pipeline.ts'
import {
  type BindingSink,
  type EventBus,
  hasMutex,
  isWritable,
  type Logger,
  type StateStore,
} from '../broker/ports.ts'
import { SecretResolver } from '../broker/resolution/secret-resolver.ts'
import { awsStoreRegistry } from './aws-stores.ts'
import {
  catalogPath,
  type FunctionEnvironment,
  PACKAGED_CATALOG_JSON,
  readAwsClientSettings,
} from './environment.ts'

/** What {@link createBroker} wires in besides the catalog and the stores. */
export interface BrokerParts {
  readonly bus: EventBus
  readonly state: StateStore
  readonly logger: Logger
  readonly clock?: () => Date
  /** Test seam: another registry instead of {@link awsStoreRegistry}. */
  readonly registry?: StoreRegistry
  /** The bindings' digest key (functions/digest-key.ts); without it, no digests are recorded. */
  readonly digestKey?: DigestKeySource
}

/** The broker and the stores it opened (closed by tests; Lambda freezes the process instead). */
export interface AwsBroker {
  readonly broker: Broker
  readonly catalog: Catalog
  readonly stores: StoreSet
}

/** The broker over the packaged catalog (`CAPBROKER_CATALOG`) and the AWS-only stores. */
export function createBroker(env: FunctionEnvironment, parts: BrokerParts): AwsBroker {
  const catalog = readPackagedCatalog(catalogPath(env))
  const clock = parts.clock ?? (() => new Date())
  const registry = parts.registry ?? awsStoreRegistry(readAwsClientSettings(env))
  // The same protection as the embedded host's StoreSet: timeouts, retries, a breaker.
  // The Lambda build has no CAPBROKER_HOME: no adapter it carries uses one.
  const stores = new StoreSet(catalog.stores, registry, { home: '', cwd: process.cwd() })
  const resolver = new SecretResolver({
    stores: (name) => stores.get(name),
    now: () => clock().getTime(),
  })
  const sinks = new Map<string, Promise<BindingSink>>()
  const sinkFor = (environment: string, inject: InjectConfig) => {
    let sink = sinks.get(environment)
    if (!sink) {
      sink = createSink(environment, inject, stores, parts.state)
      sinks.set(environment, sink)
      sink.catch(() => sinks.delete(environment))
    }
    return sink
  }
  const broker = new Broker({
    catalog,
    resolver,
    sinkFor,
    state: parts.state,
    bus: parts.bus,
    clock,
    logger: parts.logger,
    ...(parts.digestKey ? { digestKey: parts.digestKey } : {}),
  })
  // Build the Secrets Manager clients now, in Lambda's init phase, rather than inside the
  // first invocation. A store that cannot be opened is left to the request that needs
  // it, which reports why; StoreSet forgets a failed store, so nothing is cached.
  for (const name of storesInUse(catalog)) void stores.get(name).catch(() => {})
  return { broker, catalog, stores }
}

/** The stores the broker reads from or injects into: those of the classes and sinks. */
export function storesInUse(catalog: Catalog): string[] {
  const names = new Set(catalog.classes.map((cls) => cls.store))
  for (const env of catalog.environments.values())
    if (env.inject.to === 'store') names.add(env.inject.store)
  return [...names]
}

/** Only the `store` sink works on Lambda: it has no application file system to write to. */
async function createSink(
  environment: string,
  inject: InjectConfig,
  stores: StoreSet,
  state: StateStore,
): Promise<BindingSink> {
  if (inject.to === 'service-binding') {
    throw new InvalidConfigError(
      `environment "${environment}" injects into service-binding files, which the AWS Lambda build cannot write for an application; give environments resolved on AWS { to: store, store: <an aws-secrets-manager store>, name: "capbroker/{app}/{environment}" }`,
    )
  }
  const store = await stores.get(inject.store)
  if (!isWritable(store))
    throw new InvalidConfigError(
      `store "${inject.store}" (${store.provider}) cannot be written, so it cannot hold bundles`,
    )
  // Secrets Manager has no compare-and-write: concurrent Lambdas updating one bundle take
  // turns under a lease in the state table, or one of them would lose the other's update.
  const lock = !store.conditionalWrites && hasMutex(state) ? state.mutex() : undefined
  return new StoreBundleSink({ store, name: inject.name, ...(lock ? { lock } : {}) })
}

/**
 * Reads the packaged catalog: the JSON that packaging writes from capbroker.yaml, its
 * globs already compiled (infra/catalog-access.ts) — built as it is when its stamp
 * matches, validated again when not (broker/catalog/stamp.ts). A missing file, a YAML one
 * or a plain JSON catalog says how to get the right one.
 */
export function readPackagedCatalog(path: string): Catalog {
  const text = readCatalogText(path, {
    missingHint:
      'package the functions with `npm run package`, which writes it from capbroker.yaml, or set CAPBROKER_CATALOG',
  })
  return parsePackagedCatalog(
    text,
    path,
    `the functions read the packaged catalog that \`npm run package\` writes from capbroker.yaml (${PACKAGED_CATALOG_JSON}); point CAPBROKER_CATALOG at it`,
  )
}
