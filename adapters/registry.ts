/**
 * The one registry of adapters. Each kind is loaded with its own `import()` only when a
 * catalog store uses it, so a local-only or AWS-only host never loads the Google or
 * Azure SDK (the GCP client alone costs 150–200 ms to load).
 */
import { resolve } from 'node:path'
import { parseDuration } from '../broker/catalog/load.ts'
import type { AdapterKind, StoreConfig } from '../broker/catalog/schema.ts'
import type { SecretStore } from '../broker/ports.ts'

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

/**
 * Every adapter the embedded runtime knows. The Lambda build passes its own, smaller
 * registry to {@link StoreSet} (functions/aws-stores.ts) so that its bundles hold only
 * what they use.
 */
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
  'gcp-secret-manager': async () => {
    const { GcpSecretManagerStore } = await import('./gcp-secret-manager/index.ts')
    return (config) =>
      new GcpSecretManagerStore({
        project: config.project as string,
        ...(typeof config.endpoint === 'string' ? { endpoint: config.endpoint } : {}),
        ...(config.insecure === true ? { insecure: true } : {}),
        ...(config.timeout === undefined
          ? {}
          : { requestTimeoutMs: parseDuration(config.timeout) }),
      })
  },
  'azure-key-vault': async () => {
    const { AzureKeyVaultStore } = await import('./azure-key-vault/index.ts')
    return (config) =>
      new AzureKeyVaultStore({
        vaultUrl: config.vaultUrl as string,
        ...(config.timeout === undefined
          ? {}
          : { requestTimeoutMs: parseDuration(config.timeout) }),
      })
  },
}
