/**
 * The SDK client configuration every AWS adapter shares, built from validated options.
 * No SDK import here, so each adapter loads only its own client.
 */
import type { AwsClientOptions } from './options.ts'

/** The subset of SDK v3 client config the adapters set. */
export interface AwsSdkClientConfig {
  region: string
  endpoint?: string
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  maxAttempts: number
  requestHandler: {
    requestTimeout: number
    connectionTimeout: number
    throwOnRequestTimeout: boolean
  }
}

/**
 * Builds the client config. `throwOnRequestTimeout` matters: without it the Node
 * handler only logs a warning when `requestTimeout` passes and a hung call never ends.
 */
export function awsSdkClientConfig(
  options: AwsClientOptions & { maxAttempts: number; requestTimeoutMs: number },
): AwsSdkClientConfig {
  const config: AwsSdkClientConfig = {
    region: options.region,
    maxAttempts: options.maxAttempts,
    requestHandler: {
      requestTimeout: options.requestTimeoutMs,
      connectionTimeout: Math.min(options.requestTimeoutMs, 3000),
      throwOnRequestTimeout: true,
    },
  }
  if (options.endpoint !== undefined) config.endpoint = options.endpoint
  if (options.credentials !== undefined) config.credentials = { ...options.credentials }
  return config
}
