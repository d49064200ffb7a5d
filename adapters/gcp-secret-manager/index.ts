/** GCP Secret Manager adapter: a writable secret store over gRPC. */

export type { AccessedVersion, GcpCallOptions, SecretManagerApi } from './client.ts'
export {
  GCP_DEFAULTS,
  type GcpSecretManagerOptions,
  type GcpServiceAccountCredentials,
  validateGcpOptions,
} from './config.ts'
export { GrpcStatus, type MappedFailure, mapGcpError, PROVIDER } from './errors.ts'
export { fromSecretId, MAX_SECRET_ID_LENGTH, toSecretId } from './secret-ids.ts'
export { type GcpSecretManagerDeps, GcpSecretManagerStore } from './store.ts'
