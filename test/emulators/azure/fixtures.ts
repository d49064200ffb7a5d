/**
 * Seeds and removes Key Vault secrets through the SDK directly, pointed straight at the
 * peer (not through the fault proxy, never through the adapter under test). Keys go
 * through the adapter's name mapping — the one piece the seeder shares, since it decides
 * which secret name a key means.
 */
import { SecretClient } from '@azure/keyvault-secrets'
import { toKeyVaultName } from '../../../adapters/azure-key-vault/index.ts'
import {
  KEY_VAULT_TEST_API_VERSION,
  STATIC_TEST_CREDENTIAL,
} from '../harness-azure/use-lowkey-vault.ts'

/** An SDK client for the peer: static token, the peer's CA for this client only, no retries. */
export function directKeyVaultClient(url: string, ca: string): SecretClient {
  return new SecretClient(url, STATIC_TEST_CREDENTIAL, {
    disableChallengeResourceVerification: true,
    serviceVersion: KEY_VAULT_TEST_API_VERSION,
    retryOptions: { maxRetries: 0 },
    tlsOptions: { ca },
  })
}

const statusOf = (error: unknown) => (error as { statusCode?: unknown }).statusCode

/** Seeds secrets with the SDK. */
export class KeyVaultSeeder {
  readonly client: SecretClient

  constructor(url: string, ca: string) {
    this.client = directKeyVaultClient(url, ca)
  }

  /** Sets a new version (creating the secret if needed); resolves to its version id. */
  async seed(key: string, value: string): Promise<string> {
    const set = await this.client.setSecret(toKeyVaultName(key), value)
    return set.properties.version!
  }

  /** Deletes and purges the secret; a missing one is fine. */
  async remove(key: string): Promise<void> {
    const name = toKeyVaultName(key)
    try {
      const poller = await this.client.beginDeleteSecret(name, { intervalInMs: 50 })
      await poller.pollUntilDone()
    } catch (error) {
      if (statusOf(error) !== 404) throw error
      return
    }
    await this.client.purgeDeletedSecret(name).catch((error: unknown) => {
      if (statusOf(error) !== 404) throw error
    })
  }
}
