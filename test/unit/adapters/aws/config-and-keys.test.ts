import { describe, expect, it } from 'vitest'
import { validateAwsClientOptions } from '../../../../adapters/aws-common/options.ts'
import { AwsSecretsManagerStore } from '../../../../adapters/aws-secrets-manager/index.ts'
import { DynamoDbStateStore, stateTableDefinition } from '../../../../adapters/dynamodb/index.ts'
import {
  bindingFromItem,
  bindingItem,
  epochSeconds,
  escapeKeyPart,
  requestKey,
} from '../../../../adapters/dynamodb/keys.ts'
import { EventBridgeBus } from '../../../../adapters/eventbridge/index.ts'
import { InvalidConfigError } from '../../../../broker/errors.ts'
import type { BindingRecord } from '../../../../broker/ports.ts'

describe('AWS client options', () => {
  it('applies defaults: one SDK attempt, a 10 s request timeout', () => {
    expect(validateAwsClientOptions({ region: 'eu-west-1' }, 'x')).toEqual({
      region: 'eu-west-1',
      endpoint: undefined,
      credentials: undefined,
      maxAttempts: 1,
      requestTimeoutMs: 10_000,
    })
  })

  it.each([
    ['a missing region', {}, /region/],
    ['a bad region', { region: 'Europe' }, /region/],
    ['a typo', { region: 'eu-west-1', regoin: 'eu-west-1' }, /regoin: unknown option/],
    ['an endpoint that is no URL', { region: 'eu-west-1', endpoint: 'localhost:4566' }, /endpoint/],
    [
      'credentials without a secret',
      { region: 'eu-west-1', credentials: { accessKeyId: 'a' } },
      /credentials.secretAccessKey/,
    ],
    ['maxAttempts 0', { region: 'eu-west-1', maxAttempts: 0 }, /maxAttempts/],
    ['a fractional timeout', { region: 'eu-west-1', requestTimeoutMs: 1.5 }, /requestTimeoutMs/],
    ['not an object', 'eu-west-1', /must be an object/],
  ])('refuses %s with InvalidConfigError', (_label, options, message) => {
    const build = () => new AwsSecretsManagerStore(options as never)
    expect(build).toThrow(InvalidConfigError)
    expect(build).toThrow(message)
  })

  it('never echoes a credential in the error', () => {
    const build = () =>
      new AwsSecretsManagerStore({
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIASECRET', secretAccessKey: '' },
      })
    expect(build).toThrow(InvalidConfigError)
    expect(build).not.toThrow(/AKIASECRET/)
  })

  it('checks the adapters’ own options', () => {
    expect(() => new EventBridgeBus({ region: 'eu-west-1', busName: '' })).toThrow(/busName/)
    expect(
      () => new EventBridgeBus({ region: 'eu-west-1', busName: 'b', publishAttempts: 0 }),
    ).toThrow(/publishAttempts/)
    expect(() => new DynamoDbStateStore({ region: 'eu-west-1', tableName: 'x' })).toThrow(
      /tableName/,
    )
    expect(
      () =>
        new DynamoDbStateStore({ region: 'eu-west-1', tableName: 'state', busName: 'b' } as never),
    ).toThrow(/busName: unknown/)
  })
})

describe('DynamoDB keys', () => {
  it('escapes # and % so that different requests never share a key', () => {
    const a = requestKey({ source: 'a#b', id: 'c' }).pk.S
    const b = requestKey({ source: 'a', id: 'b#c' }).pk.S
    expect(a).not.toBe(b)
    expect(escapeKeyPart('x%23#')).toBe('x%2523%23')
    expect(requestKey({ source: '/apps/checkout', id: '42' }).pk.S).toBe('REQ#/apps/checkout#42')
  })

  it('rounds TTL seconds up, so an item never expires early', () => {
    expect(epochSeconds(1_000)).toBe(1)
    expect(epochSeconds(1_001)).toBe(2)
  })

  it('round-trips a binding record, empty lists included', () => {
    const record: BindingRecord = {
      app: 'checkout',
      environment: 'prod',
      name: 'db',
      type: 'postgres',
      provider: 'aws-secrets-manager',
      store: 'aws',
      key: 'rds/checkout-prod',
      version: 'v1',
      entries: [],
      secretEntries: [],
      sink: 'store',
      location: 'capbroker/checkout/prod',
      injectedAt: '2025-01-01T00:00:00.000Z',
      request: { source: '/apps/checkout', id: '1' },
    }
    const item = bindingItem(record)
    expect(item.pk?.S).toBe('BIND#checkout#prod')
    expect(item.sk?.S).toBe('db')
    expect(bindingFromItem(item)).toEqual(record)
  })

  it('defines the table as infra declares it', () => {
    expect(stateTableDefinition('state')).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    })
  })
})
