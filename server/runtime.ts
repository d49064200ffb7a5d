/**
 * The embedded runtime: the same core as the Lambda functions, wired to the embedded
 * adapters — the encrypted local store, SQLite state, an in-memory bus and the sinks
 * of the catalog's environments.
 */
import { randomUUID } from 'node:crypto'
import { join, resolve } from 'node:path'
import { loadOrCreateKey } from '../adapters/local/crypto.ts'
import { MemoryEventBus } from '../adapters/memory-bus/index.ts'
import { defaultStoreRegistry } from '../adapters/registry.ts'
import { ServiceBindingSink } from '../adapters/service-binding/index.ts'
import { SlackResponder } from '../adapters/slack/responder.ts'
import { SqliteStateStore } from '../adapters/sqlite/index.ts'
import { StoreBundleSink } from '../adapters/store-bundle/sink.ts'
import { StoreSet } from '../adapters/store-set.ts'
import type { Catalog } from '../broker/catalog/load.ts'
import type { InjectConfig } from '../broker/catalog/schema.ts'
import { BrokerError, InvalidConfigError } from '../broker/errors.ts'
import { cachedDigestKey } from '../broker/lifecycle/digest.ts'
import { Broker } from '../broker/pipeline.ts'
import {
  type BindingSink,
  type ChatResponder,
  isWritable,
  type Logger,
  type StoreHealth,
  silentLogger,
} from '../broker/ports.ts'
import { SecretResolver } from '../broker/resolution/secret-resolver.ts'
import { ReplayGuard } from '../broker/triggers/slack-signature.ts'
import { TriggerSecrets } from '../broker/triggers/trigger-secrets.ts'
import type { NotifyDependencies, SlackCommandDependencies } from './chatops.ts'
import { createManifestSource, type GitHubWebhookDependencies } from './webhooks.ts'

/** Options of {@link createEmbeddedRuntime}. */
export interface EmbeddedRuntimeOptions {
  readonly catalog: Catalog
  /** CAPBROKER_HOME: state and the local store live here. */
  readonly home: string
  /** Relative paths in the catalog (binding roots) resolve against this. */
  readonly cwd?: string
  readonly logger?: Logger
  readonly clock?: () => Date
  /** Where chat outcomes are posted; default Slack's response_url (SlackResponder). */
  readonly responder?: ChatResponder
}

/**
 * The key of the bindings' digests (HMAC-SHA256) in the home: 32 random bytes, mode
 * 0600, created on first use like the local store's key. Losing it costs one
 * re-injection per binding at the next refresh, nothing else.
 */
export const DIGEST_KEY_FILE = 'digest.key'

/** What the trigger paths need, wired to this runtime (the Slack path adds its scheduler). */
export interface EmbeddedTriggers {
  readonly github: GitHubWebhookDependencies
  readonly slack: Omit<SlackCommandDependencies, 'schedule'>
  readonly notify: NotifyDependencies
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
  readonly triggers: EmbeddedTriggers
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
  const stores = new StoreSet(catalog.stores, defaultStoreRegistry, { home, cwd })
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

  // The state store created the home (0700) already; the key file is made on first use.
  const digestKey = cachedDigestKey(async () => loadOrCreateKey(join(home, DIGEST_KEY_FILE)))
  const broker = new Broker({ catalog, resolver, sinkFor, state, bus, clock, logger, digestKey })
  const secrets = new TriggerSecrets({
    stores: (name) => stores.get(name),
    now: () => clock().getTime(),
    ttlMs: catalog.cacheTtlMs,
  })
  const release = broker.release.bind(broker)
  const slack = catalog.document.chatops?.slack
  const triggers: EmbeddedTriggers = {
    github: {
      catalog,
      secrets,
      manifests: (repository, config) => createManifestSource(repository, config, { secrets, cwd }),
      // Embedded: the request is resolved in-process, so the webhook answers with its outcome.
      dispatch: (event) => broker.handle(event),
      release,
      clock,
      logger,
    },
    slack: { slack, secrets, replay: new ReplayGuard(), clock, logger },
    notify: {
      slack,
      responder: options.responder ?? new SlackResponder(),
      handle: (event) => broker.handle(event),
      release,
      listBindings: (target) => state.listBindings(target),
      logger,
    },
  }

  return {
    catalog,
    broker,
    state,
    bus,
    stores,
    newId: randomUUID,
    triggers,
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
