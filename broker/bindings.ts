/**
 * The binding model: a resolved secret becomes Service Binding entries. With `outputs`,
 * each entry takes one JSON property; without, every top-level property of a JSON
 * object, or `value` for anything else. `type` and `provider` are added by the sinks.
 */
import { NAME_PATTERN } from '../events/index.ts'
import { InvalidSecretError } from './errors.ts'
import type { Binding, BindingRecord, BindingStatus } from './ports.ts'
import { SecretValue } from './secret-value.ts'

const ENTRY = new RegExp(NAME_PATTERN)
const RESERVED = new Set(['type', 'provider'])

/** What the catalog class says about the shape of the secret. */
export interface BindingShape {
  readonly outputs?: Readonly<Record<string, string>>
  readonly secret?: readonly string[]
}

/** What is being bound. */
export interface BindingSubject {
  readonly name: string
  readonly type: string
  readonly provider: string
  /** The key read, for error messages (never the value). */
  readonly key: string
}

function entryText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function parseObject(raw: string): Record<string, unknown> | undefined {
  const trimmed = raw.trimStart()
  if (!trimmed.startsWith('{')) return undefined
  try {
    const parsed: unknown = JSON.parse(raw)
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * Builds a binding from a secret's raw value. Throws {@link InvalidSecretError} (naming
 * the key and the property, never a value) when the outputs need JSON the secret does
 * not have.
 */
export function buildBinding(
  subject: BindingSubject,
  shape: BindingShape,
  raw: SecretValue,
): Binding {
  const entries = new Map<string, SecretValue>()
  const object = parseObject(raw.reveal())
  if (shape.outputs) {
    if (!object)
      throw new InvalidSecretError(
        `secret "${subject.key}" is not a JSON object, but class outputs need its properties`,
      )
    for (const [entry, property] of Object.entries(shape.outputs)) {
      if (
        !Object.hasOwn(object, property) ||
        object[property] === null ||
        object[property] === undefined
      ) {
        throw new InvalidSecretError(
          `secret "${subject.key}" has no property "${property}" (for entry "${entry}")`,
        )
      }
      entries.set(entry, new SecretValue(entryText(object[property])))
    }
  } else if (object) {
    for (const [property, value] of Object.entries(object)) {
      if (RESERVED.has(property) || value === null || value === undefined) continue
      if (!ENTRY.test(property)) {
        throw new InvalidSecretError(
          `secret "${subject.key}" has a property whose name is not a valid entry name (${NAME_PATTERN})`,
        )
      }
      entries.set(property, new SecretValue(entryText(value)))
    }
  } else {
    entries.set('value', raw)
  }
  const names = [...entries.keys()]
  const secretEntries = shape.secret ? names.filter((n) => shape.secret?.includes(n)) : names
  return {
    name: subject.name,
    type: subject.type,
    provider: subject.provider,
    entries,
    secretEntries,
  }
}

/** What `GET …/bindings` and `capbroker bindings` show of a binding: metadata, never values. */
export interface BindingView {
  readonly name: string
  readonly type: string
  /** `ready`; `stale` (its source unreadable since `staleSince`); `failed` (see `reason`). */
  readonly status: BindingStatus
  readonly provider: string
  readonly store: string
  readonly key: string
  readonly version: string
  readonly entries: readonly string[]
  readonly secretEntries: readonly string[]
  readonly sink: string
  readonly location: string
  readonly injectedAt: string
  /** When a refresh last re-injected a changed value; absent if never. */
  readonly lastRotatedAt?: string
  readonly staleSince?: string
  /** Why it is `stale` or `failed`. */
  readonly reason?: { readonly code: string; readonly message: string }
}

/** The view of a recorded binding. */
export function bindingView(record: BindingRecord): BindingView {
  const status = record.status ?? 'ready'
  return {
    name: record.name,
    type: record.type,
    status,
    provider: record.provider,
    store: record.store,
    key: record.key,
    version: record.version,
    entries: record.entries,
    secretEntries: record.secretEntries,
    sink: record.sink,
    location: record.location,
    injectedAt: record.injectedAt,
    ...(record.lastRotatedAt ? { lastRotatedAt: record.lastRotatedAt } : {}),
    ...(status === 'stale' && record.staleSince ? { staleSince: record.staleSince } : {}),
    ...(status !== 'ready' && record.failure
      ? { reason: { code: record.failure.code, message: record.failure.message } }
      : {}),
  }
}

/** A binding's status in a few words: `ready`, `stale since <time>`, `failed (<code>)`. */
export function describeStatus(
  view: Pick<BindingView, 'status' | 'staleSince' | 'reason'>,
): string {
  if (view.status === 'stale') return `stale since ${view.staleSince ?? '?'}`
  if (view.status === 'failed') return `failed (${view.reason?.code ?? '?'})`
  return 'ready'
}
