/**
 * Push refresh from AWS: Secrets Manager changes arrive as CloudTrail records delivered
 * by EventBridge (`source: aws.secretsmanager`). This reads the few fields that say
 * which secret changed, where and by whom, and maps the secret to the catalog's stores
 * and keys, so the rotate function refreshes only the bindings of that secret.
 */
import type { Catalog } from '../catalog/load.ts'

/** The CloudTrail event names that can change what a secret's newest version holds. */
export const SECRET_CHANGE_EVENT_NAMES: readonly string[] = [
  'PutSecretValue',
  'UpdateSecret',
  'RotateSecret',
  // Not an API call: Secrets Manager's own event when a rotation Lambda finished.
  'RotationSucceeded',
  // What a rotation Lambda's finishSecret step (or an operator) calls to move AWSCURRENT.
  'UpdateSecretVersionStage',
]

/** A change to a secret at AWS Secrets Manager. */
export interface SecretChange {
  readonly region: string
  /** The secret as the event names it: a name, a full ARN, or a partial ARN. */
  readonly secretIds: readonly string[]
  readonly eventName: string
  /** CloudTrail's `eventID` (or the EventBridge event id): the trigger's id in the audit. */
  readonly eventId: string
  /** Who made the change: CloudTrail's `userIdentity.arn`, or the service that did. */
  readonly actor?: string
}

/** What {@link parseSecretsManagerChange} made of an event. */
export type SecretChangeParse =
  | { readonly kind: 'change'; readonly change: SecretChange }
  | { readonly kind: 'ignored'; readonly reason: string }

type Json = Record<string, unknown>
const object = (value: unknown): Json | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined

const ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)$/
/** Secrets Manager appends `-` and six random characters to the name in a full ARN. */
const RANDOM_SUFFIX = /-[A-Za-z0-9]{6}$/

/**
 * Reads an EventBridge envelope of a Secrets Manager CloudTrail record. A failed call
 * (`errorCode`), another event name or a record without a secret id is `ignored`, with
 * the reason for the log line.
 */
export function parseSecretsManagerChange(envelope: unknown): SecretChangeParse {
  const event = object(envelope)
  const detail = object(event?.detail)
  if (event?.source !== 'aws.secretsmanager' || !detail)
    return { kind: 'ignored', reason: 'not a Secrets Manager CloudTrail event' }
  const eventName = text(detail.eventName) ?? ''
  if (!SECRET_CHANGE_EVENT_NAMES.includes(eventName))
    return { kind: 'ignored', reason: `event ${eventName || '(none)'} does not change a value` }
  if (detail.errorCode !== undefined)
    return { kind: 'ignored', reason: `${eventName} failed (${String(detail.errorCode)})` }
  const request = object(detail.requestParameters)
  const response = object(detail.responseElements)
  const additional = object(detail.additionalEventData)
  const resources = Array.isArray(detail.resources) ? detail.resources.map(object) : []
  const ids = [
    text(request?.secretId),
    text(response?.arn),
    // Before February 2024 some operations reported the ARN as `aRN`.
    text(response?.aRN),
    text(response?.name),
    // RotationSucceeded is a service event: the secret is in additionalEventData.
    text(additional?.SecretId),
    text(additional?.secretId),
    ...resources.map((r) => text(r?.ARN)).filter((arn) => arn !== undefined && ARN.test(arn)),
  ].filter((id): id is string => id !== undefined)
  if (ids.length === 0) return { kind: 'ignored', reason: `${eventName} names no secret` }
  const region =
    ids.map((id) => ARN.exec(id)?.[1]).find((r) => r !== undefined) ??
    text(detail.awsRegion) ??
    text(event.region)
  if (region === undefined) return { kind: 'ignored', reason: `${eventName} names no region` }
  const identity = object(detail.userIdentity)
  const actor = text(identity?.arn) ?? text(identity?.invokedBy) ?? text(detail.eventSource)
  return {
    kind: 'change',
    change: {
      region,
      secretIds: [...new Set(ids)],
      eventName,
      eventId: text(detail.eventID) ?? text(event.id) ?? 'unknown',
      ...(actor ? { actor } : {}),
    },
  }
}

/**
 * The keys a catalog may use for a secret an event names: the id as given, and for an
 * ARN the secret name with and without the random suffix (a key is usually the name;
 * the suffix cannot be told from a name ending in `-` and six characters, so both are
 * tried — a spurious match only costs one read that finds nothing changed).
 */
export function secretKeyCandidates(secretId: string): string[] {
  const keys = new Set([secretId])
  const name = ARN.exec(secretId)?.[3]
  // A plain name is exact: only an ARN carries the suffix.
  if (name === undefined) return [...keys]
  keys.add(name)
  if (RANDOM_SUFFIX.test(name)) {
    keys.add(name.replace(RANDOM_SUFFIX, ''))
    keys.add(secretId.replace(RANDOM_SUFFIX, ''))
  }
  return [...keys]
}

/** The (store, key) sources a change concerns: every AWS store of its region, every candidate key. */
export function sourcesOfChange(
  catalog: Pick<Catalog, 'stores'>,
  change: SecretChange,
): { store: string; key: string }[] {
  const stores = [...catalog.stores].filter(
    ([, config]) => config.adapter === 'aws-secrets-manager' && config.region === change.region,
  )
  const keys = [...new Set(change.secretIds.flatMap(secretKeyCandidates))]
  return stores.flatMap(([store]) => keys.map((key) => ({ store, key })))
}

/** The audit line of a change: `PutSecretValue by arn:aws:iam::…`. */
export function describeChange(change: SecretChange): string {
  return change.actor ? `${change.eventName} by ${change.actor}` : change.eventName
}
