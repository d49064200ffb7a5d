/**
 * Secrets Manager changes as EventBridge delivers them to a target: the envelope of a
 * CloudTrail record (`AWS API Call via CloudTrail` for API calls, `AWS Service Event
 * via CloudTrail` for RotationSucceeded), shaped like the records in the AWS Secrets
 * Manager and CloudTrail user guides. Shared by the unit and the moto tests.
 */
import { randomUUID } from 'node:crypto'

/** What varies between the test records. */
export interface ChangeRecord {
  readonly eventName:
    | 'PutSecretValue'
    | 'UpdateSecret'
    | 'RotateSecret'
    | 'RotationSucceeded'
    | string
  readonly region: string
  readonly account: string
  /** The full ARN of the secret (with its six-character suffix). */
  readonly arn: string
  /** What the caller passed as SecretId: a name or an ARN. Default: the ARN. */
  readonly secretId?: string
  readonly errorCode?: string
  readonly time?: string
}

const identity = (account: string) => ({
  type: 'AssumedRole',
  principalId: 'AROAEXAMPLEID:deploy',
  arn: `arn:aws:sts::${account}:assumed-role/platform-deploy/deploy`,
  accountId: account,
  accessKeyId: 'ASIAEXAMPLEKEYID',
})

/** The CloudTrail record (`detail`) of a change. */
export function cloudTrailRecord(change: ChangeRecord): Record<string, unknown> {
  const time = change.time ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  const common = {
    eventVersion: '1.08',
    eventTime: time,
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: change.eventName,
    awsRegion: change.region,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: false,
    recipientAccountId: change.account,
    eventCategory: 'Management',
  }
  if (change.eventName === 'RotationSucceeded')
    return {
      ...common,
      userIdentity: { accountId: change.account, invokedBy: 'secretsmanager.amazonaws.com' },
      sourceIPAddress: 'secretsmanager.amazonaws.com',
      userAgent: 'secretsmanager.amazonaws.com',
      requestParameters: null,
      responseElements: null,
      additionalEventData: { SecretId: change.arn },
      eventType: 'AwsServiceEvent',
    }
  const secretId = change.secretId ?? change.arn
  const requestParameters: Record<string, unknown> = { secretId }
  let responseElements: Record<string, unknown> | null = null
  if (change.eventName === 'PutSecretValue') {
    requestParameters.clientRequestToken = randomUUID()
    responseElements = { arn: change.arn }
  } else if (change.eventName === 'UpdateSecret') {
    requestParameters.clientRequestToken = randomUUID()
    responseElements = { arn: change.arn }
  } else if (change.eventName === 'RotateSecret') {
    requestParameters.rotateImmediately = true
    responseElements = { arn: change.arn, versionId: randomUUID() }
  }
  return {
    ...common,
    userIdentity: identity(change.account),
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15.0',
    requestParameters,
    responseElements: change.errorCode ? null : responseElements,
    ...(change.errorCode
      ? { errorCode: change.errorCode, errorMessage: 'Secrets Manager can’t find the resource.' }
      : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
  }
}

/** The detail-type EventBridge gives a record. */
export function detailTypeOf(eventName: string): string {
  return eventName === 'RotationSucceeded'
    ? 'AWS Service Event via CloudTrail'
    : 'AWS API Call via CloudTrail'
}

/** The envelope a rule delivers to its Lambda target. */
export function cloudTrailEnvelope(change: ChangeRecord) {
  const detail = cloudTrailRecord(change)
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailTypeOf(change.eventName),
    source: 'aws.secretsmanager',
    account: change.account,
    time: detail.eventTime as string,
    region: change.region,
    resources: [],
    detail,
  }
}

/** A scheduled event as an EventBridge schedule rule delivers it. */
export function scheduledEnvelope(time: string, ruleArn: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ruleArn.split(':')[4] ?? '123456789012',
    time,
    region: ruleArn.split(':')[3] ?? 'eu-west-1',
    resources: [ruleArn],
    detail: {},
  }
}
