/**
 * Options of the GCP Secret Manager adapter, validated once at construction: a typo in
 * the catalog or a bad value fails with an InvalidConfigError naming the field, before
 * the SDK is ever loaded.
 */
import { InvalidConfigError } from '../../broker/errors.ts'
import { PROVIDER } from './errors.ts'

/** A service account key (the JSON key file's two fields that matter). */
export interface GcpServiceAccountCredentials {
  readonly client_email: string
  readonly private_key: string
}

/** Options of {@link GcpSecretManagerStore}. */
export interface GcpSecretManagerOptions {
  /** The project id, e.g. `acme-prod`. */
  readonly project: string
  /** `host:port` of an emulator or a private endpoint; default the public service. */
  readonly endpoint?: string
  /** Plaintext gRPC without credentials: an emulator on loopback only. Needs `endpoint`. */
  readonly insecure?: boolean
  /** A service account key; absent: Application Default Credentials. */
  readonly credentials?: GcpServiceAccountCredentials
  /** Per-call deadline (default 10 s): a hung call fails as UnavailableError. */
  readonly requestTimeoutMs?: number
  /** How many AccessSecretVersion calls one read runs at once (default 8). */
  readonly readConcurrency?: number
}

/** Validated options with defaults applied. */
export interface ValidGcpOptions {
  readonly project: string
  readonly endpoint: { readonly host: string; readonly port: number } | undefined
  readonly insecure: boolean
  readonly credentials: GcpServiceAccountCredentials | undefined
  readonly requestTimeoutMs: number
  readonly readConcurrency: number
}

/** Defaults applied by {@link validateGcpOptions}. */
export const GCP_DEFAULTS = { requestTimeoutMs: 10_000, readConcurrency: 8 } as const

const FIELDS = [
  'project',
  'endpoint',
  'insecure',
  'credentials',
  'requestTimeoutMs',
  'readConcurrency',
]
/** GCP project ids: 6–30 characters, lowercase letters, digits and hyphens. */
const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/
const ENDPOINT = /^(?<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(?<port>[0-9]{1,5})$/

/** Checks `input` and returns the options with defaults; throws InvalidConfigError. */
export function validateGcpOptions(input: unknown): ValidGcpOptions {
  const fail = (path: string, message: string): never => {
    throw new InvalidConfigError(`${PROVIDER} options: ${path}: ${message}`)
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    fail('(options)', 'must be an object')
  const o = input as Record<string, unknown>
  for (const name of Object.keys(o))
    if (!FIELDS.includes(name)) fail(name, `unknown option (expected one of ${FIELDS.join(', ')})`)

  if (typeof o.project !== 'string' || !PROJECT.test(o.project))
    fail('project', 'must be a GCP project id like acme-prod (6-30 of a-z, 0-9, -)')
  let endpoint: ValidGcpOptions['endpoint']
  if (o.endpoint !== undefined) {
    const match = typeof o.endpoint === 'string' ? ENDPOINT.exec(o.endpoint) : null
    const port = Number(match?.groups?.port)
    if (!match || port < 1 || port > 65_535)
      fail('endpoint', 'must be host:port, e.g. 127.0.0.1:9090')
    endpoint = { host: match!.groups!.host!.replace(/^\[|\]$/g, ''), port }
  }
  if (o.insecure !== undefined && typeof o.insecure !== 'boolean')
    fail('insecure', 'must be true or false')
  if (o.insecure === true && endpoint === undefined)
    fail('insecure', 'needs endpoint: plaintext is only for an emulator')
  if (o.credentials !== undefined) checkCredentials(o.credentials, fail)
  const requestTimeoutMs = o.requestTimeoutMs ?? GCP_DEFAULTS.requestTimeoutMs
  if (!isIntegerIn(requestTimeoutMs, 100, 300_000))
    fail('requestTimeoutMs', 'must be an integer from 100 to 300000')
  const readConcurrency = o.readConcurrency ?? GCP_DEFAULTS.readConcurrency
  if (!isIntegerIn(readConcurrency, 1, 64))
    fail('readConcurrency', 'must be an integer from 1 to 64')

  const credentials = o.credentials as GcpServiceAccountCredentials | undefined
  return {
    project: o.project as string,
    endpoint,
    insecure: o.insecure === true,
    credentials:
      credentials === undefined
        ? undefined
        : { client_email: credentials.client_email, private_key: credentials.private_key },
    requestTimeoutMs: requestTimeoutMs as number,
    readConcurrency: readConcurrency as number,
  }
}

function checkCredentials(value: unknown, fail: (path: string, message: string) => never): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    fail('credentials', 'must be an object with client_email and private_key')
  const c = value as Record<string, unknown>
  // Messages name the field only: a private key is a secret too.
  if (typeof c.client_email !== 'string' || c.client_email === '')
    fail('credentials.client_email', 'must be a non-empty string')
  if (typeof c.private_key !== 'string' || c.private_key === '')
    fail('credentials.private_key', 'must be a non-empty string')
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
}
