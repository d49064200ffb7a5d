/** The one place EventBridge failures become broker errors. */
import { BrokerError } from '../../broker/errors.ts'
import { classifyAwsFailure, resourceFailureError } from '../aws-common/failure.ts'

/**
 * Per-entry error codes worth retrying; the others (MalformedDetail, access
 * errors) are retried too, as every failed entry is, but make the final error final.
 */
export const TRANSIENT_ENTRY_CODES: ReadonlySet<string> = new Set([
  'InternalFailure',
  'ThrottlingException',
])

/** One entry that did not make it: the event id and the last error code. */
export interface FailedEntry {
  readonly id: string
  readonly code: string
}

/** Entries still failed after the last attempt. Retryable when every code was transient. */
export class EventPublishError extends BrokerError {
  override name = 'EventPublishError'
  readonly failed: readonly FailedEntry[]
  constructor(failed: readonly FailedEntry[], attempts: number, options?: { cause?: unknown }) {
    const list = failed.map((f) => `${f.id} (${f.code})`).join(', ')
    super(
      'UNAVAILABLE',
      `eventbridge: ${failed.length} event(s) not published after ${attempts} attempt(s): ${list}`,
      {
        cause: options?.cause,
        retryable: failed.every(
          (f) => TRANSIENT_ENTRY_CODES.has(f.code) || f.code.startsWith('call:'),
        ),
      },
    )
    this.failed = failed
  }
}

/**
 * Maps what a PutEvents call threw. Transient failures become UnavailableError (the
 * bus retries those like failed entries); an AbortError is returned unchanged.
 */
export function mapEventBridgeError(error: unknown, subject: string): Error {
  if (error instanceof BrokerError) return error
  const failure = classifyAwsFailure(error)
  const at = `eventbridge: ${subject}`
  return resourceFailureError(error, failure, at, 'event bus')
}
