/**
 * The one middy stack of the functions: header normalization, RFC 9457 problem
 * documents for every HTTP error (a 5xx never shows its internals), and one JSON log
 * line per invocation. Handlers get typed inputs and return typed results; what the log
 * line should know about the request (app, environment, outcome) they note through
 * {@link invocationFacts} instead of middy's untyped `request.internal`.
 */
import middy, { type MiddlewareObj, type MiddyfiedHandler, type Request } from '@middy/core'
import httpHeaderNormalizer from '@middy/http-header-normalizer'
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda'
import { BrokerError } from '../broker/errors.ts'
import type { Logger } from '../broker/ports.ts'
import { HttpProblem, problemDocument } from '../server/problem.ts'

/** What a handler learned that belongs in its invocation's log line. */
export interface InvocationFacts {
  app?: string
  environment?: string
  /** `resolved`, `failed`, `denied`, `duplicate`, `dropped`, … */
  outcome?: string
  /** How many events were accepted or published. */
  events?: number
}

const facts = new WeakMap<object, InvocationFacts>()

/** The log facts of the invocation that `context` belongs to (one object per invocation). */
export function invocationFacts(context: Context): InvocationFacts {
  let noted = facts.get(context)
  if (!noted) {
    noted = {}
    facts.set(context, noted)
  }
  return noted
}

/** The raw body of an HTTP API event: API Gateway base64-encodes any type it deems binary. */
export function requestBody(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0)
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
}

/** A JSON response. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }
}

/** What may be logged about an error: its name and, for our own errors, code and message. */
function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof BrokerError)
    return { error: error.name, code: error.code, detail: error.message }
  if (error instanceof HttpProblem && error.expose)
    return { error: error.name, detail: error.message }
  // Anything else may quote its input; its name is all a log line gets.
  return { error: error instanceof Error ? error.name : typeof error }
}

/** An error as the HTTP problem to answer with: a retryable broker error is a 503. */
export function toHttpProblem(error: unknown): unknown {
  if (error instanceof HttpProblem) return error
  if (error instanceof BrokerError && error.retryable)
    return new HttpProblem(503, error.message, { cause: error })
  return error
}

/** onError: the problem document (`application/problem+json`) for anything thrown. */
function problemResponses(): MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2
> {
  return {
    onError: function problemResponsesOnError(request) {
      const error = toHttpProblem(request.error)
      const problem = problemDocument(error, request.event.rawPath)
      request.response = {
        statusCode: problem.status,
        headers: {
          ...(error instanceof HttpProblem ? error.headers : {}),
          'content-type': 'application/problem+json',
        },
        body: JSON.stringify(problem),
      }
    },
  }
}

/** What the log line says the result was. */
type StatusOf<TResult> = (response: TResult | null | undefined, noted: InvocationFacts) => unknown

/** One structured line per invocation: request ids, function, status, duration, facts. */
function invocationLog<TEvent, TResult>(
  name: string,
  logger: Logger,
  statusOf: StatusOf<TResult>,
): MiddlewareObj<TEvent, TResult> {
  const started = new WeakMap<object, number>()
  const write = (request: Request<TEvent, TResult>, failed: boolean) => {
    const begin = started.get(request) ?? performance.now()
    const noted = invocationFacts(request.context)
    const httpContext = (request.event as { requestContext?: { requestId?: unknown } })
      .requestContext
    const status = statusOf(request.response, noted)
    const fields = {
      function: name,
      requestId: request.context.awsRequestId,
      apiRequestId: typeof httpContext?.requestId === 'string' ? httpContext.requestId : undefined,
      status: failed && request.response === undefined ? 'error' : status,
      ...noted,
      ...(request.error ? describeError(request.error) : {}),
      durationMs: Math.round((performance.now() - begin) * 100) / 100,
    }
    const serverError = typeof fields.status !== 'number' || fields.status >= 500
    if (failed && serverError) logger.error('invocation', fields)
    else logger.info('invocation', fields)
  }
  return {
    before: function invocationLogBefore(request) {
      started.set(request, performance.now())
    },
    after: function invocationLogAfter(request) {
      write(request, false)
    },
    onError: function invocationLogOnError(request) {
      write(request, true)
    },
  }
}

/** What a function is called in logs, and where it logs. */
export interface FunctionOptions {
  readonly name: string
  readonly logger: Logger
}

/** An HTTP API (payload 2.0) function: normalized headers, problem documents, a log line. */
export function httpFunction(
  options: FunctionOptions,
  handle: (
    event: APIGatewayProxyEventV2,
    context: Context,
  ) => Promise<APIGatewayProxyStructuredResultV2>,
): MiddyfiedHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(
      invocationLog<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(
        options.name,
        options.logger,
        (response) => response?.statusCode,
      ),
    )
    .use(httpHeaderNormalizer())
    .use(problemResponses())
    .handler(handle)
}

/**
 * An event-driven function (EventBridge): a log line per invocation; a thrown error
 * is logged and rethrown, so Lambda retries the event and finally dead-letters it.
 */
export function eventFunction<TEvent>(
  options: FunctionOptions,
  handle: (event: TEvent, context: Context) => Promise<void>,
): MiddyfiedHandler<TEvent, void> {
  return middy<TEvent, void>()
    .use(
      invocationLog<TEvent, void>(
        options.name,
        options.logger,
        (_, noted) => noted.outcome ?? 'ok',
      ),
    )
    .handler(handle)
}

/**
 * An SQS-triggered function with partial batch responses (`ReportBatchItemFailures`):
 * `handle` answers with the records to retry, and the log line says how many
 * (`ok`, or `retry <n>`). A thrown error is logged and rethrown, so every record of the
 * batch is retried and, past the queue's maxReceiveCount, dead-lettered.
 */
export function queueFunction(
  options: FunctionOptions,
  handle: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>,
): MiddyfiedHandler<SQSEvent, SQSBatchResponse> {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(
      invocationLog<SQSEvent, SQSBatchResponse>(options.name, options.logger, (response) => {
        const retried = response?.batchItemFailures.length ?? 0
        return retried === 0 ? 'ok' : `retry ${retried}`
      }),
    )
    .handler(handle)
}
