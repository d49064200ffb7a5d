import { describe, expect, it } from 'vitest'
import {
  AzureKeyVaultStore,
  mapKeyVaultError,
  validateAzureOptions,
} from '../../../../adapters/azure-key-vault/index.ts'
import {
  AccessDeniedError,
  BrokerError,
  InvalidConfigError,
  NotFoundError,
  UnavailableError,
} from '../../../../broker/errors.ts'

const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: 0 }) }

describe('Azure options', () => {
  it('applies defaults and keeps the vault origin without a trailing slash', () => {
    expect(validateAzureOptions({ vaultUrl: 'https://acme.vault.azure.net/' })).toEqual({
      vaultUrl: 'https://acme.vault.azure.net',
      credential: undefined,
      disableChallengeResourceVerification: false,
      serviceVersion: undefined,
      ca: undefined,
      requestTimeoutMs: 10_000,
      readConcurrency: 8,
      deletePollIntervalMs: 1000,
    })
  })

  it.each([
    ['a missing vaultUrl', {}, /vaultUrl/],
    ['plain http', { vaultUrl: 'http://acme.vault.azure.net' }, /vaultUrl: must be an https URL/],
    [
      'a path',
      { vaultUrl: 'https://acme.vault.azure.net/secrets' },
      /vaultUrl: must be the vault root/,
    ],
    ['a typo', { vaultUrl: 'https://a.vault.azure.net', valtUrl: 'x' }, /valtUrl: unknown option/],
    [
      'a credential without getToken',
      { vaultUrl: 'https://a.vault.azure.net', credential: {} },
      /credential/,
    ],
    [
      'an unknown API version',
      { vaultUrl: 'https://a.vault.azure.net', serviceVersion: 'latest' },
      /serviceVersion/,
    ],
    ['a CA that is a number', { vaultUrl: 'https://a.vault.azure.net', ca: 42 }, /ca:/],
    [
      'a zero timeout',
      { vaultUrl: 'https://a.vault.azure.net', requestTimeoutMs: 0 },
      /requestTimeoutMs/,
    ],
  ])('refuses %s with InvalidConfigError naming the field', (_label, options, message) => {
    expect(() => validateAzureOptions(options)).toThrow(InvalidConfigError)
    expect(() => validateAzureOptions(options)).toThrow(message)
  })

  it('accepts a static credential, an API version and PEM text as CA', () => {
    const valid = validateAzureOptions({
      vaultUrl: 'https://127.0.0.1:8443',
      credential,
      serviceVersion: '7.5',
      ca: '-----BEGIN CERTIFICATE-----',
      disableChallengeResourceVerification: true,
    })
    expect(valid).toMatchObject({
      serviceVersion: '7.5',
      disableChallengeResourceVerification: true,
    })
    expect(
      () => new AzureKeyVaultStore({ vaultUrl: 'https://a.vault.azure.net', credential }),
    ).not.toThrow()
  })
})

const restError = (
  statusCode: number | undefined,
  code: string,
  headers: Record<string, string> = {},
) =>
  Object.assign(new Error(`The secret value hunter2 failed (${code})`), {
    name: 'RestError',
    statusCode,
    code,
    response: { status: statusCode, headers: { get: (n: string) => headers[n.toLowerCase()] } },
  })

describe('mapKeyVaultError', () => {
  it.each([
    [404, 'SecretNotFound', NotFoundError, false, false],
    [401, 'Unauthorized', AccessDeniedError, false, true],
    [403, 'Forbidden', AccessDeniedError, false, false],
    [400, 'BadParameter', InvalidConfigError, false, false],
    [429, 'Throttled', UnavailableError, true, true],
    [500, 'InternalServerError', UnavailableError, true, true],
    [503, 'ServiceUnavailable', UnavailableError, true, true],
    [408, 'RequestTimeout', UnavailableError, true, true],
    [409, 'Conflict', UnavailableError, true, true],
    [undefined, 'ECONNRESET', UnavailableError, true, true],
    [undefined, 'ECONNREFUSED', UnavailableError, true, true],
    [undefined, 'DEPTH_ZERO_SELF_SIGNED_CERT', InvalidConfigError, false, true],
    [undefined, 'ERR_TLS_CERT_ALTNAME_INVALID', InvalidConfigError, false, true],
    [418, 'Teapot', BrokerError, false, false],
  ])(
    'maps HTTP %s %s to %o (retryable %s, store-wide %s)',
    (status, code, type, retryable, storeWide) => {
      const mapped = mapKeyVaultError(restError(status, code), 'secret "apps/checkout/stripe"')
      expect(mapped.error).toBeInstanceOf(type)
      expect(mapped).toMatchObject({ storeWide, error: { retryable } })
      expect(mapped.error.message).toContain('secret "apps/checkout/stripe"')
      expect(mapped.error.message).not.toContain('hunter2')
    },
  )

  it.each([
    [{ 'retry-after': '3' }, 3000],
    [{ 'retry-after-ms': '250' }, 250],
    [{ 'x-ms-retry-after-ms': '1500' }, 1500],
    [{}, undefined],
  ])('reads the retry hint %o as retryAfterMs %s', (headers, expected) => {
    const { error } = mapKeyVaultError(restError(429, 'Throttled', headers), 's')
    expect(error).toMatchObject({ retryAfterMs: expected })
  })

  it('reads an HTTP-date Retry-After relative to now', () => {
    const date = new Date(Date.now() + 10_000).toUTCString()
    const { error } = mapKeyVaultError(restError(503, 'x', { 'retry-after': date }), 's')
    expect((error as UnavailableError).retryAfterMs).toBeGreaterThan(8000)
  })

  it("passes the caller's abort through, but reports the SDK's own timeout as unavailable", () => {
    const abort = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' })
    expect(mapKeyVaultError(abort, 's', true)).toEqual({ error: abort, storeWide: true })
    expect(mapKeyVaultError(abort, 's', false).error).toBeInstanceOf(UnavailableError)
  })

  it('reports a missing credential and a foreign challenge as store-wide configuration problems', () => {
    const noCredential = Object.assign(new Error('no env'), { name: 'CredentialUnavailableError' })
    expect(mapKeyVaultError(noCredential, 's')).toMatchObject({
      storeWide: true,
      error: { code: 'ACCESS_DENIED' },
    })
    const challenge = new Error(
      "The challenge resource 'evil.example' does not match the requested domain.",
    )
    expect(mapKeyVaultError(challenge, 's')).toMatchObject({
      storeWide: true,
      error: { code: 'INVALID_CONFIG' },
    })
  })
})
