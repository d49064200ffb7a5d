/**
 * The one place Secret Manager failures become broker errors. gRPC status codes decide;
 * messages name the secret and the status name, never the service's `details` text
 * (it may quote the request) and never a value.
 */
import {
  AccessDeniedError,
  BrokerError,
  InvalidConfigError,
  NotFoundError,
  UnavailableError,
} from '../../broker/errors.ts'

/** The provider name reported in outcomes. */
export const PROVIDER = 'gcp-secret-manager'

/** gRPC status codes (google.rpc.Code), by name. */
export const GrpcStatus = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const

const NAMES = new Map<number, string>(
  Object.entries(GrpcStatus).map(([name, code]) => [code, name]),
)
const TRANSIENT = new Set<number>([
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.INTERNAL,
  GrpcStatus.ABORTED,
  GrpcStatus.CANCELLED,
])

/** A mapped failure and whether it concerns the whole store or only the one secret. */
export interface MappedFailure {
  /** A BrokerError, or the original AbortError: a cancelled call did not fail. */
  readonly error: Error
  /** True when every secret of the call would fail alike: `read` then rejects. */
  readonly storeWide: boolean
}

interface GrpcErrorShape {
  name?: unknown
  code?: unknown
  statusDetails?: unknown
}

/** The gRPC status code of anything a client call threw, if it has one. */
export function grpcCodeOf(error: unknown): number | undefined {
  const code = (error as GrpcErrorShape | null)?.code
  return typeof code === 'number' ? code : undefined
}

/**
 * Maps anything a Secret Manager call threw to a broker error. `subject` names what was
 * being done, e.g. `secret "apps/checkout/stripe" version "3"`.
 */
export function mapGcpError(error: unknown, subject: string): MappedFailure {
  if (error instanceof BrokerError) return { error, storeWide: false }
  const shape = (typeof error === 'object' && error !== null ? error : {}) as GrpcErrorShape
  if (shape.name === 'AbortError') return { error: error as Error, storeWide: true }
  const at = `${PROVIDER}: ${subject}`
  const code = grpcCodeOf(error)
  const name = code === undefined ? 'no gRPC status' : (NAMES.get(code) ?? `gRPC status ${code}`)
  if (code !== undefined && TRANSIENT.has(code)) {
    const retryAfterMs = retryDelayOf(shape.statusDetails)
    return {
      error: new UnavailableError(`${at}: service unavailable (${name})`, {
        cause: error,
        retryAfterMs,
      }),
      storeWide: true,
    }
  }
  switch (code) {
    case GrpcStatus.NOT_FOUND:
      return {
        error: new NotFoundError(`${at}: not found (${name})`, { cause: error }),
        storeWide: false,
      }
    case GrpcStatus.FAILED_PRECONDITION:
      // Accessing a disabled or destroyed version: it is not there for any reader.
      return {
        error: new NotFoundError(`${at}: version disabled or destroyed (${name})`, {
          cause: error,
        }),
        storeWide: false,
      }
    case GrpcStatus.PERMISSION_DENIED:
      return {
        error: new AccessDeniedError(`${at}: access denied (${name})`, { cause: error }),
        storeWide: false,
      }
    case GrpcStatus.UNAUTHENTICATED:
      return {
        error: new AccessDeniedError(`${at}: credentials rejected (${name})`, { cause: error }),
        storeWide: true,
      }
    case GrpcStatus.INVALID_ARGUMENT:
      return {
        error: new InvalidConfigError(`${at}: rejected as invalid (${name})`, { cause: error }),
        storeWide: false,
      }
    default:
      return {
        error: new BrokerError('INTERNAL', `${at}: failed (${name})`, { cause: error }),
        storeWide: false,
      }
  }
}

/** `google.rpc.RetryInfo.retry_delay`, when the service attached one to the status. */
function retryDelayOf(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined
  for (const detail of details) {
    const delay = (detail as { retryDelay?: { seconds?: unknown; nanos?: unknown } } | null)
      ?.retryDelay
    if (delay === undefined) continue
    const seconds = Number(delay.seconds ?? 0)
    const nanos = Number(delay.nanos ?? 0)
    if (Number.isFinite(seconds) && Number.isFinite(nanos))
      return Math.max(0, Math.round(seconds * 1000 + nanos / 1e6))
  }
  return undefined
}
