/**
 * The broker's errors: one small hierarchy, each with a stable `code`, a `retryable`
 * flag and the original `cause`. Messages name keys, stores and fields, never values.
 */

/** Reason codes carried in outcome events (`reason.code`). */
export type ReasonCode =
  | 'NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'UNAVAILABLE'
  | 'INVALID_CONFIG'
  | 'INVALID_SECRET'
  | 'INVALID_PARAMS'
  | 'NO_MATCHING_CLASS'
  | 'DENIED'
  | 'INJECTION_FAILED'
  | 'INVALID_REQUEST'
  | 'CONFLICT'
  | 'INTERNAL'

/** Base class: every error the broker raises on purpose. */
export class BrokerError extends Error {
  override name = 'BrokerError'
  readonly code: ReasonCode
  readonly retryable: boolean

  constructor(
    code: ReasonCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.retryable = options?.retryable ?? false
  }
}

/** The key or the version does not exist at the provider. */
export class NotFoundError extends BrokerError {
  override name = 'NotFoundError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_FOUND', message, options)
  }
}

/** The provider refused the broker's credentials for this key. */
export class AccessDeniedError extends BrokerError {
  override name = 'AccessDeniedError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('ACCESS_DENIED', message, options)
  }
}

/** Throttling, 5xx, timeouts, resets: worth retrying. `retryAfterMs` when the provider said. */
export class UnavailableError extends BrokerError {
  override name = 'UnavailableError'
  readonly retryAfterMs: number | undefined
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super('UNAVAILABLE', message, { cause: options?.cause, retryable: true })
    this.retryAfterMs = options?.retryAfterMs
  }
}

/** A compare-and-write found a newer version than the one it read. */
export class ConflictError extends BrokerError {
  override name = 'ConflictError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFLICT', message, options)
  }
}

/** A store, sink or catalog is configured wrongly. */
export class InvalidConfigError extends BrokerError {
  override name = 'InvalidConfigError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_CONFIG', message, options)
  }
}

/** A secret was read but its content does not fit the class (not JSON, missing property). */
export class InvalidSecretError extends BrokerError {
  override name = 'InvalidSecretError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_SECRET', message, options)
  }
}

/** One problem in a document: where it is (a path like `classes[1].store`) and what was wrong. */
export interface Problem {
  readonly path: string
  readonly message: string
  readonly line?: number
  readonly column?: number
}

/** A manifest or request that does not fit the contract. Lists every problem found. */
export class ManifestError extends BrokerError {
  override name = 'ManifestError'
  readonly problems: readonly Problem[]
  constructor(problems: readonly Problem[], options?: { cause?: unknown }) {
    super('INVALID_REQUEST', formatProblems('invalid request', problems), options)
    this.problems = problems
  }
}

/** A catalog that does not fit its schema: names the file and each path in the document. */
export class CatalogError extends BrokerError {
  override name = 'CatalogError'
  readonly file: string
  readonly problems: readonly Problem[]
  constructor(file: string, problems: readonly Problem[], options?: { cause?: unknown }) {
    super('INVALID_CONFIG', formatProblems(`invalid catalog ${file}`, problems, file), options)
    this.file = file
    this.problems = problems
  }
}

function formatProblems(title: string, problems: readonly Problem[], file?: string): string {
  const lines = problems.map((p) => {
    const at =
      file === undefined
        ? ''
        : p.line === undefined
          ? `${file}: `
          : `${file}:${p.line}:${p.column ?? 1}: `
    return `  ${at}${p.path === '' ? '(document)' : p.path}: ${p.message}`
  })
  return `${title}:\n${lines.join('\n')}`
}

/** True when the error is worth retrying (only {@link UnavailableError} by default). */
export function isRetryable(error: unknown): boolean {
  return error instanceof BrokerError && error.retryable
}

/** Maps any thrown thing to a BrokerError without copying a message that might hold a value. */
export function toBrokerError(error: unknown, context: string): BrokerError {
  if (error instanceof BrokerError) return error
  if (error instanceof Error && error.name === 'AbortError') {
    return new UnavailableError(`${context}: aborted`, { cause: error })
  }
  return new BrokerError('INTERNAL', `${context}: internal error`, { cause: error })
}
