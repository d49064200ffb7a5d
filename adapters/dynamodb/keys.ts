/**
 * The single-table layout of the state table, and the item codecs. Pure: unit-tested
 * without a network.
 *
 * | row | pk | sk | other attributes |
 * |---|---|---|---|
 * | request (idempotency) | `REQ#<source>#<id>` | `REQ` | `status` (`in-progress`/`completed`), `leaseUntil` (epoch ms), `claimedAt`, `outcome` (JSON of the outcome events), `completedAt`, `expiresAt` (epoch **seconds**, the table's TTL attribute) |
 * | binding | `BIND#<app>#<environment>` | `<capability name>` | the {@link BindingRecord} fields; `entries`/`secretEntries` as lists; `requestSource`/`requestId`; `failureCode`/`failureMessage` |
 * | source pointer | `SRC#<store>#<key>` | `<app>#<environment>#<name>` | `app`, `environment`, `name`: which bindings read a secret (push refresh) |
 * | target pointer | `TARGETS` | `<app>#<environment>` | `app`, `environment`: every app and environment with bindings (scheduled refresh) |
 * | audit entry | `AUDIT#<app>#<environment>` | `<time>#<id>` | `entry` (the AuditEntry as JSON: names only) |
 *
 * Pointers are written with the bindings and may outlive them (a binding re-pointed to
 * another key, a crash between two transactions): readers check what a pointer points
 * at and ignore what no longer matches.
 *
 * Key parts are escaped (`%` → `%25`, `#` → `%23`) so that a `#` inside a CloudEvents
 * `source` cannot make two different requests share a key.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type {
  BindingRecord,
  BindingTarget,
  RecordedOutcome,
  RequestKey,
} from '../../broker/ports.ts'

/** A DynamoDB item in wire form. */
export type Item = Record<string, AttributeValue>

/** The sort key of request rows. */
export const REQUEST_SK = 'REQ'

/** Escapes one key part: `%` and `#` only, so keys stay readable in the console. */
export function escapeKeyPart(part: string): string {
  return part.replaceAll('%', '%25').replaceAll('#', '%23')
}

/** The primary key of a request's idempotency row. */
export function requestKey(key: RequestKey): { pk: AttributeValue; sk: AttributeValue } {
  return {
    pk: { S: `REQ#${escapeKeyPart(key.source)}#${escapeKeyPart(key.id)}` },
    sk: { S: REQUEST_SK },
  }
}

/** The partition key holding one app/environment's bindings. */
export function bindingPartition(target: BindingTarget): AttributeValue {
  return { S: `BIND#${escapeKeyPart(target.app)}#${escapeKeyPart(target.environment)}` }
}

/** DynamoDB TTL wants epoch seconds; rounded up so an item never expires early. */
export function epochSeconds(ms: number): number {
  return Math.ceil(ms / 1000)
}

/** The binding row for a record. */
export function bindingItem(record: BindingRecord): Item {
  return {
    pk: bindingPartition(record),
    sk: { S: record.name },
    kind: { S: 'binding' },
    app: { S: record.app },
    environment: { S: record.environment },
    name: { S: record.name },
    type: { S: record.type },
    provider: { S: record.provider },
    store: { S: record.store },
    key: { S: record.key },
    version: { S: record.version },
    entries: { L: record.entries.map((e) => ({ S: e })) },
    secretEntries: { L: record.secretEntries.map((e) => ({ S: e })) },
    sink: { S: record.sink },
    location: { S: record.location },
    injectedAt: { S: record.injectedAt },
    requestSource: { S: record.request.source },
    requestId: { S: record.request.id },
    ...optional('class', record.class),
    ...optional('digest', record.digest),
    ...optional('status', record.status),
    ...optional('staleSince', record.staleSince),
    ...optional('failureCode', record.failure?.code),
    ...optional('failureMessage', record.failure?.message),
    ...optional('lastRotatedAt', record.lastRotatedAt),
  }
}

function optional(name: string, value: string | undefined): Item {
  return value === undefined ? {} : { [name]: { S: value } }
}

/** Reads a binding row back; throws naming the attribute when the row is malformed. */
export function bindingFromItem(item: Item): BindingRecord {
  return {
    app: str(item, 'app'),
    environment: str(item, 'environment'),
    name: str(item, 'name'),
    type: str(item, 'type'),
    provider: str(item, 'provider'),
    store: str(item, 'store'),
    key: str(item, 'key'),
    version: str(item, 'version'),
    entries: strings(item, 'entries'),
    secretEntries: strings(item, 'secretEntries'),
    sink: str(item, 'sink'),
    location: str(item, 'location'),
    injectedAt: str(item, 'injectedAt'),
    request: { source: str(item, 'requestSource'), id: str(item, 'requestId') },
    ...lifecycleFields(item),
  }
}

/** The optional lifecycle attributes of a binding row (absent on rows written before them). */
function lifecycleFields(item: Item): Partial<BindingRecord> {
  const s = (name: string) => item[name]?.S
  const status = s('status')
  const code = s('failureCode')
  return {
    ...(s('class') === undefined ? {} : { class: s('class') }),
    ...(s('digest') === undefined ? {} : { digest: s('digest') }),
    ...(status === 'stale' || status === 'failed' || status === 'ready' ? { status } : {}),
    ...(s('staleSince') === undefined ? {} : { staleSince: s('staleSince') }),
    ...(code === undefined ? {} : { failure: { code, message: s('failureMessage') ?? '' } }),
    ...(s('lastRotatedAt') === undefined ? {} : { lastRotatedAt: s('lastRotatedAt') }),
  }
}

/** The completed request row: outcome events as JSON (names only, never values). */
export function completedRequestItem(
  key: RequestKey,
  outcome: RecordedOutcome,
  expiresAtMs: number,
): Item {
  return {
    ...requestKey(key),
    kind: { S: 'request' },
    status: { S: 'completed' },
    outcome: { S: JSON.stringify(outcome.events) },
    completedAt: { S: outcome.completedAt },
    expiresAt: { N: String(epochSeconds(expiresAtMs)) },
  }
}

/** The recorded outcome of a completed request row. */
export function outcomeFromItem(item: Item): RecordedOutcome {
  return { events: JSON.parse(str(item, 'outcome')), completedAt: str(item, 'completedAt') }
}

/** A string attribute, or an error naming it. */
export function str(item: Item, name: string): string {
  const value = item[name]?.S
  if (value === undefined)
    throw new Error(`state item ${item.pk?.S ?? '?'}: attribute "${name}" missing or not a string`)
  return value
}

function strings(item: Item, name: string): string[] {
  const list = item[name]?.L
  if (list === undefined)
    throw new Error(`state item ${item.pk?.S ?? '?'}: attribute "${name}" missing or not a list`)
  return list.map((v) => v.S ?? '')
}
