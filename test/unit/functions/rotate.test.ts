/**
 * `rotate` with the events its two rules deliver — a schedule and Secrets Manager
 * CloudTrail records — and a broker that records what it was asked to refresh.
 */
import { describe, expect, it } from 'vitest'
import { parseCatalog } from '../../../broker/catalog/load.ts'
import { UnavailableError } from '../../../broker/errors.ts'
import type { RefreshRequest, RefreshResult } from '../../../broker/lifecycle/refresh.ts'
import { digestKeyFromEnvironment } from '../../../functions/digest-key.ts'
import { createRotateHandler, refreshPeriodMs } from '../../../functions/rotate.ts'
import { createJsonLogger } from '../../../server/logger.ts'
import { cloudTrailEnvelope, scheduledEnvelope } from '../lifecycle/cloudtrail-fixtures.ts'
import { lambdaContext, logCapture } from './fixtures.ts'

const catalog = parseCatalog(
  `version: 1
stores:
  aws: { adapter: aws-secrets-manager, region: eu-west-1 }
environments:
  prod: { inject: { to: store, store: aws, name: "capbroker/{app}/{environment}" } }
classes:
  - { type: postgres, store: aws, key: "rds/{app}-{environment}" }
`,
  'capbroker.yaml',
)
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds/checkout-prod-AbC123'

function rotate(answer: () => Promise<RefreshResult> = async () => ({ bindings: [], events: [] })) {
  const asked: RefreshRequest[] = []
  const log = logCapture()
  const handler = createRotateHandler({
    name: 'rotate',
    logger: createJsonLogger({ write: log.write }),
    broker: () => ({
      catalog,
      refresh: async (request) => {
        asked.push(request)
        return answer()
      },
    }),
    periodMs: () => 300_000,
  })
  const deliver = (event: unknown) => handler(event as never, lambdaContext('rotate'))
  return { deliver, asked, log }
}

describe('rotate', () => {
  it('a schedule sweeps the five minutes before its time', async () => {
    const { deliver, asked, log } = rotate()
    await deliver(
      scheduledEnvelope(
        '2030-05-01T12:05:00Z',
        'arn:aws:events:eu-west-1:123456789012:rule/rotate',
      ),
    )
    expect(asked).toEqual([
      expect.objectContaining({
        select: {
          kind: 'due',
          from: new Date('2030-05-01T12:00:00Z'),
          to: new Date('2030-05-01T12:05:00Z'),
        },
      }),
    ])
    expect(log.records()[0]).toMatchObject({
      function: 'rotate',
      status: 'schedule: 0 checked, 0 rotated, 0 stale, 0 failed',
    })
  })

  it('a PutSecretValue refreshes the bindings of that secret only', async () => {
    const { deliver, asked } = rotate(async () => ({
      bindings: [
        {
          app: 'checkout',
          environment: 'prod',
          name: 'db',
          store: 'aws',
          key: 'rds/checkout-prod',
          result: 'rotated',
          previousVersion: 'a',
          version: 'b',
        },
      ],
      events: [],
    }))
    await deliver(
      cloudTrailEnvelope({
        eventName: 'PutSecretValue',
        region: 'eu-west-1',
        account: '123456789012',
        arn: ARN,
      }),
    )
    expect(asked[0]?.select).toEqual({
      kind: 'sources',
      sources: expect.arrayContaining([{ store: 'aws', key: 'rds/checkout-prod' }]),
    })
    expect(asked[0]?.trigger.source).toBe('aws.secretsmanager')
  })

  it('logs and drops what it cannot act on, without retrying', async () => {
    const { deliver, asked, log } = rotate()
    await deliver(
      cloudTrailEnvelope({
        eventName: 'PutSecretValue',
        region: 'eu-west-1',
        account: '123456789012',
        arn: ARN,
        errorCode: 'AccessDeniedException',
      }),
    )
    await deliver({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} })
    expect(asked).toEqual([])
    expect(
      log
        .records()
        .filter((r) => r.msg === 'invocation')
        .map((r) => r.status),
    ).toEqual(['ignored', 'ignored'])
  })

  it('throws what is worth retrying (the state or the bus), so Lambda retries the event', async () => {
    const { deliver } = rotate(async () => {
      throw new UnavailableError('dynamodb: throttled')
    })
    await expect(
      deliver(
        scheduledEnvelope(
          '2030-05-01T12:05:00Z',
          'arn:aws:events:eu-west-1:123456789012:rule/rotate',
        ),
      ),
    ).rejects.toBeInstanceOf(UnavailableError)
  })

  it('reads its period and digest key secret from the environment', () => {
    expect(refreshPeriodMs({})).toBe(300_000)
    expect(refreshPeriodMs({ CAPBROKER_REFRESH_EVERY: '10m' })).toBe(600_000)
    expect(() => refreshPeriodMs({ CAPBROKER_REFRESH_EVERY: '30s' })).toThrow(/at least a minute/)
    expect(() => refreshPeriodMs({ CAPBROKER_REFRESH_EVERY: 'hourly' })).toThrow(
      /CAPBROKER_REFRESH_EVERY/,
    )
    expect(digestKeyFromEnvironment({})).toBeUndefined()
    expect(
      digestKeyFromEnvironment({ CAPBROKER_DIGEST_KEY_SECRET: 'capbroker/prod/digest-key' }),
    ).toBeTypeOf('function')
  })
})
