/**
 * Azure Key Vault as a {@link WritableSecretStore}. Key Vault has no batch read, so a read
 * runs getSecret per locator, a few at a time. Keys become secret names through
 * {@link toKeyVaultName}; versions are Key Vault's version ids (32 hex characters).
 */
import type { SecretClient } from '@azure/keyvault-secrets'
import { BrokerError, InvalidConfigError, InvalidSecretError } from '../../broker/errors.ts'
import type {
  CallOptions,
  ReadOutcome,
  SecretLocator,
  StoreHealth,
  WritableSecretStore,
  WriteOutcome,
} from '../../broker/ports.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import { mapBounded } from '../map-bounded.ts'
import { unchangedWrite } from '../write-when-changed.ts'
import { createKeyVaultClient } from './client.ts'
import {
  type AzureKeyVaultOptions,
  type ValidAzureOptions,
  validateAzureOptions,
} from './config.ts'
import { mapKeyVaultError, PROVIDER } from './errors.ts'
import { MAX_SECRET_NAME_LENGTH, toKeyVaultName } from './secret-names.ts'

/** A version id Key Vault could have issued; anything else could rewrite the request path. */
const VERSION = /^[0-9A-Za-z]{1,64}$/

/** Test seam: a prebuilt client. */
export interface AzureKeyVaultDeps {
  readonly client?: SecretClient
}

/** Key Vault as a writable secret store. Construct with validated options. */
export class AzureKeyVaultStore implements WritableSecretStore {
  readonly provider = PROVIDER
  readonly #options: ValidAzureOptions
  #client: Promise<SecretClient> | undefined

  /** Throws InvalidConfigError on bad options; the SDK is loaded on the first call. */
  constructor(options: AzureKeyVaultOptions, deps: AzureKeyVaultDeps = {}) {
    this.#options = validateAzureOptions(options)
    if (deps.client !== undefined) this.#client = Promise.resolve(deps.client)
  }

  /** Reads each locator with getSecret, `readConcurrency` at a time. */
  async read(
    locators: readonly SecretLocator[],
    options: CallOptions = {},
  ): Promise<ReadOutcome[]> {
    options.signal?.throwIfAborted()
    const client = await this.#api()
    return mapBounded(locators, this.#options.readConcurrency, (locator) =>
      this.#readOne(client, locator, options.signal),
    )
  }

  async #readOne(
    client: SecretClient,
    locator: SecretLocator,
    signal: AbortSignal | undefined,
  ): Promise<ReadOutcome> {
    const { key, version } = locator
    const subject =
      version === undefined ? `secret "${key}"` : `secret "${key}" version "${version}"`
    const name = nameOf(key)
    if (name instanceof BrokerError) return { ok: false, key, error: name }
    if (version !== undefined && !VERSION.test(version)) {
      const error = new InvalidConfigError(`${PROVIDER}: ${subject}: not a Key Vault version id`)
      return { ok: false, key, error }
    }
    signal?.throwIfAborted()
    try {
      const secret = await client.getSecret(name, { ...this.#requestOptions(signal), version })
      if (typeof secret.value !== 'string') {
        const error = new InvalidSecretError(`${PROVIDER}: ${subject} has no value`)
        return { ok: false, key, error }
      }
      return {
        ok: true,
        key,
        version: secret.properties.version ?? '',
        value: new SecretValue(secret.value),
      }
    } catch (error) {
      const mapped = mapKeyVaultError(error, subject, signal?.aborted === true)
      if (mapped.storeWide || !(mapped.error instanceof BrokerError)) throw mapped.error
      return { ok: false, key, error: mapped.error }
    }
  }

  /** Sets a new version unless the newest one holds this value (setSecret creates a missing secret). */
  async write(key: string, value: SecretValue, options: CallOptions = {}): Promise<WriteOutcome> {
    const { signal } = options
    signal?.throwIfAborted()
    const name = nameOf(key)
    if (name instanceof BrokerError) throw name
    const client = await this.#api()
    const current = await this.#readOne(client, { key }, signal)
    const unchanged = unchangedWrite(current, value)
    if (unchanged) return unchanged
    signal?.throwIfAborted()
    try {
      const set = await client.setSecret(name, value.reveal(), this.#requestOptions(signal))
      return { version: set.properties.version ?? '', changed: true }
    } catch (error) {
      throw mapKeyVaultError(error, `secret "${key}" (set)`, signal?.aborted === true).error
    }
  }

  /**
   * Deletes the secret and every version, then purges it: with soft delete (on by
   * default in Azure) a deleted name stays reserved, and the next write of the same key
   * would fail with 409 until the retention period ends. A vault that forbids purging
   * (purge protection, no purge permission) keeps the soft-deleted secret.
   */
  async delete(key: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options
    signal?.throwIfAborted()
    const name = nameOf(key)
    if (name instanceof BrokerError) throw name
    const client = await this.#api()
    const aborted = () => signal?.aborted === true
    try {
      const poller = await client.beginDeleteSecret(name, {
        ...this.#requestOptions(signal),
        intervalInMs: this.#options.deletePollIntervalMs,
      })
      await poller.pollUntilDone({ abortSignal: signal })
    } catch (error) {
      const mapped = mapKeyVaultError(error, `secret "${key}" (delete)`, aborted())
      if (mapped.error instanceof BrokerError && mapped.error.code === 'NOT_FOUND') return
      throw mapped.error
    }
    try {
      signal?.throwIfAborted()
      await client.purgeDeletedSecret(name, this.#requestOptions(signal))
    } catch (error) {
      const mapped = mapKeyVaultError(error, `secret "${key}" (purge)`, aborted())
      const code = mapped.error instanceof BrokerError ? mapped.error.code : undefined
      // Not purgeable here (403) or already purged (404): the secret is deleted either way.
      if (code === 'ACCESS_DENIED' || code === 'NOT_FOUND') return
      throw mapped.error
    }
  }

  /** One cheap call (one page of one secret's properties) proves URL, TLS and credentials. */
  async health(options: CallOptions = {}): Promise<StoreHealth> {
    const { signal } = options
    signal?.throwIfAborted()
    try {
      const client = await this.#api()
      await client
        .listPropertiesOfSecrets(this.#requestOptions(signal))
        .byPage({ maxPageSize: 1 })
        .next()
      return { status: 'ready' }
    } catch (error) {
      const mapped = mapKeyVaultError(
        error,
        'health check (list secrets)',
        signal?.aborted === true,
      )
      if (!(mapped.error instanceof BrokerError)) throw mapped.error
      return { status: 'unavailable', message: mapped.error.message }
    }
  }

  #api(): Promise<SecretClient> {
    if (this.#client === undefined) {
      this.#client = createKeyVaultClient(this.#options).catch((error: unknown) => {
        this.#client = undefined
        throw new InvalidConfigError(
          `${PROVIDER}: cannot load @azure/keyvault-secrets or @azure/identity (are they installed?)`,
          { cause: error },
        )
      })
    }
    return this.#client
  }

  #requestOptions(signal: AbortSignal | undefined) {
    return { abortSignal: signal, requestOptions: { timeout: this.#options.requestTimeoutMs } }
  }
}

function nameOf(key: string): string | BrokerError {
  const name = toKeyVaultName(key)
  if (name.length === 0 || name.length > MAX_SECRET_NAME_LENGTH) {
    return new InvalidConfigError(
      `${PROVIDER}: secret "${key}": maps to a secret name of ${name.length} characters; Key Vault allows 1 to ${MAX_SECRET_NAME_LENGTH}`,
    )
  }
  return name
}
