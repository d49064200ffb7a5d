/**
 * The first half of every writable store's `write`: compare with the newest version.
 * A write of the value already there makes no version; a failure other than "not
 * there" (or "not readable as text") means the write must not go ahead blind.
 */
import type { ReadOutcome, WriteOutcome } from '../broker/ports.ts'
import type { SecretValue } from '../broker/secret-value.ts'

/** `{ changed: false }` when `current` already holds `value`; undefined when a write is due. */
export function unchangedWrite(current: ReadOutcome, value: SecretValue): WriteOutcome | undefined {
  if (current.ok && current.value.equals(value)) return { version: current.version, changed: false }
  if (
    !current.ok &&
    current.error.code !== 'NOT_FOUND' &&
    current.error.code !== 'INVALID_SECRET'
  ) {
    throw current.error
  }
  return undefined
}
