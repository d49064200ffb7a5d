/**
 * Options of the Secrets Manager adapter: the shared AWS client options, nothing more
 * (validated by `validateAwsClientOptions` in aws-common).
 */
import type { AwsClientOptions } from '../aws-common/options.ts'

export type { AwsClientOptions, AwsCredentialsOption } from '../aws-common/options.ts'

/** Options of {@link AwsSecretsManagerStore}. */
export type AwsSecretsManagerOptions = AwsClientOptions
