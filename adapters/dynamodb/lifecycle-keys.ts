/**
 * Keys and codecs of the lifecycle rows of the state table (see keys.ts for the whole
 * layout): source pointers, target pointers and audit entries. Pure.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type { AuditEntry, BindingRecord, BindingTarget } from '../../broker/ports.ts'
import { escapeKeyPart, type Item, str } from './keys.ts'

/** The partition of every target pointer. */
export const TARGETS_PK = 'TARGETS'

/** The partition listing the bindings that read one secret. */
export function sourcePartition(source: { store: string; key: string }): AttributeValue {
  return { S: `SRC#${escapeKeyPart(source.store)}#${escapeKeyPart(source.key)}` }
}

const targetSort = (t: BindingTarget) => `${escapeKeyPart(t.app)}#${escapeKeyPart(t.environment)}`

/** The pointer from a record's source to the record. */
export function sourcePointerItem(record: BindingRecord): Item {
  return {
    pk: sourcePartition(record),
    sk: { S: `${targetSort(record)}#${escapeKeyPart(record.name)}` },
    kind: { S: 'source-pointer' },
    app: { S: record.app },
    environment: { S: record.environment },
    name: { S: record.name },
  }
}

/** The pointer saying a target has (or had) bindings. */
export function targetPointerItem(target: BindingTarget): Item {
  return {
    pk: { S: TARGETS_PK },
    sk: { S: targetSort(target) },
    kind: { S: 'target' },
    app: { S: target.app },
    environment: { S: target.environment },
  }
}

/** What a pointer row points at. */
export function pointedBinding(item: Item): BindingTarget & { name: string } {
  return { app: str(item, 'app'), environment: str(item, 'environment'), name: str(item, 'name') }
}

/** What a target pointer row names. */
export function pointedTarget(item: Item): BindingTarget {
  return { app: str(item, 'app'), environment: str(item, 'environment') }
}

/** The partition of a target's audit log. */
export function auditPartition(target: BindingTarget): AttributeValue {
  return { S: `AUDIT#${targetSort(target)}` }
}

/**
 * An audit row. The sort key starts with the time, so a Query reads a target's history
 * in order; the entry's place in its batch (entries of one moment, in the order they
 * happened) and its id come after.
 */
export function auditItem(entry: AuditEntry, ordinal = 0): Item {
  return {
    pk: auditPartition(entry),
    sk: { S: `${entry.time}#${String(ordinal).padStart(4, '0')}#${escapeKeyPart(entry.id)}` },
    kind: { S: 'audit' },
    time: { S: entry.time },
    entry: { S: JSON.stringify(entry) },
  }
}

/** An audit row read back. */
export function auditFromItem(item: Item): AuditEntry {
  return JSON.parse(str(item, 'entry')) as AuditEntry
}
