/**
 * Shared pieces of the AWS emulator tests: SDK clients pointed straight at moto (for
 * seeding and checking, bypassing the adapter under test) and unique names.
 */
import { randomBytes } from 'node:crypto'
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../harness/moto.ts'

/** Client config for a seeding client talking to `endpoint` directly. */
export function directClientConfig(endpoint: string) {
  return { endpoint, region: AWS_TEST_REGION, credentials: AWS_TEST_CREDENTIALS, maxAttempts: 1 }
}

/** A name no other test file or run uses (moto may be shared). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

/** Seeds secrets through the SDK, never through the adapter under test. */
export class SecretSeeder {
  readonly client: SecretsManagerClient
  constructor(endpoint: string) {
    this.client = new SecretsManagerClient(directClientConfig(endpoint))
  }

  /** Writes a new version (creating the secret if needed); resolves to its VersionId. */
  async seed(key: string, value: string): Promise<string> {
    try {
      const put = await this.client.send(
        new PutSecretValueCommand({ SecretId: key, SecretString: value }),
      )
      return put.VersionId!
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error
      const created = await this.client.send(
        new CreateSecretCommand({ Name: key, SecretString: value }),
      )
      return created.VersionId!
    }
  }

  /** Creates a secret holding binary data only. */
  async seedBinary(key: string, bytes: Uint8Array): Promise<void> {
    await this.client.send(new CreateSecretCommand({ Name: key, SecretBinary: bytes }))
  }

  /** Deletes without recovery; a missing secret is fine. */
  async remove(key: string): Promise<void> {
    await this.client
      .send(new DeleteSecretCommand({ SecretId: key, ForceDeleteWithoutRecovery: true }))
      .catch((error) => {
        if ((error as Error).name !== 'ResourceNotFoundException') throw error
      })
  }

  close(): void {
    this.client.destroy()
  }
}
