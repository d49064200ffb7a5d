/**
 * Builds the Secret Manager client from validated options. The SDK (150–200 ms to load)
 * is imported here with a dynamic `import()` on first use only, so constructing a store
 * and validating its config stay cheap, and a host that never calls GCP never loads it.
 */
import { createRequire } from 'node:module'
import type { ValidGcpOptions } from './config.ts'

/** Per-call options every request gets. `retry: null` turns the SDK's own retries off. */
export interface GcpCallOptions {
  readonly timeout: number
  readonly retry: null
  readonly signal?: AbortSignal
}

/** A secret version's payload as the SDK returns it. */
export interface AccessedVersion {
  readonly name?: string | null
  readonly payload?: { readonly data?: Uint8Array | string | null } | null
}

/** The slice of SecretManagerServiceClient the store uses (also a test seam). */
export interface SecretManagerApi {
  accessSecretVersion(
    request: { name: string },
    options: GcpCallOptions,
  ): Promise<[AccessedVersion, ...unknown[]]>
  addSecretVersion(
    request: { parent: string; payload: { data: Uint8Array } },
    options: GcpCallOptions,
  ): Promise<[{ name?: string | null }, ...unknown[]]>
  createSecret(
    request: {
      parent: string
      secretId: string
      secret: { replication: { automatic: Record<string, never> } }
    },
    options: GcpCallOptions,
  ): Promise<unknown>
  deleteSecret(request: { name: string }, options: GcpCallOptions): Promise<unknown>
  listSecrets(
    request: { parent: string; pageSize: number },
    options: GcpCallOptions & { autoPaginate: false },
  ): Promise<unknown>
  close(): Promise<void>
}

type Gax = typeof import('google-gax')

let gax: Gax | undefined

/**
 * google-gax exactly as the SDK resolves it (the gRPC credentials it checks must come
 * from the same @grpc/grpc-js instance), loaded synchronously from the SDK's location.
 */
export function loadGax(): Gax {
  if (gax === undefined) {
    const here = createRequire(import.meta.url)
    const sdkMain = here.resolve('@google-cloud/secret-manager')
    gax = createRequire(sdkMain)('google-gax') as Gax
  }
  return gax
}

/** Creates the SDK client; the first call loads the SDK. */
export async function createSecretManagerClient(
  options: ValidGcpOptions,
): Promise<SecretManagerApi> {
  const sdk = await import('@google-cloud/secret-manager')
  const gaxInstance = loadGax()
  const clientOptions: Record<string, string | number | object> = { projectId: options.project }
  if (options.endpoint !== undefined) {
    clientOptions.apiEndpoint = options.endpoint.host
    clientOptions.port = options.endpoint.port
  }
  if (options.insecure) {
    clientOptions.sslCreds = gaxInstance.grpc.credentials.createInsecure()
    // Without it the auth library looks for Application Default Credentials (and may
    // probe the GCE metadata server) just to learn the universe domain.
    clientOptions.universeDomain = 'googleapis.com'
  }
  if (options.credentials !== undefined) clientOptions.credentials = { ...options.credentials }
  const Client = sdk.SecretManagerServiceClient ?? sdk.default.SecretManagerServiceClient
  return new Client(clientOptions, gaxInstance) as unknown as SecretManagerApi
}
