/**
 * What kind of failure an AWS call ended in (json-client.ts shapes its errors like SDK v3
 * service exceptions), read from the error's shape (name,
 * `code`, `$metadata`, `$response`) — no SDK import, so every AWS adapter shares it
 * without loading another adapter's client. Each adapter's own
 * error-mapping function turns a kind into a BrokerError.
 */

import {
  AccessDeniedError,
  BrokerError,
  InvalidConfigError,
  UnavailableError,
} from '../../broker/errors.ts'

/** The failure kinds every AWS adapter distinguishes. */
export type AwsFailureKind =
  | 'abort'
  | 'timeout'
  | 'network'
  | 'throttled'
  | 'server'
  | 'credentials'
  | 'access-denied'
  | 'not-found'
  | 'validation'
  | 'other'

/** A classified failure: its kind, the AWS error code (or Node code), and hints. */
export interface AwsFailure {
  readonly kind: AwsFailureKind
  /** The service's error code (`ThrottlingException`) or Node's (`ECONNRESET`). */
  readonly code: string
  readonly status: number | undefined
  /** From a `Retry-After` header, when the service sent one. */
  readonly retryAfterMs: number | undefined
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
])
const TIMEOUT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ETIMEDOUT',
])
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
])
const SERVER_NAMES = new Set([
  'InternalServiceError',
  'InternalServiceErrorException',
  'InternalFailure',
  'InternalServerError',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
])
const CREDENTIAL_NAMES = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidClientTokenId',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'CredentialsProviderError',
  'SignatureDoesNotMatch',
])
const ACCESS_NAMES = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'DecryptionFailure',
  'KMSAccessDeniedException',
])
const NOT_FOUND_NAMES = new Set(['ResourceNotFoundException'])
const VALIDATION_NAMES = new Set([
  'ValidationException',
  'InvalidParameterException',
  'InvalidParameterValueException',
  'SerializationException',
])

interface ErrorShape {
  name?: unknown
  code?: unknown
  $fault?: unknown
  $metadata?: { httpStatusCode?: unknown }
  $retryable?: { throttling?: unknown }
  $response?: { statusCode?: unknown; headers?: Record<string, unknown> }
}

/** Classifies anything an AWS call threw. Unknown shapes are `other`. */
export function classifyAwsFailure(error: unknown): AwsFailure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrorShape
  const name = typeof e.name === 'string' ? e.name : ''
  const nodeCode = typeof e.code === 'string' ? e.code : ''
  const statusValue = e.$metadata?.httpStatusCode ?? e.$response?.statusCode
  const status = typeof statusValue === 'number' ? statusValue : undefined
  const retryAfterMs = retryAfterOf(e.$response?.headers)
  const failure = (
    kind: AwsFailureKind,
    code: string = name || nodeCode || 'Unknown',
  ): AwsFailure => ({
    kind,
    code,
    status,
    retryAfterMs,
  })

  if (name === 'AbortError') return failure('abort')
  // Node socket codes first: the SDK renames a reset to TimeoutError but keeps `code`.
  if (NETWORK_CODES.has(nodeCode)) return failure('network', nodeCode)
  if (TIMEOUT_NAMES.has(name) || nodeCode === 'ETIMEDOUT') return failure('timeout')
  if (THROTTLING_NAMES.has(name) || status === 429 || e.$retryable?.throttling === true)
    return failure('throttled')
  if (SERVER_NAMES.has(name)) return failure('server')
  if (CREDENTIAL_NAMES.has(name)) return failure('credentials')
  if (ACCESS_NAMES.has(name)) return failure('access-denied')
  if (NOT_FOUND_NAMES.has(name)) return failure('not-found')
  if (VALIDATION_NAMES.has(name)) return failure('validation')
  if ((status !== undefined && status >= 500) || e.$fault === 'server') return failure('server')
  return failure('other')
}

/** True for the kinds worth retrying: throttling, 5xx, timeouts, resets. */
export function isTransientFailure(failure: AwsFailure): boolean {
  return ['timeout', 'network', 'throttled', 'server'].includes(failure.kind)
}

/** A short phrase for messages: says what happened, never echoes the service's text. */
export function describeFailure(failure: AwsFailure): string {
  switch (failure.kind) {
    case 'timeout':
      return `timed out (${failure.code})`
    case 'network':
      return `connection failed (${failure.code})`
    case 'throttled':
      return `throttled (${failure.code})`
    case 'server':
      return `service error (${failure.code}${failure.status === undefined ? '' : `, HTTP ${failure.status}`})`
    default:
      return failure.code
  }
}

function retryAfterOf(headers: Record<string, unknown> | undefined): number | undefined {
  if (headers === undefined) return undefined
  const name = Object.keys(headers).find((h) => h.toLowerCase() === 'retry-after')
  const raw = name === undefined ? undefined : headers[name]
  if (typeof raw !== 'string' || raw.trim() === '') return undefined
  const seconds = Number(raw)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000)
  const date = Date.parse(raw)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/**
 * The broker error for a failed call to an AWS resource that is not a secret (a bus, a
 * table): transient failures → UnavailableError, rejected credentials or access →
 * AccessDeniedError, a missing `resource` → InvalidConfigError (the deployment is
 * wrong), an abort unchanged. Adapters handle their service's special cases first.
 */
export function resourceFailureError(
  error: unknown,
  failure: AwsFailure,
  at: string,
  resource: string,
): Error {
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
      return new InvalidConfigError(`${at}: ${resource} not found (${failure.code})`, {
        cause: error,
      })
    default:
      return new BrokerError('INTERNAL', `${at}: failed (${failure.code})`, { cause: error })
  }
}
