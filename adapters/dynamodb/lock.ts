/**
 * A lease lock in the state table: `LOCK#<name>` is taken with a conditional put (free,
 * or its lease ran out — a holder that died does not block for long) and given back by
 * a delete that only its owner may make. Used where a store has no compare-and-write
 * of its own: Secrets Manager, for the bundle secret's read-merge-write.
 */
import type { DeleteItemCommandOutput, PutItemCommandOutput } from '@aws-sdk/client-dynamodb'
import { nodeCrypto, sleep as pause } from '../../broker/builtins.ts'
import { UnavailableError } from '../../broker/errors.ts'
import type { Mutex } from '../../broker/ports.ts'
import type { AwsJsonCaller } from '../aws-common/json-client.ts'
import { mapDynamoDbError } from './errors.ts'
import { epochSeconds, escapeKeyPart } from './keys.ts'

/** Options of {@link DynamoDbMutex}. */
export interface DynamoDbMutexOptions {
  readonly client: AwsJsonCaller
  readonly table: string
  /** How long a taken lock holds without its owner. Default 30 s (a Lambda's work on one bundle is far shorter). */
  readonly leaseMs?: number
  /** Attempts to take a busy lock before giving up. Default 60. */
  readonly attempts?: number
  readonly sleep?: (ms: number) => Promise<void>
  readonly now?: () => number
}

const LOCK_SK = 'LOCK'

/** A {@link Mutex} over the state table. */
export class DynamoDbMutex implements Mutex {
  readonly #options: DynamoDbMutexOptions
  /** Who holds a lock this process took; drawn when it first takes one. */
  #ownerId: string | undefined

  constructor(options: DynamoDbMutexOptions) {
    this.#options = options
  }

  #owner(): string {
    this.#ownerId ??= nodeCrypto().randomUUID()
    return this.#ownerId
  }

  async run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const key = { pk: { S: `LOCK#${escapeKeyPart(name)}` }, sk: { S: LOCK_SK } }
    await this.#take(name, key)
    try {
      return await work()
    } finally {
      await this.#options.client
        .call<DeleteItemCommandOutput>('DeleteItem', {
          TableName: this.#options.table,
          Key: key,
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':me': { S: this.#owner() } },
        })
        // Not ours any more (the lease ran out and someone took it) or already gone: fine.
        .catch(() => {})
    }
  }

  async #take(name: string, key: Record<string, { S: string }>): Promise<void> {
    const { client, table } = this.#options
    const now = this.#options.now ?? Date.now
    const sleep = this.#options.sleep ?? pause
    const leaseMs = this.#options.leaseMs ?? 30_000
    const attempts = this.#options.attempts ?? 60
    for (let attempt = 0; attempt < attempts; attempt++) {
      const at = now()
      try {
        await client.call<PutItemCommandOutput>('PutItem', {
          TableName: table,
          Item: {
            ...key,
            owner: { S: this.#owner() },
            leaseUntil: { N: String(at + leaseMs) },
            expiresAt: { N: String(epochSeconds(at + leaseMs) + 3600) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now',
          ExpressionAttributeValues: { ':now': { N: String(at) } },
        })
        return
      } catch (error) {
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') {
          throw mapDynamoDbError(error, `lock "${name}"`)
        }
      }
      // Busy: wait a little, with jitter so that waiting workers do not retry in step.
      await sleep(20 + Math.random() * Math.min(500, 25 * 2 ** Math.min(attempt, 5)))
    }
    throw new UnavailableError(
      `"${name}" stayed locked by another worker; gave up after ${attempts} attempts`,
    )
  }
}
