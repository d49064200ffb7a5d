/**
 * Options of the AWS adapters, validated once at construction: a typo in the catalog
 * (`regoin`) or a bad value fails with an InvalidConfigError naming the field, instead
 * of surfacing later as a confusing SDK error. No SDK import, so every adapter (and a
 * Lambda host) can use it without loading another adapter's client.
 */
import { InvalidConfigError } from '../../broker/errors.ts'

/** Static credentials (tests, emulators). Absent: the environment's, else the SDK's default provider chain (json-client.ts). */
export interface AwsCredentialsOption {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/** What every AWS adapter accepts for its client (json-client.ts). */
export interface AwsClientOptions {
  /** The AWS region, e.g. `eu-west-1`. */
  readonly region: string
  /** Overrides the service endpoint (an emulator, a VPC endpoint): an http(s) URL. */
  readonly endpoint?: string
  readonly credentials?: AwsCredentialsOption
  /**
   * Attempts per call, 1–10. Default 1: retries with backoff live in the broker,
   * which sees the whole request and its deadline; client retries underneath would
   * multiply with them and hide throttling from the broker.
   */
  readonly maxAttempts?: number
  /** Per-request timeout (default 10 s): a hung connection fails as UnavailableError. */
  readonly requestTimeoutMs?: number
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/
const CLIENT_FIELDS = [
  'region',
  'endpoint',
  'credentials',
  'maxAttempts',
  'requestTimeoutMs',
] as const

/** Client defaults, applied by {@link validateAwsClientOptions}. */
export const AWS_CLIENT_DEFAULTS = { maxAttempts: 1, requestTimeoutMs: 10_000 } as const

/**
 * Checks the client fields of `input` and returns them with defaults applied. `extra`
 * lists the adapter's own fields (e.g. `busName`), which the caller validates;
 * any other property is refused, so a typo is caught.
 */
export function validateAwsClientOptions(
  input: unknown,
  adapter: string,
  extra: readonly string[] = [],
): AwsClientOptions & { maxAttempts: number; requestTimeoutMs: number } {
  const fail = (path: string, message: string): never => {
    throw new InvalidConfigError(`${adapter} options: ${path}: ${message}`)
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    fail('(options)', 'must be an object')
  const o = input as Record<string, unknown>
  const known = new Set<string>([...CLIENT_FIELDS, ...extra])
  for (const name of Object.keys(o))
    if (!known.has(name)) fail(name, `unknown option (expected one of ${[...known].join(', ')})`)

  if (typeof o.region !== 'string' || !REGION.test(o.region))
    fail('region', 'must be an AWS region like eu-west-1')
  if (o.endpoint !== undefined && !isHttpUrl(o.endpoint)) fail('endpoint', 'must be an http(s) URL')
  if (o.credentials !== undefined) checkCredentials(o.credentials, fail)
  const maxAttempts = o.maxAttempts ?? AWS_CLIENT_DEFAULTS.maxAttempts
  if (!isIntegerIn(maxAttempts, 1, 10)) fail('maxAttempts', 'must be an integer from 1 to 10')
  const requestTimeoutMs = o.requestTimeoutMs ?? AWS_CLIENT_DEFAULTS.requestTimeoutMs
  if (!isIntegerIn(requestTimeoutMs, 100, 300_000))
    fail('requestTimeoutMs', 'must be an integer from 100 to 300000')

  return {
    region: o.region as string,
    endpoint: o.endpoint as string | undefined,
    credentials:
      o.credentials === undefined
        ? undefined
        : pickCredentials(o.credentials as AwsCredentialsOption),
    maxAttempts: maxAttempts as number,
    requestTimeoutMs: requestTimeoutMs as number,
  }
}

/** Checks a required string option of an adapter against a pattern. */
export function requireName(
  value: unknown,
  path: string,
  adapter: string,
  pattern: RegExp,
  expected: string,
): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new InvalidConfigError(`${adapter} options: ${path}: must be ${expected}`)
  }
  return value
}

/** Checks an integer option of an adapter against a range. */
export function requireInteger(
  value: unknown,
  path: string,
  adapter: string,
  min: number,
  max: number,
): number {
  if (!isIntegerIn(value, min, max)) {
    throw new InvalidConfigError(
      `${adapter} options: ${path}: must be an integer from ${min} to ${max}`,
    )
  }
  return value as number
}

function checkCredentials(value: unknown, fail: (path: string, message: string) => never): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    fail('credentials', 'must be an object')
  // Other fields are tolerated: SDK credential objects carry `expiration`, `$source`, …
  const c = value as Record<string, unknown>
  // Messages name the field only: a credential is a secret too.
  if (typeof c.accessKeyId !== 'string' || c.accessKeyId === '')
    fail('credentials.accessKeyId', 'must be a non-empty string')
  if (typeof c.secretAccessKey !== 'string' || c.secretAccessKey === '')
    fail('credentials.secretAccessKey', 'must be a non-empty string')
  if (c.sessionToken !== undefined && typeof c.sessionToken !== 'string')
    fail('credentials.sessionToken', 'must be a string')
}

/** Copies only the three fields: the SDK decorates the object it is given. */
function pickCredentials(c: AwsCredentialsOption): AwsCredentialsOption {
  const { accessKeyId, secretAccessKey, sessionToken } = c
  return sessionToken === undefined
    ? { accessKeyId, secretAccessKey }
    : { accessKeyId, secretAccessKey, sessionToken }
}

/** True for an absolute `http:` or `https:` URL: what every endpoint setting must be. */
export function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string' || !URL.canParse(value)) return false
  const protocol = new URL(value).protocol
  return protocol === 'http:' || protocol === 'https:'
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
}
