import { describe, expect, it } from 'vitest'
import { classifyAwsFailure } from '../../../../adapters/aws-common/failure.ts'
import { mapSecretsManagerError } from '../../../../adapters/aws-secrets-manager/index.ts'
import { mapDynamoDbError } from '../../../../adapters/dynamodb/index.ts'
import { mapEventBridgeError } from '../../../../adapters/eventbridge/index.ts'
import {
  AccessDeniedError,
  BrokerError,
  InvalidConfigError,
  NotFoundError,
  UnavailableError,
} from '../../../../broker/errors.ts'

/** An SDK-shaped service exception. */
const sdkError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`message of ${name}`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    ...extra,
  })
const socketError = (code: string, name = 'Error') => Object.assign(new Error(code), { code, name })

describe('mapSecretsManagerError', () => {
  it.each([
    ['ThrottlingException', sdkError('ThrottlingException', 400), UnavailableError, true],
    ['TooManyRequestsException', sdkError('TooManyRequestsException', 400), UnavailableError, true],
    ['HTTP 429 of any name', sdkError('SomethingElse', 429), UnavailableError, true],
    ['InternalServiceError', sdkError('InternalServiceError', 500), UnavailableError, true],
    ['an unmodelled 503', sdkError('ServiceUnavailable', 503), UnavailableError, true],
    ['an unknown 502', sdkError('Weird', 502), UnavailableError, true],
    [
      'a connection reset (renamed TimeoutError by the SDK)',
      socketError('ECONNRESET', 'TimeoutError'),
      UnavailableError,
      true,
    ],
    ['a refused connection', socketError('ECONNREFUSED'), UnavailableError, true],
    [
      'a request timeout',
      Object.assign(new Error('t'), { name: 'TimeoutError', code: 'ETIMEDOUT' }),
      UnavailableError,
      true,
    ],
    ['bad credentials', sdkError('UnrecognizedClientException', 400), AccessDeniedError, true],
    ['AccessDeniedException', sdkError('AccessDeniedException', 400), AccessDeniedError, false],
    ['DecryptionFailure', sdkError('DecryptionFailure', 400), AccessDeniedError, false],
    ['ResourceNotFoundException', sdkError('ResourceNotFoundException', 400), NotFoundError, false],
    [
      'a batch Errors entry',
      { name: 'ResourceNotFoundException', message: 'x' },
      NotFoundError,
      false,
    ],
    [
      'marked for deletion',
      sdkError('InvalidRequestException', 400, { message: 'it was marked for deletion.' }),
      NotFoundError,
      false,
    ],
    [
      'InvalidParameterException',
      sdkError('InvalidParameterException', 400),
      InvalidConfigError,
      false,
    ],
  ])('%s', (_label, error, expected, storeWide) => {
    const mapped = mapSecretsManagerError(error, 'secret "db/orders"')
    expect(mapped.error).toBeInstanceOf(expected)
    expect(mapped.storeWide).toBe(storeWide)
    expect(mapped.error.message).toMatch(/^aws-secrets-manager: secret "db\/orders"/)
    expect(mapped.error.message).not.toContain('message of')
    expect(mapped.error.cause).toBe(error)
  })

  it('maps anything else to INTERNAL, naming the code', () => {
    const mapped = mapSecretsManagerError(sdkError('InvalidRequestException', 400), 'secret "k"')
    expect(mapped.error).toBeInstanceOf(BrokerError)
    expect(mapped.error).toMatchObject({ code: 'INTERNAL' })
    expect(mapped.error.message).toContain('InvalidRequestException')
  })

  it('passes an AbortError through unchanged', () => {
    const abort = Object.assign(new Error('Request aborted'), { name: 'AbortError' })
    expect(mapSecretsManagerError(abort, 'x')).toEqual({ error: abort, storeWide: true })
  })

  it('reads Retry-After (seconds or a date) into retryAfterMs', () => {
    const headers = { 'Retry-After': '3' }
    const throttled = sdkError('ThrottlingException', 400, {
      $response: { statusCode: 400, headers },
    })
    expect(mapSecretsManagerError(throttled, 'x').error).toMatchObject({ retryAfterMs: 3000 })
    const date = new Date(Date.now() + 60_000).toUTCString()
    const dated = sdkError('ThrottlingException', 400, {
      $response: { headers: { 'retry-after': date } },
    })
    expect(classifyAwsFailure(dated).retryAfterMs).toBeGreaterThan(50_000)
  })
})

describe('mapEventBridgeError and mapDynamoDbError', () => {
  it.each([
    [sdkError('ThrottlingException', 400), UnavailableError],
    [sdkError('InternalFailure', 500), UnavailableError],
    [socketError('EPIPE'), UnavailableError],
    [sdkError('AccessDeniedException', 400), AccessDeniedError],
    [sdkError('ResourceNotFoundException', 400), InvalidConfigError],
    [sdkError('ValidationException', 400), BrokerError],
  ])('map %s the same way for both', (error, expected) => {
    expect(mapEventBridgeError(error, 'x')).toBeInstanceOf(expected)
    expect(mapDynamoDbError(error, 'x')).toBeInstanceOf(expected)
  })

  it('treats DynamoDB capacity errors and conflicting transactions as retryable', () => {
    expect(
      mapDynamoDbError(sdkError('ProvisionedThroughputExceededException', 400), 'x'),
    ).toBeInstanceOf(UnavailableError)
    expect(mapDynamoDbError(sdkError('TransactionConflictException', 400), 'x')).toBeInstanceOf(
      UnavailableError,
    )
    const cancelled = (code: string) =>
      sdkError('TransactionCanceledException', 400, {
        CancellationReasons: [{ Code: 'None' }, { Code: code }],
      })
    expect(mapDynamoDbError(cancelled('TransactionConflict'), 'x')).toBeInstanceOf(UnavailableError)
    expect(mapDynamoDbError(cancelled('ValidationError'), 'x')).not.toBeInstanceOf(UnavailableError)
  })
})
