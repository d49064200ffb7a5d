/** Builds the Secrets Manager client from validated options. */
import {
  AwsJsonClient,
  type AwsJsonClientOptions,
  SECRETS_MANAGER,
} from '../aws-common/json-client.ts'

/** A Secrets Manager client with the adapter's timeouts and retry policy. */
export function createSecretsManagerClient(options: AwsJsonClientOptions): AwsJsonClient {
  return new AwsJsonClient(SECRETS_MANAGER, options)
}
