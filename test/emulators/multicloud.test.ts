/**
 * One app manifest (examples/capabilities.yaml), one catalog (examples/multicloud/),
 * four environments, four providers: the local store, AWS Secrets Manager (moto), GCP
 * Secret Manager and Azure Key Vault (their emulators, or the in-repo stand-ins where
 * those cannot be installed). The real broker core resolves the request in each
 * environment; every environment must end `resolved` with the same bindings — same
 * names, entries and values, only `provider` differs — as files (dev) or as the bundle
 * secret each cloud's own SDK reads back.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AwsSecretsManagerStore } from '../../adapters/aws-secrets-manager/index.ts'
import { AzureKeyVaultStore, toKeyVaultName } from '../../adapters/azure-key-vault/index.ts'
import { GcpSecretManagerStore, toSecretId } from '../../adapters/gcp-secret-manager/index.ts'
import { LocalSecretStore } from '../../adapters/local/index.ts'
import { MemoryEventBus } from '../../adapters/memory-bus/index.ts'
import type { StoreRegistry } from '../../adapters/registry.ts'
import { ServiceBindingSink } from '../../adapters/service-binding/index.ts'
import { SqliteStateStore } from '../../adapters/sqlite/index.ts'
import { StoreBundleSink } from '../../adapters/store-bundle/sink.ts'
import { StoreSet } from '../../adapters/store-set.ts'
import { parseCatalog } from '../../broker/catalog/load.ts'
import { parseManifestText } from '../../broker/manifest-text.ts'
import { Broker } from '../../broker/pipeline.ts'
import { isWritable } from '../../broker/ports.ts'
import { SecretResolver } from '../../broker/resolution/secret-resolver.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import { buildEvent, EventTypes } from '../../events/index.ts'
import { SecretSeeder } from './aws/fixtures.ts'
import { KeyVaultSeeder } from './azure/fixtures.ts'
import { GcpSeeder } from './gcp/fixtures.ts'
import { AWS_TEST_CREDENTIALS } from './harness/moto.ts'
import { useMoto } from './harness/use-moto.ts'
import {
  chooseAzurePeer,
  KEY_VAULT_TEST_API_VERSION,
  STATIC_TEST_CREDENTIAL,
  useLowkeyVault,
} from './harness-azure/use-lowkey-vault.ts'
import { chooseGcpPeer, useGcpEmulator } from './harness-gcp/use-gcp-emulator.ts'

const repo = resolve(import.meta.dirname, '..', '..')
const catalogFile = join(repo, 'examples', 'multicloud', 'capbroker.yaml')
const manifestFile = join(repo, 'examples', 'capabilities.yaml')
const catalog = parseCatalog(readFileSync(catalogFile, 'utf8'), catalogFile)
const manifest = parseManifestText(readFileSync(manifestFile, 'utf8'), manifestFile)

const [gcpPeer, azurePeer] = [await chooseGcpPeer(), await chooseAzurePeer()]
const moto = useMoto()
const gcp = useGcpEmulator(gcpPeer)
const vault = useLowkeyVault(azurePeer)

const run = randomBytes(4).toString('hex')
const postgres = {
  host: 'db.internal',
  port: 5432,
  dbname: 'orders',
  username: 'checkout',
  password: `pg-${run}`,
}
const stripe = `sk_test_${run}`
const PROVIDERS = {
  dev: 'local',
  'aws-prod': 'aws-secrets-manager',
  'gcp-prod': 'gcp-secret-manager',
  'azure-prod': 'azure-key-vault',
} as const
type Environment = keyof typeof PROVIDERS
const project = String(catalog.stores.get('gcp')?.project)

let dir: string
let home: string
let stores: StoreSet
let state: SqliteStateStore
let broker: Broker
const seeders: { aws?: SecretSeeder; gcp?: GcpSeeder; azure?: KeyVaultSeeder } = {}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-multicloud-'))
  home = join(dir, 'home')
  // Every provider is seeded through its own means, never through the broker.
  const seeded = [
    ['postgres/checkout', JSON.stringify(postgres)],
    ['apps/checkout/stripe', stripe],
  ]
  const local = new LocalSecretStore({ home })
  for (const [key, value] of seeded) await local.write(key!, new SecretValue(value!))
  local.close()
  seeders.aws = new SecretSeeder(moto.endpoint)
  seeders.gcp = new GcpSeeder(gcp.endpoint, project)
  seeders.azure = new KeyVaultSeeder(vault.url, vault.ca)
  for (const seeder of [seeders.aws, seeders.gcp, seeders.azure])
    for (const [key, value] of seeded) await seeder.seed(key!, value!)

  // The catalog keeps its production options; the registry points each kind at its peer.
  const registry: StoreRegistry = {
    local: async () => () => new LocalSecretStore({ home }),
    'aws-secrets-manager': async () => (config) =>
      new AwsSecretsManagerStore({
        region: String(config.region),
        endpoint: moto.endpoint,
        credentials: AWS_TEST_CREDENTIALS,
      }),
    'gcp-secret-manager': async () => (config) =>
      new GcpSecretManagerStore({
        project: String(config.project),
        endpoint: gcp.endpoint,
        insecure: true,
      }),
    'azure-key-vault': async () => () =>
      new AzureKeyVaultStore({
        vaultUrl: vault.url,
        credential: STATIC_TEST_CREDENTIAL,
        disableChallengeResourceVerification: true,
        serviceVersion: KEY_VAULT_TEST_API_VERSION,
        ca: vault.ca,
        deletePollIntervalMs: 50,
      }),
  }
  stores = new StoreSet(catalog.stores, registry, { home, cwd: dir })
  state = new SqliteStateStore({ home })
  const resolver = new SecretResolver({ stores: (name) => stores.get(name), now: () => Date.now() })
  broker = new Broker({
    catalog,
    resolver,
    state,
    bus: new MemoryEventBus(),
    clock: () => new Date(),
    sinkFor: async (_environment, inject) => {
      if (inject.to === 'service-binding')
        return new ServiceBindingSink({ root: resolve(dir, inject.root) })
      const store = await stores.get(inject.store)
      if (!isWritable(store)) throw new Error(`store ${inject.store} is not writable`)
      return new StoreBundleSink({ store, name: inject.name })
    },
  })
})

afterAll(async () => {
  await state?.close()
  await stores?.close()
  seeders.aws?.close()
  await seeders.gcp?.close()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

/** What every environment must inject, with its own provider. */
const expected = (provider: string) => ({
  'orders-db': {
    type: 'postgres',
    provider,
    host: postgres.host,
    port: String(postgres.port),
    database: postgres.dbname,
    username: postgres.username,
    password: postgres.password,
  },
  stripe: { type: 'secret', provider, value: stripe },
})

/** The bindings as injected: dev's files, or the bundle read back with each cloud's SDK. */
async function injected(environment: Environment): Promise<Record<string, Record<string, string>>> {
  const bundle = `capbroker/checkout/${environment}`
  switch (environment) {
    case 'dev': {
      const root = join(dir, '.capbroker', 'bindings', 'checkout', 'dev')
      const read = (name: string) =>
        Object.fromEntries(
          readdirSync(join(root, name)).map((entry) => [
            entry,
            readFileSync(join(root, name, entry), 'utf8'),
          ]),
        )
      return Object.fromEntries(readdirSync(root).map((name) => [name, read(name)]))
    }
    case 'aws-prod': {
      const secret = await seeders.aws!.client.send(new GetSecretValueCommand({ SecretId: bundle }))
      return JSON.parse(secret.SecretString!)
    }
    case 'gcp-prod': {
      const name = `projects/${project}/secrets/${toSecretId(bundle)}/versions/latest`
      const [version] = await seeders.gcp!.client.accessSecretVersion({ name })
      return JSON.parse(Buffer.from(version.payload!.data as Uint8Array).toString('utf8'))
    }
    case 'azure-prod':
      return JSON.parse((await seeders.azure!.client.getSecret(toKeyVaultName(bundle))).value!)
  }
}

const label = `local + moto + ${gcpPeer.label} + ${azurePeer.label}`

describe(`one manifest, four clouds (${label})`, () => {
  it.each(Object.keys(PROVIDERS) as Environment[])(
    '%s: resolves orders-db and stripe from its own provider and injects the same bindings',
    async (environment) => {
      const event = buildEvent(
        EventTypes.requested,
        {
          id: `multicloud-${run}-${environment}`,
          source: '/apps/checkout',
          time: new Date().toISOString(),
        },
        { app: 'checkout', environment, ...manifest },
      )
      const result = await broker.handle(event)
      const provider = PROVIDERS[environment]
      expect(result.status).toBe('resolved')
      expect(result.capabilities.map((c) => [c.name, c.status, c.provider, c.key])).toEqual([
        ['orders-db', 'ready', provider, 'postgres/checkout'],
        ['stripe', 'ready', provider, 'apps/checkout/stripe'],
      ])
      expect(await injected(environment)).toEqual(expected(provider))
      // Outcome events carry names only, never a value.
      expect(JSON.stringify(result.events)).not.toContain(postgres.password)
      expect(JSON.stringify(result.events)).not.toContain(stripe)
    },
  )
})
