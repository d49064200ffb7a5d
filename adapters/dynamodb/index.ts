/** DynamoDB adapter: the broker's state store on AWS (single-table design, see keys.ts). */

export { mapDynamoDbError } from './errors.ts'
export { bindingPartition, escapeKeyPart, REQUEST_SK, requestKey } from './keys.ts'
export { DynamoDbMutex, type DynamoDbMutexOptions } from './lock.ts'
export {
  ABANDONED_CLAIM_RETENTION_S,
  DynamoDbStateStore,
  type DynamoDbStateStoreDeps,
  type DynamoDbStateStoreOptions,
  TRANSACTION_LIMIT,
} from './state-store.ts'
export { createStateTable, stateTableDefinition, TTL_ATTRIBUTE } from './table.ts'
