/**
 * Seeds and removes GCP secrets through the SDK directly, pointed straight at the peer
 * (not through the fault proxy, never through the adapter under test). Keys go through
 * the adapter's key mapping — the one piece the seeder shares, since it decides which
 * secret id a key means.
 */
import { SecretManagerServiceClient } from '@google-cloud/secret-manager'
import { loadGax } from '../../../adapters/gcp-secret-manager/client.ts'
import { GrpcStatus, toSecretId } from '../../../adapters/gcp-secret-manager/index.ts'

/** A plaintext SDK client for `endpoint` (`host:port`). */
export function directGcpClient(endpoint: string): SecretManagerServiceClient {
  const gax = loadGax()
  const separator = endpoint.lastIndexOf(':')
  return new SecretManagerServiceClient(
    {
      apiEndpoint: endpoint.slice(0, separator),
      port: Number(endpoint.slice(separator + 1)),
      sslCreds: gax.grpc.credentials.createInsecure(),
      universeDomain: 'googleapis.com',
    },
    gax,
  )
}

const codeOf = (error: unknown) => (error as { code?: unknown }).code

/** Seeds secrets with the SDK. */
export class GcpSeeder {
  readonly client: SecretManagerServiceClient
  readonly #project: string

  constructor(endpoint: string, project: string) {
    this.client = directGcpClient(endpoint)
    this.#project = project
  }

  /** Adds a version (creating the secret if needed); resolves to its version number. */
  async seed(key: string, value: string): Promise<string> {
    const secret = `projects/${this.#project}/secrets/${toSecretId(key)}`
    const data = Buffer.from(value, 'utf8')
    const add = async () => {
      const [version] = await this.client.addSecretVersion({ parent: secret, payload: { data } })
      return version.name!.split('/').at(-1)!
    }
    try {
      return await add()
    } catch (error) {
      if (codeOf(error) !== GrpcStatus.NOT_FOUND) throw error
    }
    await this.client
      .createSecret({
        parent: `projects/${this.#project}`,
        secretId: toSecretId(key),
        secret: { replication: { automatic: {} } },
      })
      .catch((error: unknown) => {
        if (codeOf(error) !== GrpcStatus.ALREADY_EXISTS) throw error
      })
    return add()
  }

  /** Deletes the secret; a missing one is fine. */
  async remove(key: string): Promise<void> {
    const name = `projects/${this.#project}/secrets/${toSecretId(key)}`
    await this.client.deleteSecret({ name }).catch((error: unknown) => {
      if (codeOf(error) !== GrpcStatus.NOT_FOUND) throw error
    })
  }

  close(): Promise<void> {
    return this.client.close()
  }
}
