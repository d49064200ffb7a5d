/**
 * The one place Secrets Manager failures become broker errors. Messages name the
 * secret and the AWS error code, never the service's message text (it might quote the
 * request) and never a value.
 */
import {
  AccessDeniedError,
  BrokerError,
  InvalidConfigError,
  NotFoundError,
  UnavailableError,
} from '../../broker/errors.ts'
import { classifyAwsFailure, describeFailure } from '../aws-common/failure.ts'

/** The provider name reported in outcomes. */
export const PROVIDER = 'aws-secrets-manager'

/** A mapped failure and whether it concerns the whole store or only the one secret. */
export interface MappedFailure {
  /** A BrokerError, or the original AbortError: a cancelled call did not fail. */
  readonly error: Error
  /**
   * True when every secret of the call would fail alike (throttling, 5xx, network,
   * bad credentials, abort): `read` then rejects instead of reporting per key.
   */
  readonly storeWide: boolean
}

/**
 * Maps anything a Secrets Manager call threw — an SDK exception, a Node socket error,
 * or a per-secret `Errors` entry of BatchGetSecretValue passed as `{ name: ErrorCode }` —
 * to a broker error. `subject` names what was being done, e.g. `secret "db/orders"`.
 */
export function mapSecretsManagerError(error: unknown, subject: string): MappedFailure {
  if (error instanceof BrokerError) return { error, storeWide: !isKeyScoped(error) }
  const failure = classifyAwsFailure(error)
  const at = `${PROVIDER}: ${subject}`
  switch (failure.kind) {
    case 'abort':
      return { error: error as Error, storeWide: true }
    case 'timeout':
    case 'network':
    case 'throttled':
    case 'server':
      return {
        error: new UnavailableError(`${at}: ${describeFailure(failure)}`, {
          cause: error,
          retryAfterMs: failure.retryAfterMs,
        }),
        storeWide: true,
      }
    case 'credentials':
      return {
        error: new AccessDeniedError(`${at}: credentials rejected (${failure.code})`, {
          cause: error,
        }),
        storeWide: true,
      }
    case 'access-denied':
      return {
        error: new AccessDeniedError(`${at}: access denied (${failure.code})`, { cause: error }),
        storeWide: false,
      }
    case 'not-found':
      return {
        error: new NotFoundError(`${at}: not found (${failure.code})`, { cause: error }),
        storeWide: false,
      }
    case 'validation':
      return {
        error: new InvalidConfigError(`${at}: rejected as invalid (${failure.code})`, {
          cause: error,
        }),
        storeWide: false,
      }
    default:
      if (failure.code === 'InvalidRequestException' && isMarkedForDeletion(error)) {
        // A secret pending deletion is gone for every reader; AWS only says so in text.
        return {
          error: new NotFoundError(`${at}: not found (scheduled for deletion)`, { cause: error }),
          storeWide: false,
        }
      }
      return {
        error: new BrokerError('INTERNAL', `${at}: failed (${failure.code})`, { cause: error }),
        storeWide: false,
      }
  }
}

function isKeyScoped(error: BrokerError): boolean {
  return (
    error.code === 'NOT_FOUND' || error.code === 'INVALID_SECRET' || error.code === 'INVALID_CONFIG'
  )
}

function isMarkedForDeletion(error: unknown): boolean {
  const message = (error as { message?: unknown; Message?: unknown }).message
  return typeof message === 'string' && /marked (for )?delet|scheduled for delet/i.test(message)
}
