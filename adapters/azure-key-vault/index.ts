/** Azure Key Vault adapter: a writable secret store over the Key Vault REST API. */

export { SDK_MAX_RETRIES } from './client.ts'
export {
  AZURE_DEFAULTS,
  type AzureKeyVaultOptions,
  type CaOption,
  type TokenCredentialLike,
  validateAzureOptions,
} from './config.ts'
export { type MappedFailure, mapKeyVaultError, PROVIDER } from './errors.ts'
export { fromKeyVaultName, MAX_SECRET_NAME_LENGTH, toKeyVaultName } from './secret-names.ts'
export { type AzureKeyVaultDeps, AzureKeyVaultStore } from './store.ts'
