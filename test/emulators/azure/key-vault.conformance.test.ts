/**
 * The SecretStore conformance suite on the Azure Key Vault adapter, against the Key
 * Vault peer (Lowkey Vault, or the in-repo HTTPS stand-in where it cannot be installed;
 * the suite's name says which). The store talks through the HTTPS fault proxy, which
 * injects 429 and 500 at the wire; the fixture seeds through the SDK directly.
 */
import { afterAll, beforeAll } from 'vitest'
import { AzureKeyVaultStore } from '../../../adapters/azure-key-vault/index.ts'
import { describeSecretStoreConformance } from '../../conformance/secret-store.ts'
import { type HttpsFaultProxy, startHttpsFaultProxy } from '../harness-azure/https-fault-proxy.ts'
import {
  chooseAzurePeer,
  KEY_VAULT_TEST_API_VERSION,
  STATIC_TEST_CREDENTIAL,
  useLowkeyVault,
} from '../harness-azure/use-lowkey-vault.ts'
import { KeyVaultSeeder } from './fixtures.ts'

const peer = await chooseAzurePeer()
const vault = useLowkeyVault(peer)
let proxy: HttpsFaultProxy
let seeder: KeyVaultSeeder

beforeAll(async () => {
  proxy = await startHttpsFaultProxy(vault.url, vault.ca)
  seeder = new KeyVaultSeeder(vault.url, vault.ca)
})

afterAll(async () => {
  await proxy?.close()
})

/** An HTTP status on every request until the test restores. */
const wireFault = (status: number, retryAfterSeconds?: number) => ({
  calls: ['read', 'write'] as const,
  inject: async () => {
    proxy.inject({ status, retryAfterSeconds })
    return async () => proxy.clearFaults()
  },
})

describeSecretStoreConformance(`azure-key-vault (${peer.label})`, {
  writable: true,
  // Key Vault version ids are 32 hex characters.
  unknownVersion: '0123456789abcdef0123456789abcdef',
  create: () =>
    new AzureKeyVaultStore({
      vaultUrl: proxy.url,
      credential: STATIC_TEST_CREDENTIAL,
      disableChallengeResourceVerification: true,
      serviceVersion: KEY_VAULT_TEST_API_VERSION,
      ca: proxy.ca,
      requestTimeoutMs: 3000,
      deletePollIntervalMs: 50,
    }),
  seed: (key, value) => seeder.seed(key, value),
  remove: (key) => seeder.remove(key),
  badConfig: () =>
    new AzureKeyVaultStore({
      vaultUrl: 'http://not-https.example',
      credential: STATIC_TEST_CREDENTIAL,
    }),
  faults: {
    throttling: wireFault(429, 2),
    'server-error': wireFault(500),
  },
})
