/**
 * The SecretStore conformance suite on the GCP Secret Manager adapter, against the GCP
 * peer (the emulator, or the in-repo gRPC stand-in where it cannot be installed; the
 * suite's name says which). The store talks through the gRPC fault proxy, which injects
 * RESOURCE_EXHAUSTED and INTERNAL at the wire; the fixture seeds through the SDK directly.
 */
import { afterAll, beforeAll } from 'vitest'
import { GcpSecretManagerStore, GrpcStatus } from '../../../adapters/gcp-secret-manager/index.ts'
import { describeSecretStoreConformance } from '../../conformance/secret-store.ts'
import { type GrpcFaultProxy, startGrpcFaultProxy } from '../harness-gcp/grpc-fault-proxy.ts'
import { chooseGcpPeer, GCP_TEST_PROJECT, useGcpEmulator } from '../harness-gcp/use-gcp-emulator.ts'
import { GcpSeeder } from './fixtures.ts'

const peer = await chooseGcpPeer()
const gcp = useGcpEmulator(peer)
let proxy: GrpcFaultProxy
let seeder: GcpSeeder

beforeAll(async () => {
  proxy = await startGrpcFaultProxy(gcp.endpoint)
  seeder = new GcpSeeder(gcp.endpoint, GCP_TEST_PROJECT)
})

afterAll(async () => {
  await seeder?.close()
  await proxy?.close()
})

/** A gRPC status on every call until the test restores. */
const wireFault = (code: number) => ({
  calls: ['read', 'write'] as const,
  inject: async () => {
    proxy.inject({ code })
    return async () => proxy.clearFaults()
  },
})

describeSecretStoreConformance(`gcp-secret-manager (${peer.label})`, {
  writable: true,
  // Version numbers count from 1; no seeded secret gets this many.
  unknownVersion: '424242',
  create: () =>
    new GcpSecretManagerStore({
      project: GCP_TEST_PROJECT,
      endpoint: proxy.endpoint,
      insecure: true,
      requestTimeoutMs: 3000,
    }),
  dispose: (store) => store.close(),
  seed: (key, value) => seeder.seed(key, value),
  remove: (key) => seeder.remove(key),
  badConfig: () =>
    new GcpSecretManagerStore({
      project: 'Not A Project',
      endpoint: proxy.endpoint,
      insecure: true,
    }),
  faults: {
    throttling: wireFault(GrpcStatus.RESOURCE_EXHAUSTED),
    'server-error': wireFault(GrpcStatus.INTERNAL),
  },
})
