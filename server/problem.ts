/**
 * One HTTP error type (as middy's): a status and an RFC 9457 problem document.
 * `expose` is false for 5xx, whose detail never reaches the caller.
 */

/** A problem document (RFC 9457), as sent with `application/problem+json`. */
export interface ProblemDocument {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail?: string
  readonly instance?: string
  /** Field-level problems: where and what. */
  readonly errors?: readonly { readonly path: string; readonly message: string }[]
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  409: 'Conflict',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
}

/** An error with an HTTP status; its message is shown to the caller only below 500. */
export class HttpProblem extends Error {
  override name = 'HttpProblem'
  readonly statusCode: number
  readonly expose: boolean
  readonly errors: readonly { path: string; message: string }[] | undefined
  readonly headers: Readonly<Record<string, string>>

  constructor(
    statusCode: number,
    message: string,
    options?: {
      cause?: unknown
      errors?: readonly { path: string; message: string }[]
      headers?: Record<string, string>
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.statusCode = statusCode
    this.expose = statusCode < 500
    this.errors = options?.errors
    this.headers = options?.headers ?? {}
  }
}

/** The problem document for any thrown thing; internals of a 5xx are never included. */
export function problemDocument(error: unknown, instance?: string): ProblemDocument {
  const status = error instanceof HttpProblem ? error.statusCode : 500
  const exposed = error instanceof HttpProblem && error.expose
  return {
    type: 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    ...(exposed ? { detail: error.message } : {}),
    ...(instance === undefined ? {} : { instance }),
    ...(exposed && error.errors ? { errors: error.errors } : {}),
  }
}
