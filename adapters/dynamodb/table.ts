/**
 * The state table's schema, as code: tests create it with this, and `infra/` declares
 * the same (PAY_PER_REQUEST, string `pk`/`sk`, TTL on `expiresAt`).
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb'

/** The TTL attribute: epoch seconds after which DynamoDB may drop an idempotency row. */
export const TTL_ATTRIBUTE = 'expiresAt'

/** The CreateTable input for a state table called `tableName`. */
export function stateTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  }
}

/**
 * Creates the table if missing, waits until it is ACTIVE, and enables TTL on
 * `expiresAt` if not yet enabled. Safe to call again.
 */
export async function createStateTable(
  client: DynamoDBClient,
  tableName: string,
  timeoutMs = 60_000,
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(stateTableDefinition(tableName)))
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceInUseException') throw error
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
    if (Table?.TableStatus === 'ACTIVE') break
    if (Date.now() > deadline)
      throw new Error(`table ${tableName} not ACTIVE after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }))
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus
  if (status === 'ENABLED' || status === 'ENABLING') return
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  )
}
