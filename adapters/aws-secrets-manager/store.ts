/**
 * AWS Secrets Manager as a {@link WritableSecretStore}. Newest versions are read with
 * BatchGetSecretValue (20 ids per call, the API's limit for `SecretIdList`); pinned
 * versions with GetSecretValue. Only SecretString is served.
 */
import type {
  BatchGetSecretValueCommandOutput,
  CreateSecretCommandOutput,
  GetSecretValueCommandOutput,
  PutSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager'
import { nodeCrypto } from '../../broker/builtins.ts'
import { BrokerError, InvalidSecretError } from '../../broker/errors.ts'
import type {
  CallOptions,
  ReadOutcome,
  SecretLocator,
  StoreHealth,
  WritableSecretStore,
  WriteOutcome,
} from '../../broker/ports.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import type { AwsJsonCaller } from '../aws-common/json-client.ts'
import { validateAwsClientOptions } from '../aws-common/options.ts'
import { unchangedWrite } from '../write-when-changed.ts'
import { createSecretsManagerClient } from './client.ts'
import type { AwsSecretsManagerOptions } from './config.ts'
import { mapSecretsManagerError, PROVIDER } from './errors.ts'

/** BatchGetSecretValue accepts at most 20 ids in `SecretIdList`. */
export const BATCH_GET_LIMIT = 20

/**
 * Version strings read as staging labels rather than VersionIds: the AWS-managed
 * labels. Any other version is a VersionId (a UUID the store returned earlier).
 */
export const STAGE_LABELS: ReadonlySet<string> = new Set([
  'AWSCURRENT',
  'AWSPREVIOUS',
  'AWSPENDING',
])

/** Splits `items` into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

interface SecretRecord {
  readonly ARN?: string
  readonly Name?: string
  readonly VersionId?: string
  readonly SecretString?: string
  readonly SecretBinary?: Uint8Array
}

/** Test seam: a prebuilt client (e.g. pointed at a counting proxy). */
export interface AwsSecretsManagerDeps {
  readonly client?: AwsJsonCaller
}

/** Secrets Manager as a writable secret store. Construct with validated options. */
export class AwsSecretsManagerStore implements WritableSecretStore {
  readonly provider = PROVIDER
  readonly #client: AwsJsonCaller

  /** Throws InvalidConfigError on bad options. */
  constructor(options: AwsSecretsManagerOptions, deps: AwsSecretsManagerDeps = {}) {
    const valid = validateAwsClientOptions(options, PROVIDER)
    this.#client = deps.client ?? createSecretsManagerClient(valid)
  }

  /** Reads newest versions in batches of 20 and pinned versions one by one, in parallel. */
  async read(
    locators: readonly SecretLocator[],
    options: CallOptions = {},
  ): Promise<ReadOutcome[]> {
    options.signal?.throwIfAborted()
    const outcomes = new Array<ReadOutcome>(locators.length)
    const newest = new Map<string, number[]>()
    const pinned: number[] = []
    locators.forEach((locator, index) => {
      if (locator.version !== undefined) pinned.push(index)
      else newest.set(locator.key, [...(newest.get(locator.key) ?? []), index])
    })
    const batches = chunk([...newest.keys()], BATCH_GET_LIMIT).map((keys) =>
      this.#readNewest(keys, options.signal).then((byKey) => {
        for (const [key, outcome] of byKey)
          for (const index of newest.get(key) ?? []) outcomes[index] = outcome
      }),
    )
    const singles = pinned.map((index) =>
      this.#readPinned(locators[index]!, options.signal).then((outcome) => {
        outcomes[index] = outcome
      }),
    )
    await Promise.all([...batches, ...singles])
    return outcomes
  }

  async #readNewest(
    keys: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, ReadOutcome>> {
    const found = new Map<string, ReadOutcome>()
    let nextToken: string | undefined
    // With SecretIdList AWS may still page the answer; follow NextToken until done.
    do {
      const page: BatchGetSecretValueCommandOutput = await this.#client
        .call<BatchGetSecretValueCommandOutput>(
          'BatchGetSecretValue',
          { SecretIdList: [...keys], NextToken: nextToken },
          {
            abortSignal: signal,
          },
        )
        .catch((error: unknown) => {
          throw mapSecretsManagerError(error, `BatchGetSecretValue of ${keys.length} secrets`).error
        })
      for (const record of page.SecretValues ?? []) {
        const key = keys.find((k) => k === record.Name || k === record.ARN)
        if (key !== undefined) found.set(key, toOutcome(key, record))
      }
      for (const entry of page.Errors ?? []) {
        const key = entry.SecretId
        if (key === undefined || !keys.includes(key)) continue
        const mapped = mapSecretsManagerError(
          { name: entry.ErrorCode, message: entry.Message },
          `secret "${key}"`,
        )
        if (!(mapped.error instanceof BrokerError)) throw mapped.error
        found.set(key, { ok: false, key, error: mapped.error })
      }
      nextToken = page.NextToken
    } while (nextToken !== undefined && found.size < keys.length)
    for (const key of keys) {
      if (!found.has(key)) {
        const error = new BrokerError(
          'INTERNAL',
          `${PROVIDER}: secret "${key}" missing from BatchGetSecretValue answer`,
        )
        found.set(key, { ok: false, key, error })
      }
    }
    return found
  }

  async #readPinned(locator: SecretLocator, signal?: AbortSignal): Promise<ReadOutcome> {
    const version = locator.version!
    const byStage = STAGE_LABELS.has(version)
    try {
      const record = await this.#client.call<GetSecretValueCommandOutput>(
        'GetSecretValue',
        {
          SecretId: locator.key,
          ...(byStage ? { VersionStage: version } : { VersionId: version }),
        },
        { abortSignal: signal },
      )
      return toOutcome(locator.key, record)
    } catch (error) {
      const mapped = mapSecretsManagerError(error, `secret "${locator.key}" version "${version}"`)
      if (mapped.storeWide || !(mapped.error instanceof BrokerError)) throw mapped.error
      return { ok: false, key: locator.key, error: mapped.error }
    }
  }

  /**
   * Writes a new version unless the current one holds the same value; creates a missing
   * secret. Each write carries a new ClientRequestToken (the new version's id), which
   * Secrets Manager requires of callers that are not an AWS SDK, and which makes a
   * retried call of the same write idempotent.
   */
  async write(key: string, value: SecretValue, options: CallOptions = {}): Promise<WriteOutcome> {
    const signal = options.signal
    const outcome = await this.#readPinned({ key, version: 'AWSCURRENT' }, signal)
    const unchanged = unchangedWrite(outcome, value)
    if (unchanged) return unchanged
    if (!outcome.ok && outcome.error.code === 'NOT_FOUND') {
      try {
        const created = await this.#client.call<CreateSecretCommandOutput>(
          'CreateSecret',
          {
            Name: key,
            SecretString: value.reveal(),
            ClientRequestToken: nodeCrypto().randomUUID(),
          },
          {
            abortSignal: signal,
          },
        )
        return { version: created.VersionId ?? '', changed: true }
      } catch (error) {
        // Someone created it between our read and our create: fall through to a put.
        if ((error as { name?: string }).name !== 'ResourceExistsException') {
          throw mapSecretsManagerError(error, `secret "${key}" (create)`).error
        }
      }
    }
    try {
      const put = await this.#client.call<PutSecretValueCommandOutput>(
        'PutSecretValue',
        {
          SecretId: key,
          SecretString: value.reveal(),
          ClientRequestToken: nodeCrypto().randomUUID(),
        },
        {
          abortSignal: signal,
        },
      )
      return { version: put.VersionId ?? '', changed: true }
    } catch (error) {
      throw mapSecretsManagerError(error, `secret "${key}" (put)`).error
    }
  }

  /**
   * Deletes without the recovery window, so the name can be written again. AWS may
   * still refuse a CreateSecret of the same name for a few seconds afterwards.
   */
  async delete(key: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.#client.call(
        'DeleteSecret',
        { SecretId: key, ForceDeleteWithoutRecovery: true },
        {
          abortSignal: options.signal,
        },
      )
    } catch (error) {
      const mapped = mapSecretsManagerError(error, `secret "${key}" (delete)`)
      if (mapped.error instanceof BrokerError && mapped.error.code === 'NOT_FOUND') return
      throw mapped.error
    }
  }

  /** One cheap call (ListSecrets, 1 result) proves endpoint, credentials and permissions. */
  async health(options: CallOptions = {}): Promise<StoreHealth> {
    try {
      await this.#client.call(
        'ListSecrets',
        { MaxResults: 1 },
        {
          abortSignal: options.signal,
        },
      )
      return { status: 'ready' }
    } catch (error) {
      const mapped = mapSecretsManagerError(error, 'health check (ListSecrets)')
      if (!(mapped.error instanceof BrokerError)) throw mapped.error
      return { status: 'unavailable', message: mapped.error.message }
    }
  }

  /** Releases the client's sockets. */
  close(): void {
    this.#client.destroy()
  }
}

function toOutcome(key: string, record: SecretRecord): ReadOutcome {
  const version = record.VersionId ?? ''
  if (typeof record.SecretString !== 'string') {
    const what = record.SecretBinary === undefined ? 'no value' : 'binary data (SecretBinary)'
    return {
      ok: false,
      key,
      error: new InvalidSecretError(
        `${PROVIDER}: secret "${key}" holds ${what}; only SecretString is supported`,
      ),
    }
  }
  return { ok: true, key, version, value: new SecretValue(record.SecretString) }
}
