import { describe, expect, it } from 'vitest'
import {
  GcpSecretManagerStore,
  GrpcStatus,
  mapGcpError,
  validateGcpOptions,
} from '../../../../adapters/gcp-secret-manager/index.ts'
import {
  AccessDeniedError,
  BrokerError,
  InvalidConfigError,
  NotFoundError,
  UnavailableError,
} from '../../../../broker/errors.ts'

describe('GCP options', () => {
  it('applies defaults and splits the endpoint into host and port', () => {
    expect(
      validateGcpOptions({ project: 'acme-prod', endpoint: '127.0.0.1:9090', insecure: true }),
    ).toEqual({
      project: 'acme-prod',
      endpoint: { host: '127.0.0.1', port: 9090 },
      insecure: true,
      credentials: undefined,
      requestTimeoutMs: 10_000,
      readConcurrency: 8,
    })
    expect(validateGcpOptions({ project: 'acme-prod', endpoint: '[::1]:8085' }).endpoint).toEqual({
      host: '::1',
      port: 8085,
    })
  })

  it.each([
    ['a missing project', {}, /project/],
    ['an uppercase project', { project: 'Acme-Prod' }, /project/],
    ['a typo', { project: 'acme-prod', projet: 'x' }, /projet: unknown option/],
    [
      'an endpoint URL instead of host:port',
      { project: 'acme-prod', endpoint: 'http://localhost:9090' },
      /endpoint/,
    ],
    ['port 0', { project: 'acme-prod', endpoint: 'localhost:0' }, /endpoint/],
    [
      'insecure without an endpoint',
      { project: 'acme-prod', insecure: true },
      /insecure: needs endpoint/,
    ],
    [
      'insecure as a string',
      { project: 'acme-prod', endpoint: 'h:1', insecure: 'yes' },
      /insecure/,
    ],
    [
      'credentials without a key',
      { project: 'acme-prod', credentials: { client_email: 'a@b' } },
      /credentials.private_key/,
    ],
    ['a zero concurrency', { project: 'acme-prod', readConcurrency: 0 }, /readConcurrency/],
    ['not an object', 'acme-prod', /must be an object/],
  ])('refuses %s with InvalidConfigError naming the field', (_label, options, message) => {
    expect(() => validateGcpOptions(options)).toThrow(InvalidConfigError)
    expect(() => validateGcpOptions(options)).toThrow(message)
  })

  it('never puts a private key into a message', () => {
    const privateKey = '-----BEGIN PRIVATE KEY-----very-secret'
    let error: unknown
    try {
      new GcpSecretManagerStore({
        project: 'BAD',
        credentials: { client_email: 'a@b', private_key: privateKey },
      })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InvalidConfigError)
    expect(String((error as Error).message)).not.toContain('very-secret')
  })
})

const grpcError = (code: number, details = 'Secret [projects/p/secrets/s] value=hunter2') =>
  Object.assign(new Error(`${code} ${details}`), { code, details })

describe('mapGcpError', () => {
  it.each([
    [GrpcStatus.NOT_FOUND, NotFoundError, false, false],
    [GrpcStatus.FAILED_PRECONDITION, NotFoundError, false, false],
    [GrpcStatus.PERMISSION_DENIED, AccessDeniedError, false, false],
    [GrpcStatus.UNAUTHENTICATED, AccessDeniedError, false, true],
    [GrpcStatus.INVALID_ARGUMENT, InvalidConfigError, false, false],
    [GrpcStatus.RESOURCE_EXHAUSTED, UnavailableError, true, true],
    [GrpcStatus.UNAVAILABLE, UnavailableError, true, true],
    [GrpcStatus.DEADLINE_EXCEEDED, UnavailableError, true, true],
    [GrpcStatus.INTERNAL, UnavailableError, true, true],
    [GrpcStatus.ABORTED, UnavailableError, true, true],
    [GrpcStatus.UNIMPLEMENTED, BrokerError, false, false],
  ])(
    'maps gRPC status %i to %o (retryable %s, store-wide %s)',
    (code, type, retryable, storeWide) => {
      const mapped = mapGcpError(grpcError(code), 'secret "apps/checkout/stripe"')
      expect(mapped.error).toBeInstanceOf(type)
      expect(mapped).toMatchObject({ storeWide, error: { retryable } })
      expect(mapped.error.message).toContain('secret "apps/checkout/stripe"')
      expect((mapped.error as Error).cause).toBeDefined()
    },
  )

  it("names the status, never the service's details (they may quote the request)", () => {
    const { error } = mapGcpError(grpcError(GrpcStatus.NOT_FOUND), 'secret "k"')
    expect(error.message).toBe('gcp-secret-manager: secret "k": not found (NOT_FOUND)')
    expect(error.message).not.toContain('hunter2')
  })

  it('takes retryAfterMs from a RetryInfo detail', () => {
    const error = Object.assign(grpcError(GrpcStatus.RESOURCE_EXHAUSTED), {
      statusDetails: [{ retryDelay: { seconds: 2, nanos: 500_000_000 } }],
    })
    expect(mapGcpError(error, 's').error).toMatchObject({ retryAfterMs: 2500 })
  })

  it('passes an AbortError through unchanged, and maps an unknown throw to INTERNAL', () => {
    const abort = new DOMException('aborted', 'AbortError')
    expect(mapGcpError(abort, 's')).toEqual({ error: abort, storeWide: true })
    expect(mapGcpError('boom', 's').error).toMatchObject({ code: 'INTERNAL' })
  })
})
