/** The one place DynamoDB failures become broker errors. */
import { BrokerError, UnavailableError } from '../../broker/errors.ts'
import { classifyAwsFailure, resourceFailureError } from '../aws-common/failure.ts'

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
  return resourceFailureError(error, failure, at, 'table')
}

function isTransientCancel(error: unknown): boolean {
  const e = error as { name?: string; CancellationReasons?: { Code?: string }[] }
  return (
    e.name === 'TransactionCanceledException' &&
    (e.CancellationReasons ?? []).some((r) => r.Code !== undefined && TRANSIENT_REASONS.has(r.Code))
  )
}
