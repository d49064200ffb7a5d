/** AWS Secrets Manager adapter: a writable secret store. */

export type { AwsClientOptions, AwsCredentialsOption, AwsSecretsManagerOptions } from './config.ts'
export { mapSecretsManagerError, PROVIDER } from './errors.ts'
export {
  type AwsSecretsManagerDeps,
  AwsSecretsManagerStore,
  BATCH_GET_LIMIT,
  STAGE_LABELS,
} from './store.ts'
