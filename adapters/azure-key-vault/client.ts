/**
 * Builds the SecretClient from validated options. `@azure/keyvault-secrets` and (only
 * when no credential is given) `@azure/identity` are imported on first use, so
 * constructing a store and validating its config stay cheap.
 */
import type { SecretClient } from '@azure/keyvault-secrets'
import type { TokenCredentialLike, ValidAzureOptions } from './config.ts'

/** The SDK's retry count: 0. Retries with backoff live in the broker (see README.md). */
export const SDK_MAX_RETRIES = 0

/** Creates the SDK client; the first call loads the SDK. */
export async function createKeyVaultClient(options: ValidAzureOptions): Promise<SecretClient> {
  const { SecretClient } = await import('@azure/keyvault-secrets')
  const credential: TokenCredentialLike =
    options.credential ?? new (await import('@azure/identity')).DefaultAzureCredential()
  type ClientOptions = NonNullable<ConstructorParameters<typeof SecretClient>[2]>
  const clientOptions: ClientOptions = {
    disableChallengeResourceVerification: options.disableChallengeResourceVerification,
    retryOptions: { maxRetries: SDK_MAX_RETRIES },
  }
  if (options.serviceVersion !== undefined)
    clientOptions.serviceVersion = options.serviceVersion as ClientOptions['serviceVersion']
  // The CA is trusted by this client's pipeline only (a TLS policy per request), never
  // process-wide: NODE_TLS_REJECT_UNAUTHORIZED stays untouched.
  if (options.ca !== undefined)
    clientOptions.tlsOptions = {
      ca: Array.isArray(options.ca) ? [...options.ca] : (options.ca as string | Buffer),
    }
  return new SecretClient(
    options.vaultUrl,
    credential as ConstructorParameters<typeof SecretClient>[1],
    clientOptions,
  )
}
