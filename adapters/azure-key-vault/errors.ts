/**
 * The one place Key Vault failures become broker errors. The HTTP status and the
 * service's error code decide; messages name the secret and the code, never the
 * service's message text and never a value.
 */
import {
  AccessDeniedError,
  BrokerError,
  InvalidConfigError,
  NotFoundError,
  UnavailableError,
} from '../../broker/errors.ts'

/** The provider name reported in outcomes. */
export const PROVIDER = 'azure-key-vault'

/** A mapped failure and whether it concerns the whole store or only the one secret. */
export interface MappedFailure {
  /** A BrokerError, or the original AbortError: a cancelled call did not fail. */
  readonly error: Error
  /** True when every secret of the call would fail alike: `read` then rejects. */
  readonly storeWide: boolean
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'REQUEST_SEND_ERROR',
])
/** Node/OpenSSL codes for a server certificate the client does not trust. */
const TLS_TRUST =
  /^(CERT_|ERR_TLS_CERT|UNABLE_TO_(GET|VERIFY)_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$)/
const CREDENTIAL_ERRORS = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AuthenticationRequiredError',
  'AggregateAuthenticationError',
])

interface HeaderBag {
  get?(name: string): string | undefined
}

interface RestErrorShape {
  name?: unknown
  code?: unknown
  statusCode?: unknown
  message?: unknown
  response?: { headers?: HeaderBag }
}

/**
 * Maps anything a SecretClient call threw to a broker error. `subject` names what was
 * being done, e.g. `secret "apps/checkout/stripe"`. The SDK reports its own request
 * timeout as an AbortError too, so `callerAborted` says whether the caller cancelled:
 * only then does the AbortError pass through; otherwise it was a timeout.
 */
export function mapKeyVaultError(
  error: unknown,
  subject: string,
  callerAborted = false,
): MappedFailure {
  if (error instanceof BrokerError) return { error, storeWide: false }
  const e = (typeof error === 'object' && error !== null ? error : {}) as RestErrorShape
  const name = typeof e.name === 'string' ? e.name : ''
  const code = typeof e.code === 'string' ? e.code : ''
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined
  const at = `${PROVIDER}: ${subject}`
  const what = [code, status === undefined ? '' : `HTTP ${status}`].filter(Boolean).join(', ')
  const unavailable = (phrase: string) => ({
    error: new UnavailableError(`${at}: ${phrase} (${what || name || 'no status'})`, {
      cause: error,
      retryAfterMs: retryAfterOf(e.response?.headers),
    }),
    storeWide: true,
  })

  if (name === 'AbortError')
    return callerAborted ? { error: error as Error, storeWide: true } : unavailable('timed out')
  if (CREDENTIAL_ERRORS.has(name))
    return {
      error: new AccessDeniedError(`${at}: no usable credential (${name})`, { cause: error }),
      storeWide: true,
    }
  // keyvault-common refuses a token challenge for another domain: the vault URL or the
  // verification setting is wrong, for every secret alike.
  if (
    status === undefined &&
    typeof e.message === 'string' &&
    /challenge resource/i.test(e.message)
  )
    return {
      error: new InvalidConfigError(
        `${at}: the vault's authentication challenge names another resource; check vaultUrl (or disableChallengeResourceVerification for an emulator)`,
        { cause: error },
      ),
      storeWide: true,
    }
  if (status === undefined && TLS_TRUST.test(code))
    return {
      error: new InvalidConfigError(
        `${at}: the vault's TLS certificate is not trusted (${code}); an emulator needs its CA in the ca option`,
        { cause: error },
      ),
      storeWide: true,
    }
  if (status === undefined && NETWORK_CODES.has(code)) return unavailable('connection failed')
  if (status === 429) return unavailable('throttled')
  if (status === 408 || (status !== undefined && status >= 500)) return unavailable('service error')
  // A name still being deleted or purged: the same write succeeds a little later.
  if (status === 409) return unavailable('conflict: the secret is deleted or being deleted')
  switch (status) {
    case 404:
      return {
        error: new NotFoundError(`${at}: not found (${what})`, { cause: error }),
        storeWide: false,
      }
    case 401:
      return {
        error: new AccessDeniedError(`${at}: credentials rejected (${what})`, { cause: error }),
        storeWide: true,
      }
    case 403:
      return {
        error: new AccessDeniedError(`${at}: access denied (${what})`, { cause: error }),
        storeWide: false,
      }
    case 400:
      return {
        error: new InvalidConfigError(`${at}: rejected as invalid (${what})`, { cause: error }),
        storeWide: false,
      }
    default:
      return {
        error: new BrokerError('INTERNAL', `${at}: failed (${what || name || 'unknown error'})`, {
          cause: error,
        }),
        storeWide: false,
      }
  }
}

/** `Retry-After` (seconds or an HTTP date) or `retry-after-ms` / `x-ms-retry-after-ms`. */
function retryAfterOf(headers: HeaderBag | undefined): number | undefined {
  const get = (name: string) => (typeof headers?.get === 'function' ? headers.get(name) : undefined)
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = Number(get(name))
    if (get(name) !== undefined && Number.isFinite(ms) && ms >= 0) return Math.round(ms)
  }
  const raw = get('retry-after')
  if (raw === undefined || raw.trim() === '') return undefined
  const seconds = Number(raw)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000)
  const date = Date.parse(raw)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}
