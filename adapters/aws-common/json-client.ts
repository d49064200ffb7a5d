/**
 * A small client for the AWS JSON protocol (`X-Amz-Target` + a JSON body, SigV4-signed),
 * which is all Secrets Manager, EventBridge, DynamoDB and SQS speak. It replaces the SDK v3
 * clients in the adapters because those cost more than the rest of a Lambda function
 * together: the three clients add ~400 KB to a bundle and about 3× an empty handler's
 * start-up (BENCHMARKS.md, `ref-sdk-clients`). This one is a few KB; constructing it
 * loads nothing, and its first call loads the transport (`node:https` or `node:http`)
 * and the signer (`aws4`, over `node:crypto`).
 *
 * What it does and does not do, compared with the SDK: one attempt per call unless
 * `maxAttempts` asks for more (retries belong to the broker, see options.ts); timeouts
 * per attempt; keep-alive sockets; errors shaped like the SDK's service exceptions
 * (`name` = the error code, `$metadata`, `$fault`, `$response`), so failure.ts
 * classifies both alike. Credentials: the options' static ones, else the environment's
 * (`AWS_ACCESS_KEY_ID`, … — what Lambda provides — unless `AWS_PROFILE` names a profile),
 * else the SDK's default provider chain (profiles, SSO, container and instance roles),
 * loaded only in that case. Endpoint: the options', else `AWS_ENDPOINT_URL_<SERVICE>` or
 * `AWS_ENDPOINT_URL` as the AWS CLI reads them, else the service's regional endpoint.
 */
import type * as Http from 'node:http'
import { sleep } from '../../broker/builtins.ts'
import { InvalidConfigError } from '../../broker/errors.ts'
import { fullJitterDelay } from './backoff.ts'
import { classifyAwsFailure, isTransientFailure } from './failure.ts'
import { type AwsClientOptions, type AwsCredentialsOption, isHttpUrl } from './options.ts'

/** One AWS JSON-protocol API. */
export interface AwsJsonService {
  /** The service's id in `AWS_ENDPOINT_URL_<ID>` (as the AWS CLI and SDKs read it). */
  readonly envId: string
  /** The SigV4 signing name and endpoint prefix: `secretsmanager`, `events`, `dynamodb`. */
  readonly signingName: string
  /** The `X-Amz-Target` prefix: `secretsmanager`, `AWSEvents`, `DynamoDB_20120810`. */
  readonly targetPrefix: string
  readonly jsonVersion: '1.0' | '1.1'
}

export const SECRETS_MANAGER: AwsJsonService = {
  envId: 'SECRETS_MANAGER',
  signingName: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  jsonVersion: '1.1',
}
export const EVENTBRIDGE: AwsJsonService = {
  envId: 'EVENTBRIDGE',
  signingName: 'events',
  targetPrefix: 'AWSEvents',
  jsonVersion: '1.1',
}
export const DYNAMODB: AwsJsonService = {
  envId: 'DYNAMODB',
  signingName: 'dynamodb',
  targetPrefix: 'DynamoDB_20120810',
  jsonVersion: '1.0',
}

export const SQS: AwsJsonService = {
  envId: 'SQS',
  signingName: 'sqs',
  targetPrefix: 'AmazonSQS',
  jsonVersion: '1.0',
}

/** Per-call options, as the SDK's `send` takes them. */
export interface AwsCallOptions {
  readonly abortSignal?: AbortSignal | undefined
}

/** What an adapter needs of a client: one call per operation (a test can script it). */
export interface AwsJsonCaller {
  call<Output = unknown>(
    operation: string,
    input: object,
    options?: AwsCallOptions,
  ): Promise<Output>
  /** Closes the kept-alive sockets. */
  destroy(): void
}

/** Where credentials come from on each call (they may be refreshed). */
export type CredentialSource = () => Promise<AwsCredentialsOption>

/** Validated client options (options.ts), as every adapter has them. */
export type AwsJsonClientOptions = AwsClientOptions & {
  readonly maxAttempts: number
  readonly requestTimeoutMs: number
}

const RESERVED_FIELDS = new Set([
  'code',
  'name',
  'message',
  'stack',
  'cause',
  '__proto__',
  'constructor',
])

/** An error answer of the service, shaped like an SDK v3 service exception. */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server'
  readonly $metadata: { httpStatusCode: number; requestId?: string; attempts: number }
  readonly $response: { statusCode: number; headers: Record<string, string> }
  /** Other fields of the error body (e.g. DynamoDB's `CancellationReasons`). */
  readonly [field: string]: unknown

  constructor(
    code: string,
    message: string,
    response: { statusCode: number; headers: Record<string, string> },
    attempts: number,
    fields: Record<string, unknown>,
  ) {
    super(message)
    // The service's extra fields (DynamoDB's CancellationReasons, …), never one that would
    // change how the error is read: `code` is Node's (failure.ts), `$…` the SDK shape's.
    for (const [field, value] of Object.entries(fields))
      if (!RESERVED_FIELDS.has(field) && !field.startsWith('$'))
        Object.defineProperty(this, field, { value, enumerable: true })
    this.name = code
    this.$fault = response.statusCode >= 500 ? 'server' : 'client'
    const requestId = response.headers['x-amzn-requestid']
    this.$metadata = {
      httpStatusCode: response.statusCode,
      attempts,
      ...(requestId === undefined ? {} : { requestId }),
    }
    this.$response = response
  }
}

/** The longest wait between two attempts of one call. */
const MAX_RETRY_DELAY_MS = 20_000

/**
 * The endpoint of a service: `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL` (the
 * AWS CLI's and SDKs' variables, for an emulator such as LocalStack or moto; ignored
 * with `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), else the service's public endpoint
 * in the region (the `aws` and `aws-cn` partitions). A client's `endpoint` option wins
 * over all of them.
 */
export function defaultEndpoint(
  service: AwsJsonService,
  region: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.trim().toLowerCase() !== 'true') {
    for (const variable of [`AWS_ENDPOINT_URL_${service.envId}`, 'AWS_ENDPOINT_URL']) {
      const value = env[variable]?.trim()
      if (value === undefined || value === '') continue
      if (!isHttpUrl(value)) throw new InvalidConfigError(`${variable} must be an http(s) URL`)
      return value
    }
  }
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  return `https://${service.signingName}.${region}.${domain}`
}

/** A JSON-protocol client of one service. */
export class AwsJsonClient implements AwsJsonCaller {
  readonly #service: AwsJsonService
  readonly #url: URL
  readonly #region: string
  readonly #maxAttempts: number
  readonly #timeoutMs: number
  readonly #credentials: CredentialSource
  #transport: Promise<Transport> | undefined

  constructor(service: AwsJsonService, options: AwsJsonClientOptions) {
    this.#service = service
    this.#region = options.region
    this.#url = new URL(options.endpoint ?? defaultEndpoint(service, options.region))
    this.#maxAttempts = options.maxAttempts
    this.#timeoutMs = options.requestTimeoutMs
    const fixed = options.credentials
    this.#credentials = fixed === undefined ? defaultCredentials : async () => fixed
  }

  /** Calls `operation`; retries transient failures when `maxAttempts` > 1. */
  async call<Output = unknown>(
    operation: string,
    input: object,
    options: AwsCallOptions = {},
  ): Promise<Output> {
    const body = JSON.stringify(input, jsonValue)
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.#attempt(operation, body, attempt, options.abortSignal)) as Output
      } catch (error) {
        const failure = classifyAwsFailure(error)
        if (attempt >= this.#maxAttempts || !isTransientFailure(failure)) throw error
        const backoff = fullJitterDelay(attempt - 1, Math.random, 100, MAX_RETRY_DELAY_MS)
        // A Retry-After is honoured up to the cap: a header must not park a call for long.
        const hinted = Math.min(failure.retryAfterMs ?? 0, MAX_RETRY_DELAY_MS)
        await sleep(Math.max(backoff, hinted), options.abortSignal)
      }
    }
  }

  destroy(): void {
    void this.#transport?.then((t) => t.agent.destroy()).catch(() => {})
    this.#transport = undefined
  }

  async #attempt(
    operation: string,
    body: string,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    signal?.throwIfAborted()
    if (this.#transport === undefined) {
      const loading = loadTransport(this.#url.protocol)
      this.#transport = loading
      loading.catch(() => {
        if (this.#transport === loading) this.#transport = undefined
      })
    }
    const [transport, credentials] = await Promise.all([this.#transport, this.#credentials()])
    const url = this.#url
    const signed = transport.sign(
      {
        service: this.#service.signingName,
        region: this.#region,
        method: 'POST',
        host: url.hostname.replace(/^\[(.*)\]$/, '$1'), // [::1] → ::1
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        headers: {
          'Content-Type': `application/x-amz-json-${this.#service.jsonVersion}`,
          'X-Amz-Target': `${this.#service.targetPrefix}.${operation}`,
        },
        body,
      },
      credentials,
    )
    // Loading the transport or the credentials may take a while: the caller may be gone.
    signal?.throwIfAborted()
    const response = await exchange(transport, signed, body, this.#timeoutMs, signal)
    const ok = response.statusCode >= 200 && response.statusCode < 300
    const parsed = parseBody(response.body)
    if (ok && parsed !== undefined) return parsed
    if (ok)
      throw new AwsServiceError('InvalidResponse', 'the answer is not JSON', response, attempt, {})
    // An error page of a proxy or load balancer is not JSON: the status still tells.
    throw serviceError(response, parsed ?? {}, attempt)
  }
}

interface Transport {
  readonly request: typeof Http.request
  readonly agent: Http.Agent
  readonly sign: (request: SignableRequest, credentials: AwsCredentialsOption) => SignedRequest
}

interface SignableRequest {
  service: string
  region: string
  method: string
  host: string
  port?: number
  path: string
  headers: Record<string, string>
  body: string
}

interface SignedRequest extends SignableRequest {
  headers: Record<string, string>
}

/** Loads the transport and the signer on first use: a client nobody calls costs nothing. */
async function loadTransport(protocol: string): Promise<Transport> {
  const [net, aws4] = await Promise.all([
    protocol === 'http:' ? import('node:http') : import('node:https'),
    import('aws4'),
  ])
  const agent = new net.Agent({ keepAlive: true, maxSockets: 50 })
  return {
    request: net.request as typeof Http.request,
    agent,
    sign: (request, credentials) => aws4.default.sign(request, credentials) as SignedRequest,
  }
}

interface RawResponse {
  readonly statusCode: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** One HTTP exchange, ended by the timeout or the caller's signal. */
function exchange(
  transport: Transport,
  signed: SignedRequest,
  body: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = transport.request({
      agent: transport.agent,
      method: signed.method,
      host: signed.host,
      ...(signed.port === undefined ? {} : { port: signed.port }),
      path: signed.path,
      headers: { ...signed.headers, 'User-Agent': 'capbroker' },
    })
    const stop = (error: Error) => {
      cleanup()
      request.destroy(error)
      reject(error)
    }
    const timer = setTimeout(() => {
      const error = new Error(`no answer within ${timeoutMs} ms`)
      error.name = 'TimeoutError'
      stop(error)
    }, timeoutMs)
    const onAbort = () => {
      const error = new Error('the call was aborted', { cause: signal?.reason })
      error.name = 'AbortError'
      stop(error)
    }
    const cleanup = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    request.on('error', (error) => {
      cleanup()
      reject(error)
    })
    request.on('response', (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', (error) => {
        cleanup()
        reject(error)
      })
      response.on('end', () => {
        cleanup()
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(response.headers))
          if (typeof value === 'string') headers[name] = value
        resolve({
          statusCode: response.statusCode ?? 0,
          headers,
          body: Buffer.concat(chunks).toString('utf8'),
        })
      })
    })
    request.end(body)
  })
}

/**
 * The error of an error answer. The code comes from `X-Amzn-ErrorType` or the body's
 * `__type` (`com.amazonaws…#ResourceNotFoundException` → `ResourceNotFoundException`).
 */
function serviceError(
  response: RawResponse,
  body: Record<string, unknown>,
  attempt: number,
): AwsServiceError {
  const raw = response.headers['x-amzn-errortype'] || body.__type || body.code
  const code =
    typeof raw === 'string' && raw !== ''
      ? (raw.split(':')[0]!.split('#').pop() as string)
      : `Http${response.statusCode}`
  const { __type, message, Message, ...fields } = body
  const text = typeof message === 'string' ? message : typeof Message === 'string' ? Message : code
  return new AwsServiceError(code, text, response, attempt, fields)
}

/** The JSON body of an answer (empty: `{}`), or undefined when it is not JSON. */
function parseBody(text: string): Record<string, unknown> | undefined {
  if (text === '') return {}
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** JSON as the protocol wants it: timestamps as epoch seconds, blobs as base64. */
function jsonValue(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key]
  if (raw instanceof Date) return raw.getTime() / 1000
  if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64')
  return value
}

let chain: Promise<CredentialSource> | undefined

/**
 * The environment's credentials (what Lambda sets; unless AWS_PROFILE names a profile),
 * else the SDK's default chain, loaded only then — so a Lambda function never loads it,
 * and a laptop with a profile or SSO login works as it does with the AWS CLI.
 */
async function defaultCredentials(): Promise<AwsCredentialsOption> {
  const env = process.env
  const accessKeyId = env.AWS_ACCESS_KEY_ID
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY
  // As the SDK's chain does: a named profile wins over keys in the environment.
  if (accessKeyId && secretAccessKey && !env.AWS_PROFILE) {
    const sessionToken = env.AWS_SESSION_TOKEN
    return sessionToken
      ? { accessKeyId, secretAccessKey, sessionToken }
      : { accessKeyId, secretAccessKey }
  }
  chain ??= import('@aws-sdk/credential-provider-node').then(
    ({ defaultProvider }) => defaultProvider() as CredentialSource,
  )
  chain.catch(() => {
    chain = undefined
  })
  return (await chain)()
}
