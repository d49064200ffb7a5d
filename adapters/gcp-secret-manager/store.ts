/**
 * GCP Secret Manager as a {@link WritableSecretStore}. The API has no batch read, so a
 * read runs AccessSecretVersion per locator, a few at a time. Keys become secret ids
 * through {@link toSecretId}; versions are GCP's version numbers (or `latest`/an alias).
 */
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
import {
  type AccessedVersion,
  createSecretManagerClient,
  type GcpCallOptions,
  type SecretManagerApi,
} from './client.ts'
import { type GcpSecretManagerOptions, type ValidGcpOptions, validateGcpOptions } from './config.ts'
import { GrpcStatus, grpcCodeOf, mapGcpError, PROVIDER } from './errors.ts'
import { MAX_SECRET_ID_LENGTH, toSecretId } from './secret-ids.ts'

/** A version GCP accepts in a resource name: a number, `latest` or an alias. */
const VERSION = /^[A-Za-z0-9_-]{1,63}$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Test seam: a prebuilt client. */
export interface GcpSecretManagerDeps {
  readonly client?: SecretManagerApi
}

/** Secret Manager as a writable secret store. Construct with validated options. */
export class GcpSecretManagerStore implements WritableSecretStore {
  readonly provider = PROVIDER
  readonly #options: ValidGcpOptions
  readonly #parent: string
  #client: Promise<SecretManagerApi> | undefined

  /** Throws InvalidConfigError on bad options; the SDK is loaded on the first call. */
  constructor(options: GcpSecretManagerOptions, deps: GcpSecretManagerDeps = {}) {
    this.#options = validateGcpOptions(options)
    this.#parent = `projects/${this.#options.project}`
    if (deps.client !== undefined) this.#client = Promise.resolve(deps.client)
  }

  /** Reads each locator with AccessSecretVersion, `readConcurrency` at a time. */
  async read(
    locators: readonly SecretLocator[],
    options: CallOptions = {},
  ): Promise<ReadOutcome[]> {
    options.signal?.throwIfAborted()
    const api = await this.#api()
    return mapBounded(locators, this.#options.readConcurrency, (locator) =>
      this.#readOne(api, locator, options.signal),
    )
  }

  async #readOne(
    api: SecretManagerApi,
    locator: SecretLocator,
    signal: AbortSignal | undefined,
  ): Promise<ReadOutcome> {
    const { key } = locator
    const version = locator.version ?? 'latest'
    const subject =
      locator.version === undefined ? `secret "${key}"` : `secret "${key}" version "${version}"`
    const id = secretIdOf(key)
    if (id instanceof BrokerError) return { ok: false, key, error: id }
    if (!VERSION.test(version)) {
      const error = new InvalidConfigError(
        `${PROVIDER}: ${subject}: a version is a number, "latest" or an alias`,
      )
      return { ok: false, key, error }
    }
    signal?.throwIfAborted()
    try {
      const [response] = await api.accessSecretVersion(
        { name: `${this.#parent}/secrets/${id}/versions/${version}` },
        this.#callOptions(signal),
      )
      return toOutcome(key, response, subject)
    } catch (error) {
      const mapped = this.#failure(error, subject, signal)
      if (mapped.storeWide || !(mapped.error instanceof BrokerError)) throw mapped.error
      return { ok: false, key, error: mapped.error }
    }
  }

  /** Adds a version unless the newest one holds this value; creates a missing secret. */
  async write(key: string, value: SecretValue, options: CallOptions = {}): Promise<WriteOutcome> {
    const { signal } = options
    signal?.throwIfAborted()
    const id = secretIdOf(key)
    if (id instanceof BrokerError) throw id
    const api = await this.#api()
    const current = await this.#readOne(api, { key }, signal)
    const unchanged = unchangedWrite(current, value)
    if (unchanged) return unchanged
    const secret = `${this.#parent}/secrets/${id}`
    const data = Buffer.from(value.reveal(), 'utf8')
    const add = async () => {
      signal?.throwIfAborted()
      const [added] = await api.addSecretVersion(
        { parent: secret, payload: { data } },
        this.#callOptions(signal),
      )
      return { version: lastSegment(added.name), changed: true }
    }
    try {
      return await add()
    } catch (error) {
      if (grpcCodeOf(error) !== GrpcStatus.NOT_FOUND)
        throw this.#failure(error, `secret "${key}" (add version)`, signal).error
    }
    try {
      signal?.throwIfAborted()
      await api.createSecret(
        { parent: this.#parent, secretId: id, secret: { replication: { automatic: {} } } },
        this.#callOptions(signal),
      )
    } catch (error) {
      // Someone created it between our add and our create: add to theirs.
      if (grpcCodeOf(error) !== GrpcStatus.ALREADY_EXISTS)
        throw this.#failure(error, `secret "${key}" (create)`, signal).error
    }
    try {
      return await add()
    } catch (error) {
      throw this.#failure(error, `secret "${key}" (add version)`, signal).error
    }
  }

  /** Deletes the secret and every version (GCP has no recovery window for secrets). */
  async delete(key: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options
    signal?.throwIfAborted()
    const id = secretIdOf(key)
    if (id instanceof BrokerError) throw id
    const api = await this.#api()
    try {
      await api.deleteSecret({ name: `${this.#parent}/secrets/${id}` }, this.#callOptions(signal))
    } catch (error) {
      if (grpcCodeOf(error) === GrpcStatus.NOT_FOUND) return
      throw this.#failure(error, `secret "${key}" (delete)`, signal).error
    }
  }

  /** One cheap call (ListSecrets, page size 1) proves endpoint, credentials and permissions. */
  async health(options: CallOptions = {}): Promise<StoreHealth> {
    const { signal } = options
    signal?.throwIfAborted()
    try {
      const api = await this.#api()
      await api.listSecrets(
        { parent: this.#parent, pageSize: 1 },
        { ...this.#callOptions(signal), autoPaginate: false },
      )
      return { status: 'ready' }
    } catch (error) {
      const mapped = this.#failure(error, 'health check (ListSecrets)', signal)
      if (!(mapped.error instanceof BrokerError)) throw mapped.error
      return { status: 'unavailable', message: mapped.error.message }
    }
  }

  /** Closes the gRPC channel, if one was opened. */
  async close(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    if (client !== undefined) await (await client.catch(() => undefined))?.close()
  }

  #api(): Promise<SecretManagerApi> {
    if (this.#client === undefined) {
      const created = createSecretManagerClient(this.#options).catch((error: unknown) => {
        this.#client = undefined
        throw new InvalidConfigError(
          `${PROVIDER}: cannot load @google-cloud/secret-manager (is it installed?)`,
          { cause: error },
        )
      })
      this.#client = created
    }
    return this.#client
  }

  #callOptions(signal: AbortSignal | undefined): GcpCallOptions {
    const timeout = this.#options.requestTimeoutMs
    return signal === undefined ? { timeout, retry: null } : { timeout, retry: null, signal }
  }

  /** A cancelled call surfaces as the signal's AbortError, not as gRPC CANCELLED. */
  #failure(error: unknown, subject: string, signal: AbortSignal | undefined) {
    if (signal?.aborted) return { error: abortReason(signal), storeWide: true }
    return mapGcpError(error, subject)
  }
}

function secretIdOf(key: string): string | BrokerError {
  const id = toSecretId(key)
  if (id.length === 0 || id.length > MAX_SECRET_ID_LENGTH) {
    return new InvalidConfigError(
      `${PROVIDER}: secret "${key}": maps to a secret id of ${id.length} characters; GCP allows 1 to ${MAX_SECRET_ID_LENGTH}`,
    )
  }
  return id
}

function toOutcome(key: string, response: AccessedVersion, subject: string): ReadOutcome {
  const version = lastSegment(response.name)
  const raw = response.payload?.data
  // gRPC gives bytes; the REST transport gives proto3 JSON (base64).
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'base64') : (raw ?? new Uint8Array())
  try {
    return { ok: true, key, version, value: new SecretValue(utf8.decode(bytes)) }
  } catch {
    const error = new InvalidSecretError(
      `${PROVIDER}: ${subject} holds binary data, not UTF-8 text`,
    )
    return { ok: false, key, error }
  }
}

/** `projects/p/secrets/s/versions/3` → `3`. */
function lastSegment(name: string | null | undefined): string {
  return name?.slice(name.lastIndexOf('/') + 1) ?? ''
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof Error
    ? reason
    : new DOMException('The operation was aborted', 'AbortError')
}
