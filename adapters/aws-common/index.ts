/**
 * What every AWS adapter shares: option validation, the JSON-protocol client that talks
 * to the services (no AWS SDK client), and the classification of failures.
 */
export { fullJitterDelay } from './backoff.ts'
export {
  type AwsFailure,
  type AwsFailureKind,
  classifyAwsFailure,
  describeFailure,
  isTransientFailure,
} from './failure.ts'
export {
  type AwsCallOptions,
  type AwsJsonCaller,
  AwsJsonClient,
  type AwsJsonClientOptions,
  type AwsJsonService,
  AwsServiceError,
  DYNAMODB,
  defaultEndpoint,
  EVENTBRIDGE,
  SECRETS_MANAGER,
  SQS,
} from './json-client.ts'
export {
  AWS_CLIENT_DEFAULTS,
  type AwsClientOptions,
  type AwsCredentialsOption,
  requireInteger,
  requireName,
  validateAwsClientOptions,
} from './options.ts'
