/** Builds the Secrets Manager client from validated options. */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { awsSdkClientConfig } from '../aws-common/client-config.ts'
import type { AwsClientOptions } from '../aws-common/options.ts'

/** A Secrets Manager client with the adapter's timeouts and retry policy. */
export function createSecretsManagerClient(
  options: AwsClientOptions & { maxAttempts: number; requestTimeoutMs: number },
): SecretsManagerClient {
  return new SecretsManagerClient(awsSdkClientConfig(options))
}
