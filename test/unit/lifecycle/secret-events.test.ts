import { describe, expect, it } from 'vitest'
import { parseCatalog } from '../../../broker/catalog/load.ts'
import {
  parseSecretsManagerChange,
  secretKeyCandidates,
  sourcesOfChange,
} from '../../../broker/lifecycle/secret-events.ts'
import { rotationTriggerOf } from '../../../broker/lifecycle/triggers.ts'
import { cloudTrailEnvelope, scheduledEnvelope } from './cloudtrail-fixtures.ts'

const ACCOUNT = '111122223333'
const ARN = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:rds/checkout-prod-a1B2c3`

const catalog = parseCatalog(
  `version: 1
stores:
  aws: { adapter: aws-secrets-manager, region: eu-west-1 }
  aws-us: { adapter: aws-secrets-manager, region: us-east-1 }
  local: { adapter: local }
environments:
  prod: { inject: { to: store, store: aws, name: "capbroker/{app}/{environment}" } }
classes:
  - { type: postgres, store: aws, key: "rds/{app}-{environment}" }
`,
  'capbroker.yaml',
)

describe('Secrets Manager CloudTrail records', () => {
  it.each(['PutSecretValue', 'UpdateSecret', 'RotateSecret', 'RotationSucceeded'])(
    '%s names the secret, its region and who changed it',
    (eventName) => {
      const envelope = cloudTrailEnvelope({
        eventName,
        region: 'eu-west-1',
        account: ACCOUNT,
        arn: ARN,
      })
      const parsed = parseSecretsManagerChange(envelope)
      expect(parsed.kind).toBe('change')
      if (parsed.kind !== 'change') return
      expect(parsed.change.region).toBe('eu-west-1')
      expect(parsed.change.secretIds).toContain(ARN)
      expect(parsed.change.eventId).toBe(envelope.detail.eventID)
      expect(parsed.change.actor).toBe(
        eventName === 'RotationSucceeded'
          ? 'secretsmanager.amazonaws.com'
          : `arn:aws:sts::${ACCOUNT}:assumed-role/platform-deploy/deploy`,
      )
    },
  )

  it('reads a secret named by its name in requestParameters', () => {
    const envelope = cloudTrailEnvelope({
      eventName: 'PutSecretValue',
      region: 'eu-west-1',
      account: ACCOUNT,
      arn: ARN,
      secretId: 'rds/checkout-prod',
    })
    const parsed = parseSecretsManagerChange(envelope)
    expect(parsed.kind === 'change' && parsed.change.secretIds).toEqual(['rds/checkout-prod', ARN])
  })

  it('reads the pre-2024 `aRN` spelling of responseElements', () => {
    const envelope = cloudTrailEnvelope({
      eventName: 'UpdateSecret',
      region: 'eu-west-1',
      account: ACCOUNT,
      arn: ARN,
    })
    const detail = envelope.detail as { requestParameters: object; responseElements: object }
    detail.requestParameters = {}
    detail.responseElements = { aRN: ARN }
    const parsed = parseSecretsManagerChange(envelope)
    expect(parsed.kind === 'change' && parsed.change.secretIds).toEqual([ARN])
  })

  it.each([
    [
      'a failed call',
      { errorCode: 'ResourceNotFoundException' },
      /failed \(ResourceNotFoundException\)/,
    ],
    ['an event that changes no value', { eventName: 'TagResource' }, /does not change a value/],
    ['a read', { eventName: 'GetSecretValue' }, /does not change a value/],
  ])('ignores %s', (_what, overrides, reason) => {
    const parsed = parseSecretsManagerChange(
      cloudTrailEnvelope({
        eventName: 'PutSecretValue',
        region: 'eu-west-1',
        account: ACCOUNT,
        arn: ARN,
        ...overrides,
      }),
    )
    expect(parsed).toEqual({ kind: 'ignored', reason: expect.stringMatching(reason) })
  })

  it('ignores what is not a Secrets Manager record', () => {
    expect(parseSecretsManagerChange({ source: 'aws.s3', detail: {} }).kind).toBe('ignored')
    expect(parseSecretsManagerChange(null).kind).toBe('ignored')
    expect(parseSecretsManagerChange({ source: 'aws.secretsmanager', detail: [] }).kind).toBe(
      'ignored',
    )
  })
})

describe('which catalog sources a change concerns', () => {
  it('an ARN maps to the name with and without the suffix, and to the ARN forms', () => {
    expect(secretKeyCandidates(ARN)).toEqual([
      ARN,
      'rds/checkout-prod-a1B2c3',
      'rds/checkout-prod',
      `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:rds/checkout-prod`,
    ])
  })

  it('a plain name is taken as it is, even when it ends like a suffix', () => {
    expect(secretKeyCandidates('apps/x/stripe-backup')).toEqual(['apps/x/stripe-backup'])
  })

  it('only the AWS stores of the event region', () => {
    const parsed = parseSecretsManagerChange(
      cloudTrailEnvelope({
        eventName: 'PutSecretValue',
        region: 'eu-west-1',
        account: ACCOUNT,
        arn: ARN,
      }),
    )
    if (parsed.kind !== 'change') throw new Error('expected a change')
    const sources = sourcesOfChange(catalog, parsed.change)
    expect(new Set(sources.map((s) => s.store))).toEqual(new Set(['aws']))
    expect(sources).toContainEqual({ store: 'aws', key: 'rds/checkout-prod' })
  })
})

describe('rotationTriggerOf', () => {
  const now = new Date('2030-01-01T10:07:00Z')

  it('a schedule sweeps the period that ended at its time, attributed to the rule', () => {
    const rule = 'arn:aws:events:eu-west-1:111122223333:rule/capbroker-prod-rotate-schedule'
    const event = scheduledEnvelope('2030-01-01T10:05:00Z', rule)
    const trigger = rotationTriggerOf(event, catalog, 5 * 60_000, now)
    expect(trigger).toEqual({
      kind: 'refresh',
      what: 'schedule',
      request: {
        select: {
          kind: 'due',
          from: new Date('2030-01-01T10:00:00Z'),
          to: new Date('2030-01-01T10:05:00Z'),
        },
        trigger: { source: rule, id: event.id },
        reason: 'schedule',
      },
    })
  })

  it('a change refreshes its sources, attributed to the CloudTrail event and its actor', () => {
    const event = cloudTrailEnvelope({
      eventName: 'RotationSucceeded',
      region: 'eu-west-1',
      account: ACCOUNT,
      arn: ARN,
    })
    const trigger = rotationTriggerOf(event, catalog, 300_000, now)
    if (trigger.kind !== 'refresh') throw new Error(trigger.reason)
    expect(trigger.request.trigger).toEqual({
      source: 'aws.secretsmanager',
      id: event.detail.eventID,
    })
    expect(trigger.request.reason).toBe('RotationSucceeded by secretsmanager.amazonaws.com')
    expect(trigger.request.select).toMatchObject({ kind: 'sources' })
  })

  it('a change in a region without a store of the catalog is ignored', () => {
    const event = cloudTrailEnvelope({
      eventName: 'PutSecretValue',
      region: 'ap-south-1',
      account: ACCOUNT,
      arn: ARN.replace('eu-west-1', 'ap-south-1'),
    })
    expect(rotationTriggerOf(event, catalog, 300_000, now)).toEqual({
      kind: 'ignored',
      reason: 'no aws-secrets-manager store of the catalog is in ap-south-1',
    })
  })

  it('other events are ignored', () => {
    expect(
      rotationTriggerOf({ source: 'aws.s3', 'detail-type': 'Object Created' }, catalog, 1, now)
        .kind,
    ).toBe('ignored')
  })
})
