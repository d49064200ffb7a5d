/**
 * The SecretStore conformance suite on the AWS Secrets Manager adapter, against moto.
 * The store talks to moto through the counting proxy, which injects the faults; the
 * fixture seeds through the SDK directly.
 */
import { afterAll, beforeAll } from 'vitest'
import { AwsSecretsManagerStore } from '../../../adapters/aws-secrets-manager/index.ts'
import { describeSecretStoreConformance } from '../../conformance/secret-store.ts'
import { type CountingProxy, startCountingProxy } from '../harness/counting-proxy.ts'
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../harness/moto.ts'
import { useMoto } from '../harness/use-moto.ts'
import { SecretSeeder } from './fixtures.ts'

const moto = useMoto()
let proxy: CountingProxy
let seeder: SecretSeeder

beforeAll(async () => {
  proxy = await startCountingProxy(moto.endpoint)
  seeder = new SecretSeeder(moto.endpoint)
})

afterAll(async () => {
  seeder?.close()
  await proxy?.close()
})

/** A fault on every request until the test restores. */
const wireFault = (fault: Parameters<CountingProxy['inject']>[0]) => ({
  calls: ['read', 'write'] as const,
  inject: async () => {
    proxy.inject(fault, { times: Number.POSITIVE_INFINITY })
    return async () => proxy.clearFaults()
  },
})

describeSecretStoreConformance('aws-secrets-manager (moto)', {
  writable: true,
  // moto's VersionIds are UUIDs, like AWS's.
  unknownVersion: '00000000-0000-4000-8000-000000000000',
  create: () =>
    new AwsSecretsManagerStore({
      region: AWS_TEST_REGION,
      endpoint: proxy.url,
      credentials: AWS_TEST_CREDENTIALS,
      requestTimeoutMs: 3000,
    }),
  dispose: (store) => store.close(),
  seed: (key, value) => seeder.seed(key, value),
  remove: (key) => seeder.remove(key),
  badConfig: () => new AwsSecretsManagerStore({ region: 'not a region', endpoint: proxy.url }),
  faults: {
    throttling: wireFault({ kind: 'throttle' }),
    'server-error': wireFault({ kind: 'status', status: 500 }),
  },
})
