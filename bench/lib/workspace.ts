/**
 * A throwaway capbroker home for a benchmark: a catalog on the embedded local store,
 * the secrets it names, and where bindings land. Everything lives under one temporary
 * directory that {@link BenchWorkspace.remove} deletes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalSecretStore } from '../../adapters/local/index.ts'
import { SecretValue } from '../../broker/secret-value.ts'

/**
 * The apps benchmark requests come from (`source: /apps/bench-<n>`), in turn: a broker
 * serves many apps, and each app and environment has a bundle of its own.
 */
export const BENCH_APPS = 16

/** How many distinct secrets the catalog serves (`apps/bench/k0` …). */
export const BENCH_KEYS = 10

/** Where bindings go: files (the embedded default) or one bundle secret in the local store. */
export type BenchSink = 'service-binding' | 'store'

/**
 * The benchmark catalog. Environment `warm` caches for 5 minutes; environment `cold`
 * has `cacheTtl: 0`, so every capability of every request is read from the store —
 * the cost of a cache miss on each request, with the store's own pages warm.
 */
export function benchCatalog(sink: BenchSink): string {
  const inject =
    sink === 'store'
      ? '{ to: store, store: local, name: "bundles/{app}/{environment}" }'
      : '{ to: service-binding, root: bindings }'
  return `version: 1
stores:
  local: { adapter: local }
environments:
  warm: { inject: ${inject} }
  cold: { inject: ${inject} }
classes:
  - type: secret
    environments: [cold]
    store: local
    key: "apps/shared/{params.key}"
    cacheTtl: 0
  - type: secret
    store: local
    key: "apps/shared/{params.key}"
policies:
  - apps: ["bench-*"]
    environments: ["*"]
    types: [secret]
    keys: ["apps/shared/*"]
cache: { ttl: 5m }
`
}

/** A benchmark's working directory. */
export interface BenchWorkspace {
  readonly dir: string
  readonly home: string
  readonly catalogPath: string
  remove(): void
}

/** Creates the directory, writes the catalog and seeds {@link BENCH_KEYS} JSON secrets. */
export async function createBenchWorkspace(sink: BenchSink): Promise<BenchWorkspace> {
  const dir = mkdtempSync(join(tmpdir(), 'capbroker-bench-'))
  const home = join(dir, 'home')
  const catalogPath = join(dir, 'capbroker.yaml')
  writeFileSync(catalogPath, benchCatalog(sink))
  const store = new LocalSecretStore({ home })
  for (let i = 0; i < BENCH_KEYS; i++) {
    // Shaped like the JSON secret a database hands out: five entries per binding.
    const value = JSON.stringify({
      host: `db-${i}.internal`,
      port: 5432,
      dbname: `db${i}`,
      username: `user${i}`,
      password: `bench-only-password-${i}`,
    })
    await store.write(`apps/shared/k${i}`, new SecretValue(value))
  }
  store.close()
  return {
    dir,
    home,
    catalogPath,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** The app of the n-th request. */
export function benchApp(n: number): string {
  return `bench-${n % BENCH_APPS}`
}

/**
 * A `requested` CloudEvent body (structured mode) for `capabilities` secrets, from the
 * app `app`. The secrets are shared by every app (`apps/shared/k<i>`), so the cache
 * holds {@link BENCH_KEYS} entries whatever the number of apps.
 */
export function requestedEvent(
  id: string,
  environment: 'warm' | 'cold',
  capabilities: number,
  app = benchApp(0),
) {
  return JSON.stringify({
    specversion: '1.0',
    id,
    source: `/apps/${app}`,
    type: 'io.capbroker.capability.requested.v1',
    subject: `${app}/${environment}`,
    data: {
      app,
      environment,
      capabilities: Array.from({ length: capabilities }, (_, i) => ({
        name: `s${i}`,
        type: 'secret',
        params: { key: `k${i % BENCH_KEYS}` },
      })),
    },
  })
}
