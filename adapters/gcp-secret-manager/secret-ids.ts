/**
 * Catalog keys ↔ GCP secret ids. GCP allows only `[A-Za-z0-9_-]{1,255}`, catalog keys
 * use `/` and `.` (`apps/checkout/stripe`), so every key goes through this one mapping,
 * for reads, writes and deletes alike. See README.md for the table and examples.
 *
 * The code is prefix-free with `_` as the escape character: `/` → `__`, every other
 * character outside `[A-Za-z0-9-]` (the escape `_` itself included) → `_XX` per UTF-8
 * byte, uppercase hex. After an `_` comes either `_` or a hex digit, never both, so the
 * mapping is injective and {@link fromSecretId} undoes it exactly.
 */
import { decodeName, type EscapedNameCode, encodeName } from '../escaped-names.ts'

/** GCP's limit on a secret id. */
export const MAX_SECRET_ID_LENGTH = 255

const CODE: EscapedNameCode = { escape: '_', plain: /[A-Za-z0-9-]/, hexCase: 'upper' }

/** The GCP secret id for a catalog key (may exceed {@link MAX_SECRET_ID_LENGTH}: check it). */
export function toSecretId(key: string): string {
  return encodeName(CODE, key)
}

/**
 * The catalog key a secret id stands for, or `undefined` when the id is not one that
 * {@link toSecretId} produces (a secret created by hand, lowercase hex, bad UTF-8).
 */
export function fromSecretId(id: string): string | undefined {
  return decodeName(CODE, id)
}
