/**
 * What every AWS adapter shares: option validation, SDK client configuration and the
 * classification of SDK failures. Nothing here imports an AWS SDK, so using it never
 * loads a client the host does not need.
 */
export { type AwsSdkClientConfig, awsSdkClientConfig } from './client-config.ts'
export {
  type AwsFailure,
  type AwsFailureKind,
  classifyAwsFailure,
  describeFailure,
  isTransientFailure,
} from './failure.ts'
export {
  AWS_CLIENT_DEFAULTS,
  type AwsClientOptions,
  type AwsCredentialsOption,
  requireInteger,
  requireName,
  validateAwsClientOptions,
} from './options.ts'
