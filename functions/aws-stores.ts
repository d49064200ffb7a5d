/**
 * The secret stores of the Lambda build: only `aws-secrets-manager`. The other adapter
 * kinds fail with a clear InvalidConfigError when a request needs them, so esbuild never
 * bundles the Google, Azure or local adapters into these functions: only types come
 * from adapters/registry.ts, whose default registry imports every adapter.
 */

import type { StoreFactory, StoreRegistry } from '../adapters/registry.ts'
import { parseDuration } from '../broker/catalog/catalog.ts'
import type { AdapterKind } from '../broker/catalog/schema.ts'
import { InvalidConfigError } from '../broker/errors.ts'

const notInLambda = (kind: AdapterKind) =>
  async function adapterNotInLambdaBuild(): Promise<StoreFactory> {
    throw new InvalidConfigError(
      `adapter "${kind}" is not available in the AWS Lambda build of capbroker (only aws-secrets-manager is); serve this class from an aws-secrets-manager store in the environments that run on AWS`,
    )
  }

/**
 * The Lambda registry. `endpoint` (CAPBROKER_AWS_ENDPOINT, tests only) overrides every
 * store's endpoint, so a test deployment can never reach a real account by accident.
 */
export function awsStoreRegistry(options: { endpoint?: string } = {}): StoreRegistry {
  return {
    'aws-secrets-manager': async () => {
      // One import() per kind: a catalog without an AWS store never loads the adapter.
      const { AwsSecretsManagerStore } = await import('../adapters/aws-secrets-manager/index.ts')
      return (config) => {
        const endpoint =
          options.endpoint ?? (typeof config.endpoint === 'string' ? config.endpoint : undefined)
        return new AwsSecretsManagerStore({
          region: config.region as string,
          ...(endpoint === undefined ? {} : { endpoint }),
          ...(config.timeout === undefined
            ? {}
            : { requestTimeoutMs: parseDuration(config.timeout) }),
        })
      }
    },
    local: notInLambda('local'),
    'gcp-secret-manager': notInLambda('gcp-secret-manager'),
    'azure-key-vault': notInLambda('azure-key-vault'),
  }
}
