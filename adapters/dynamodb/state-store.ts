/**
 * DynamoDB as the broker's {@link StateStore}: one table, keys as documented in
 * `keys.ts`. `claim` is one conditional PutItem, so concurrent claims are decided by
 * DynamoDB, not by a read-then-write race.
 */
import type {
  AttributeValue,
  DeleteItemCommandOutput,
  GetItemCommandOutput,
  PutItemCommandOutput,
  QueryCommandOutput,
  TransactWriteItem,
  TransactWriteItemsCommandOutput,
} from '@aws-sdk/client-dynamodb'
import type {
  AuditEntry,
  BindingQuery,
  BindingRecord,
  BindingTarget,
  BindingUpdate,
  Claim,
  LifecycleState,
  LockingState,
  Mutex,
  RecordedOutcome,
  RequestKey,
  StateStore,
} from '../../broker/ports.ts'
import { type AwsJsonCaller, AwsJsonClient, DYNAMODB } from '../aws-common/json-client.ts'
import {
  type AwsClientOptions,
  requireName,
  validateAwsClientOptions,
} from '../aws-common/options.ts'
import { mapDynamoDbError } from './errors.ts'
import {
  bindingFromItem,
  bindingItem,
  bindingPartition,
  completedRequestItem,
  epochSeconds,
  type Item,
  outcomeFromItem,
  requestKey,
} from './keys.ts'
import * as lifecycle from './lifecycle.ts'
import { sourcePartition, sourcePointerItem, targetPointerItem } from './lifecycle-keys.ts'
import { DynamoDbMutex } from './lock.ts'

/** Options of {@link DynamoDbStateStore}. */
export interface DynamoDbStateStoreOptions extends AwsClientOptions {
  readonly tableName: string
}

/** Test seam: a prebuilt client. */
export interface DynamoDbStateStoreDeps {
  readonly client?: AwsJsonCaller
}

/** TransactWriteItems takes at most 100 actions. */
export const TRANSACTION_LIMIT = 100

/**
 * How long an unfinished claim row outlives its lease before TTL may remove it: long
 * enough to debug a crashed resolve, short enough not to pile up.
 */
export const ABANDONED_CLAIM_RETENTION_S = 24 * 3600

const ADAPTER = 'dynamodb'
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/
const CLAIM_CONDITION =
  'attribute_not_exists(pk) OR (#status = :inProgress AND leaseUntil < :nowMs) OR expiresAt < :nowS'

/** Bindings, request outcomes, idempotency keys and the audit log in one DynamoDB table. */
export class DynamoDbStateStore implements StateStore, LifecycleState, LockingState {
  readonly #client: AwsJsonCaller
  readonly #table: string
  readonly #lifecycle: lifecycle.TableContext

  /** Throws InvalidConfigError on bad options. The table must exist ({@link createStateTable}). */
  constructor(options: DynamoDbStateStoreOptions, deps: DynamoDbStateStoreDeps = {}) {
    const client = validateAwsClientOptions(options, ADAPTER, ['tableName'])
    this.#table = requireName(
      options.tableName,
      'tableName',
      ADAPTER,
      TABLE_NAME,
      'a DynamoDB table name',
    )
    this.#client = deps.client ?? new AwsJsonClient(DYNAMODB, client)
    this.#lifecycle = {
      client: this.#client,
      table: this.#table,
      transact: (items, subject) => this.#transact(items, subject),
      listBindings: (target) => this.listBindings(target),
    }
  }

  /** A lease lock in this table, for read-modify-write where a store has no compare-and-write. */
  mutex(): Mutex {
    return new DynamoDbMutex({ client: this.#client, table: this.#table })
  }

  /**
   * Claims a request: succeeds when no row exists, the previous claim's lease ran out,
   * or the row's TTL has passed (DynamoDB deletes expired rows lazily, up to days later).
   */
  async claim(key: RequestKey, options: { now: Date; leaseMs: number }): Promise<Claim> {
    const nowMs = options.now.getTime()
    const leaseUntil = nowMs + options.leaseMs
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#client.call<PutItemCommandOutput>('PutItem', {
          TableName: this.#table,
          Item: {
            ...requestKey(key),
            kind: { S: 'request' },
            status: { S: 'in-progress' },
            leaseUntil: { N: String(leaseUntil) },
            claimedAt: { S: options.now.toISOString() },
            expiresAt: { N: String(epochSeconds(leaseUntil) + ABANDONED_CLAIM_RETENTION_S) },
          },
          ConditionExpression: CLAIM_CONDITION,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':inProgress': { S: 'in-progress' },
            ':nowMs': { N: String(nowMs) },
            ':nowS': { N: String(Math.floor(nowMs / 1000)) },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        })
        return { status: 'claimed' }
      } catch (error) {
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') {
          throw mapDynamoDbError(error, `claim of ${key.source} ${key.id}`)
        }
        const existing = (error as { Item?: Item }).Item ?? (await this.#getRequest(key))
        // Gone between our put and our read (abandoned, expired): try the claim again.
        if (existing === undefined) continue
        if (existing.status?.S === 'completed')
          return { status: 'completed', outcome: outcomeFromItem(existing) }
        return { status: 'in-progress' }
      }
    }
    return { status: 'in-progress' }
  }

  /**
   * Writes the bindings (with their source and target pointers, see keys.ts) and the
   * completed request row. TransactWriteItems takes 100 actions, the request row
   * included: up to 99 items go in the same transaction; beyond that, earlier
   * transactions write the extra items first and the one
   * holding the request row comes last, so a crash in between leaves the claim
   * unfinished and a redelivery writes everything again (puts are idempotent).
   */
  async complete(
    key: RequestKey,
    outcome: RecordedOutcome,
    bindings: readonly BindingRecord[],
    options: { now: Date; ttlMs: number },
  ): Promise<void> {
    // Two actions on one item fail a transaction: the last record per name wins.
    const byName = new Map(
      bindings.map((b) => [`${b.app}\u0000${b.environment}\u0000${b.name}`, b]),
    )
    const records = [...byName.values()]
    const targets = new Map(records.map((b) => [JSON.stringify([b.app, b.environment]), b]))
    const puts: TransactWriteItem[] = [
      ...records.map(bindingItem),
      ...records.map(sourcePointerItem),
      ...[...targets.values()].map(targetPointerItem),
    ].map((item) => ({ Put: { TableName: this.#table, Item: item } }))
    // An outcome not to be remembered (ttlMs 0: its failures were transient) leaves no
    // request row: TTL works in whole seconds, so a row would block redeliveries a while.
    const request: TransactWriteItem =
      options.ttlMs <= 0
        ? { Delete: { TableName: this.#table, Key: requestKey(key) } }
        : {
            Put: {
              TableName: this.#table,
              Item: completedRequestItem(key, outcome, options.now.getTime() + options.ttlMs),
            },
          }
    const lastSize = puts.length % (TRANSACTION_LIMIT - 1) || TRANSACTION_LIMIT - 1
    const early = puts.slice(0, Math.max(0, puts.length - lastSize))
    for (let i = 0; i < early.length; i += TRANSACTION_LIMIT) {
      await this.#transact(
        early.slice(i, i + TRANSACTION_LIMIT),
        `bindings of ${key.source} ${key.id}`,
      )
    }
    await this.#transact(
      [...puts.slice(early.length), request],
      `completion of ${key.source} ${key.id}`,
    )
  }

  /** Deletes the row only while it is still in progress: a completed outcome stays. */
  async abandon(key: RequestKey): Promise<void> {
    try {
      await this.#client.call<DeleteItemCommandOutput>('DeleteItem', {
        TableName: this.#table,
        Key: requestKey(key),
        ConditionExpression: '#status = :inProgress',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':inProgress': { S: 'in-progress' } },
      })
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return
      throw mapDynamoDbError(error, `abandon of ${key.source} ${key.id}`)
    }
  }

  /** One Query on the app/environment partition, all pages, strongly consistent. */
  async listBindings(target: BindingTarget): Promise<BindingRecord[]> {
    const records: BindingRecord[] = []
    let start: Record<string, AttributeValue> | undefined
    do {
      const page = await this.#client
        .call<QueryCommandOutput>('Query', {
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': bindingPartition(target) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        })
        .catch((error: unknown) => {
          throw mapDynamoDbError(error, `bindings of ${target.app}/${target.environment}`)
        })
      for (const item of page.Items ?? []) records.push(bindingFromItem(item))
      start = page.LastEvaluatedKey
    } while (start !== undefined)
    return records.sort((a, b) => a.name.localeCompare(b.name))
  }

  /**
   * Deletes the named bindings and their source pointers, 100 items per transaction;
   * missing names are not an error. The target pointer stays: it is cheap, and a
   * target without bindings lists nothing.
   */
  async removeBindings(target: BindingTarget, names: readonly string[]): Promise<void> {
    const wanted = new Set(names)
    const records = (await this.listBindings(target)).filter((r) => wanted.has(r.name))
    const keys = [
      ...[...wanted].map((name) => ({ pk: bindingPartition(target), sk: { S: name } })),
      ...records.map((r) => {
        const pointer = sourcePointerItem(r)
        return { pk: sourcePartition(r), sk: pointer.sk as { S: string } }
      }),
    ]
    const deletes: TransactWriteItem[] = keys.map((Key) => ({
      Delete: { TableName: this.#table, Key },
    }))
    for (let i = 0; i < deletes.length; i += TRANSACTION_LIMIT) {
      await this.#transact(
        deletes.slice(i, i + TRANSACTION_LIMIT),
        `removal of bindings of ${target.app}/${target.environment}`,
      )
    }
  }

  /** See {@link LifecycleState.findBindings}. */
  findBindings(query: BindingQuery): Promise<BindingRecord[]> {
    return lifecycle.findBindings(this.#lifecycle, query)
  }

  /** See {@link LifecycleState.updateBinding}. */
  updateBinding(record: BindingRecord, expectedInjectedAt: string): Promise<BindingUpdate> {
    return lifecycle.updateBinding(this.#lifecycle, record, expectedInjectedAt)
  }

  /** See {@link LifecycleState.appendAudit}. */
  appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    return lifecycle.appendAudit(this.#lifecycle, entries)
  }

  /** See {@link LifecycleState.listAudit}. */
  listAudit(target: BindingTarget, options: { limit?: number } = {}): Promise<AuditEntry[]> {
    return lifecycle.listAudit(this.#lifecycle, target, options.limit)
  }

  /** Releases the client's sockets. */
  async close(): Promise<void> {
    this.#client.destroy()
  }

  async #getRequest(key: RequestKey): Promise<Item | undefined> {
    try {
      const { Item } = await this.#client.call<GetItemCommandOutput>('GetItem', {
        TableName: this.#table,
        Key: requestKey(key),
        ConsistentRead: true,
      })
      return Item
    } catch (error) {
      throw mapDynamoDbError(error, `read of ${key.source} ${key.id}`)
    }
  }

  async #transact(items: TransactWriteItem[], subject: string): Promise<void> {
    if (items.length === 0) return
    try {
      await this.#client.call<TransactWriteItemsCommandOutput>('TransactWriteItems', {
        TransactItems: items,
      })
    } catch (error) {
      throw mapDynamoDbError(error, subject)
    }
  }
}
