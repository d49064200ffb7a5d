/**
 * The AWS host: the Lambda twin of server/runtime.ts, split by part. This module builds
 * the light parts — the logger, the EventBridge bus, the DynamoDB state store; the
 * broker (catalog, stores, sink) is in aws-broker.ts. Each function builds only what it
 * uses, once per execution environment, and esbuild leaves the rest out of its bundle:
 * `ingest` carries no DynamoDB client, `bindings` no catalog and no broker.
 */
import { DynamoDbStateStore } from '../adapters/dynamodb/state-store.ts'
import { EventBridgeBus } from '../adapters/eventbridge/bus.ts'
import { BrokerError } from '../broker/errors.ts'
import type { Logger } from '../broker/ports.ts'
import { createJsonLogger } from '../server/logger.ts'
import {
  eventBusName,
  type FunctionEnvironment,
  logLevel,
  readAwsClientSettings,
  stateTableName,
} from './environment.ts'

/** Builds on first call and keeps the result; a failed build is tried again next call. */
export function lazy<T>(build: () => T): () => T {
  let built: { value: T } | undefined
  return function lazyPart() {
    built ??= { value: build() }
    return built.value
  }
}

/**
 * Builds a part during the cold start (Lambda's init phase), so the first invocation
 * does not pay for it. Only inside Lambda: importing a handler elsewhere (tests, tools)
 * has no side effects. A failure is only logged; the invocation that needs the part
 * builds it again and answers with the error.
 */
export function prewarm(env: FunctionEnvironment, logger: Logger, part: () => unknown): void {
  if (env.AWS_LAMBDA_FUNCTION_NAME === undefined) return
  try {
    part()
  } catch (error) {
    logger.error('cold start: configuration error', {
      error: error instanceof Error ? error.name : typeof error,
      detail: error instanceof BrokerError ? error.message : undefined,
    })
  }
}

/** The JSON logger of `CAPBROKER_LOG_LEVEL`; a bad level logs at info rather than not at all. */
export function createHostLogger(env: FunctionEnvironment): Logger {
  try {
    return createJsonLogger({ level: logLevel(env) })
  } catch (error) {
    const logger = createJsonLogger({ level: 'info' })
    logger.warn('logging at info', { detail: (error as BrokerError).message })
    return logger
  }
}

/** The EventBridge bus `CAPBROKER_EVENT_BUS`. */
export function createEventBus(env: FunctionEnvironment): EventBridgeBus {
  return new EventBridgeBus({ busName: eventBusName(env), ...readAwsClientSettings(env) })
}

/** The DynamoDB state table `CAPBROKER_STATE_TABLE`. */
export function createStateStore(env: FunctionEnvironment): DynamoDbStateStore {
  return new DynamoDbStateStore({ tableName: stateTableName(env), ...readAwsClientSettings(env) })
}
