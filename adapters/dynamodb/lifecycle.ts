/**
 * The lifecycle half of the DynamoDB state store (see LifecycleState): bindings by
 * source through source pointers, every binding through target pointers, the
 * compare-and-write of one binding, and the audit log — each a Query or a conditional
 * write, never a Scan of the table.
 */
import type {
  AttributeValue,
  DeleteItemCommandOutput,
  GetItemCommandOutput,
  PutItemCommandOutput,
  QueryCommandOutput,
  TransactWriteItem,
} from '@aws-sdk/client-dynamodb'
import type {
  AuditEntry,
  BindingQuery,
  BindingRecord,
  BindingTarget,
  BindingUpdate,
} from '../../broker/ports.ts'
import type { AwsJsonCaller } from '../aws-common/json-client.ts'
import { mapDynamoDbError } from './errors.ts'
import { bindingFromItem, bindingItem, bindingPartition, type Item } from './keys.ts'
import {
  auditFromItem,
  auditItem,
  auditPartition,
  pointedBinding,
  pointedTarget,
  sourcePartition,
  TARGETS_PK,
} from './lifecycle-keys.ts'

/** What the lifecycle functions share with the state store. */
export interface TableContext {
  readonly client: AwsJsonCaller
  readonly table: string
  /** TransactWriteItems of at most 100 items, errors mapped. */
  readonly transact: (items: TransactWriteItem[], subject: string) => Promise<void>
  readonly listBindings: (target: BindingTarget) => Promise<BindingRecord[]>
}

/** Every item of a partition (all pages), newest first when `newestFirst`, up to `limit`. */
async function queryPartition(
  ctx: TableContext,
  pk: AttributeValue,
  subject: string,
  options: { newestFirst?: boolean; limit?: number } = {},
): Promise<Item[]> {
  const items: Item[] = []
  let start: Record<string, AttributeValue> | undefined
  do {
    const page = await ctx.client
      .call<QueryCommandOutput>('Query', {
        TableName: ctx.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
        ScanIndexForward: !options.newestFirst,
        ExclusiveStartKey: start,
        ...(options.limit === undefined ? {} : { Limit: options.limit - items.length }),
      })
      .catch((error: unknown) => {
        throw mapDynamoDbError(error, subject)
      })
    items.push(...(page.Items ?? []))
    start = page.LastEvaluatedKey
  } while (start !== undefined && (options.limit === undefined || items.length < options.limit))
  return items
}

async function getBinding(
  ctx: TableContext,
  ref: BindingTarget & { name: string },
): Promise<BindingRecord | undefined> {
  const { Item: item } = await ctx.client
    .call<GetItemCommandOutput>('GetItem', {
      TableName: ctx.table,
      Key: { pk: bindingPartition(ref), sk: { S: ref.name } },
      ConsistentRead: true,
    })
    .catch((error: unknown) => {
      throw mapDynamoDbError(error, `binding ${ref.app}/${ref.environment}/${ref.name}`)
    })
  return item ? bindingFromItem(item) : undefined
}

/** See {@link LifecycleState.findBindings}. */
export async function findBindings(
  ctx: TableContext,
  query: BindingQuery,
): Promise<BindingRecord[]> {
  if (query.source !== undefined) {
    const { store, key } = query.source
    const pointers = await queryPartition(
      ctx,
      sourcePartition(query.source),
      `bindings of ${store} ${key}`,
    )
    const records = await Promise.all(pointers.map((p) => getBinding(ctx, pointedBinding(p))))
    // A pointer outlives a binding re-pointed elsewhere or released: check, and tidy up.
    const stale = pointers.filter((_, i) => {
      const record = records[i]
      return record === undefined || record.store !== store || record.key !== key
    })
    await Promise.all(
      stale.map((item) =>
        ctx.client
          .call<DeleteItemCommandOutput>('DeleteItem', {
            TableName: ctx.table,
            Key: { pk: item.pk!, sk: item.sk! },
          })
          .catch(() => {}),
      ),
    )
    return records.filter(
      (r): r is BindingRecord => r !== undefined && r.store === store && r.key === key,
    )
  }
  if (query.app !== undefined && query.environment !== undefined)
    return ctx.listBindings({ app: query.app, environment: query.environment })
  const targets = (await queryPartition(ctx, { S: TARGETS_PK }, 'targets'))
    .map(pointedTarget)
    .filter(
      (t) =>
        (query.app === undefined || t.app === query.app) &&
        (query.environment === undefined || t.environment === query.environment),
    )
  const lists = await Promise.all(targets.map((t) => ctx.listBindings(t)))
  return lists.flat()
}

/** See {@link LifecycleState.updateBinding}: one conditional PutItem. */
export async function updateBinding(
  ctx: TableContext,
  record: BindingRecord,
  expectedInjectedAt: string,
): Promise<BindingUpdate> {
  try {
    await ctx.client.call<PutItemCommandOutput>('PutItem', {
      TableName: ctx.table,
      Item: bindingItem(record),
      ConditionExpression: 'injectedAt = :expected',
      ExpressionAttributeValues: { ':expected': { S: expectedInjectedAt } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    })
    return 'updated'
  } catch (error) {
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException')
      throw mapDynamoDbError(error, `update of ${record.app}/${record.environment}/${record.name}`)
    return (error as { Item?: Item }).Item === undefined ? 'missing' : 'changed'
  }
}

/** See {@link LifecycleState.appendAudit}: TransactWriteItems of Puts, 100 at a time. */
export async function appendAudit(
  ctx: TableContext,
  entries: readonly AuditEntry[],
): Promise<void> {
  // One transaction may not touch an item twice: a repeated entry is written once. The
  // ordinal (map's index) keeps a batch in order, and a batch past 100 entries ordered
  // across its transactions.
  const items = new Map(entries.map(auditItem).map((item) => [item.sk?.S, item]))
  const puts: TransactWriteItem[] = [...items.values()].map((item) => ({
    Put: { TableName: ctx.table, Item: item },
  }))
  for (let i = 0; i < puts.length; i += 100)
    await ctx.transact(puts.slice(i, i + 100), 'audit entries')
}

/** See {@link LifecycleState.listAudit}: one Query, newest first, turned around. */
export async function listAudit(
  ctx: TableContext,
  target: BindingTarget,
  limit = 100,
): Promise<AuditEntry[]> {
  const bounded = Math.max(1, Math.min(10_000, Math.floor(limit)))
  const items = await queryPartition(
    ctx,
    auditPartition(target),
    `audit of ${target.app}/${target.environment}`,
    {
      newestFirst: true,
      limit: bounded,
    },
  )
  return items.map(auditFromItem).reverse()
}
