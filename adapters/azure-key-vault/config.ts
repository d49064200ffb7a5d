/**
 * Options of the Azure Key Vault adapter, validated once at construction: a typo in the
 * catalog or a bad value fails with an InvalidConfigError naming the field, before the
 * SDK is ever loaded.
 */
import { InvalidConfigError } from '../../broker/errors.ts'
import { PROVIDER } from './errors.ts'

/** What the SDK needs to get a token (an `@azure/identity` credential, or a static one). */
export interface TokenCredentialLike {
  getToken(
    scopes: string | string[],
    options?: unknown,
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>
}

/** PEM certificate(s) to trust for this vault only (an emulator's self-signed CA). */
export type CaOption = string | Buffer | readonly (string | Buffer)[]

/** Options of {@link AzureKeyVaultStore}. */
export interface AzureKeyVaultOptions {
  /** `https://<vault>.vault.azure.net` (or an emulator's https URL). */
  readonly vaultUrl: string
  /** Absent: `DefaultAzureCredential` from `@azure/identity`. */
  readonly credential?: TokenCredentialLike
  /** Accept a token challenge for a resource other than the vault's domain (emulators). */
  readonly disableChallengeResourceVerification?: boolean
  /** The Key Vault API version to send, e.g. `7.5`; default the SDK's newest. */
  readonly serviceVersion?: string
  /** Trusted CA certificate(s) for this client only; default the system's CAs. */
  readonly ca?: CaOption
  /** Per-request timeout (default 10 s): a hung call fails as UnavailableError. */
  readonly requestTimeoutMs?: number
  /** How many getSecret calls one read runs at once (default 8). */
  readonly readConcurrency?: number
  /** How often `delete` polls until the deletion is done (default 1000 ms). */
  readonly deletePollIntervalMs?: number
}

/** Validated options with defaults applied. */
export interface ValidAzureOptions {
  readonly vaultUrl: string
  readonly credential: TokenCredentialLike | undefined
  readonly disableChallengeResourceVerification: boolean
  readonly serviceVersion: string | undefined
  readonly ca: CaOption | undefined
  readonly requestTimeoutMs: number
  readonly readConcurrency: number
  readonly deletePollIntervalMs: number
}

/** Defaults applied by {@link validateAzureOptions}. */
export const AZURE_DEFAULTS = {
  requestTimeoutMs: 10_000,
  readConcurrency: 8,
  deletePollIntervalMs: 1000,
} as const

const FIELDS = [
  'vaultUrl',
  'credential',
  'disableChallengeResourceVerification',
  'serviceVersion',
  'ca',
  'requestTimeoutMs',
  'readConcurrency',
  'deletePollIntervalMs',
]
/** `7.0`…`7.6` or a dated version like `2025-07-01`. */
const SERVICE_VERSION = /^(7\.[0-9]|[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?)$/

/** Checks `input` and returns the options with defaults; throws InvalidConfigError. */
export function validateAzureOptions(input: unknown): ValidAzureOptions {
  const fail = (path: string, message: string): never => {
    throw new InvalidConfigError(`${PROVIDER} options: ${path}: ${message}`)
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    fail('(options)', 'must be an object')
  const o = input as Record<string, unknown>
  for (const name of Object.keys(o))
    if (!FIELDS.includes(name)) fail(name, `unknown option (expected one of ${FIELDS.join(', ')})`)

  const url =
    typeof o.vaultUrl === 'string' && URL.canParse(o.vaultUrl) ? new URL(o.vaultUrl) : undefined
  if (url === undefined || url.protocol !== 'https:')
    fail('vaultUrl', 'must be an https URL like https://acme.vault.azure.net')
  if (url!.pathname !== '/' || url!.search !== '' || url!.hash !== '' || url!.username !== '')
    fail('vaultUrl', 'must be the vault root, without path, query or user')
  const credential = o.credential as Partial<TokenCredentialLike> | undefined
  if (credential !== undefined && typeof credential?.getToken !== 'function')
    fail('credential', 'must be a TokenCredential (an object with getToken)')
  if (
    o.disableChallengeResourceVerification !== undefined &&
    typeof o.disableChallengeResourceVerification !== 'boolean'
  )
    fail('disableChallengeResourceVerification', 'must be true or false')
  if (
    o.serviceVersion !== undefined &&
    (typeof o.serviceVersion !== 'string' || !SERVICE_VERSION.test(o.serviceVersion))
  )
    fail('serviceVersion', 'must be a Key Vault API version like 7.5 or 2025-07-01')
  if (o.ca !== undefined && !isCa(o.ca)) fail('ca', 'must be PEM text, a Buffer, or a list of them')
  const requestTimeoutMs = integer(
    o.requestTimeoutMs,
    AZURE_DEFAULTS.requestTimeoutMs,
    100,
    300_000,
    'requestTimeoutMs',
    fail,
  )
  const readConcurrency = integer(
    o.readConcurrency,
    AZURE_DEFAULTS.readConcurrency,
    1,
    64,
    'readConcurrency',
    fail,
  )
  const deletePollIntervalMs = integer(
    o.deletePollIntervalMs,
    AZURE_DEFAULTS.deletePollIntervalMs,
    10,
    60_000,
    'deletePollIntervalMs',
    fail,
  )

  return {
    // The SDK builds request URLs by appending paths: no trailing slash.
    vaultUrl: url!.origin,
    credential: credential as TokenCredentialLike | undefined,
    disableChallengeResourceVerification: o.disableChallengeResourceVerification === true,
    serviceVersion: o.serviceVersion as string | undefined,
    ca: o.ca as CaOption | undefined,
    requestTimeoutMs,
    readConcurrency,
    deletePollIntervalMs,
  }
}

function integer(
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  path: string,
  fail: (path: string, message: string) => never,
): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    fail(path, `must be an integer from ${min} to ${max}`)
  return v as number
}

function isCa(value: unknown): boolean {
  const one = (v: unknown) => typeof v === 'string' || Buffer.isBuffer(v)
  return one(value) || (Array.isArray(value) && value.length > 0 && value.every(one))
}
