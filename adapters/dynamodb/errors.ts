/** The one place DynamoDB failures become broker errors. */
import {
  AccessDeniedError,
  BrokerError,
  InvalidConfigError,
  UnavailableError,
} from '../../broker/errors.ts'
import { classifyAwsFailure, describeFailure } from '../aws-common/failure.ts'

/** Cancellation reasons of a transaction that are worth retrying. */
const TRANSIENT_REASONS = new Set([
  'ThrottlingError',
  'TransactionConflict',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
])

/**
 * Maps what a DynamoDB call threw. Throttling, conflicts and 5xx become
 * UnavailableError; a missing table is a configuration error; an AbortError is
 * returned unchanged. ConditionalCheckFailed is not mapped: callers handle it first.
 */
export function mapDynamoDbError(error: unknown, subject: string): Error {
  if (error instanceof BrokerError) return error
  const failure = classifyAwsFailure(error)
  const at = `dynamodb: ${subject}`
  if (failure.code === 'TransactionConflictException' || isTransientCancel(error)) {
    return new UnavailableError(`${at}: transaction conflict or throttling (${failure.code})`, {
      cause: error,
    })
  }
  switch (failure.kind) {
    case 'abort':
      return error as Error
    case 'timeout':
    case 'network':
    case 'throttled':
    case 'server':
      return new UnavailableError(`${at}: ${describeFailure(failure)}`, {
        cause: error,
        retryAfterMs: failure.retryAfterMs,
      })
    case 'credentials':
    case 'access-denied':
      return new AccessDeniedError(`${at}: access denied (${failure.code})`, { cause: error })
    case 'not-found':
      return new InvalidConfigError(`${at}: table not found (${failure.code})`, { cause: error })
    default:
      return new BrokerError('INTERNAL', `${at}: failed (${failure.code})`, { cause: error })
  }
}

function isTransientCancel(error: unknown): boolean {
  const e = error as { name?: string; CancellationReasons?: { Code?: string }[] }
  return (
    e.name === 'TransactionCanceledException' &&
    (e.CancellationReasons ?? []).some((r) => r.Code !== undefined && TRANSIENT_REASONS.has(r.Code))
  )
}
