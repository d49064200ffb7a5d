/**
 * Catalog keys ↔ Key Vault secret names. Key Vault allows only `[0-9a-zA-Z-]{1,127}` and
 * compares names case-insensitively (`Foo` and `foo` are one secret), so every key goes
 * through this one mapping, for reads, writes and deletes alike. See README.md.
 *
 * The output uses only lowercase letters, digits and `-`, so two different keys can
 * never meet under case folding. `-` is the escape character: `/` → `--`, every other
 * character outside `[a-z0-9]` (uppercase letters and `-` itself included) → `-xx` per
 * UTF-8 byte, lowercase hex. After a `-` comes either `-` or a hex digit, so the code is
 * prefix-free: injective, and {@link fromKeyVaultName} undoes it exactly.
 */
import { decodeName, type EscapedNameCode, encodeName } from '../escaped-names.ts'

/** Key Vault's limit on a secret name. */
export const MAX_SECRET_NAME_LENGTH = 127

const CODE: EscapedNameCode = {
  escape: '-',
  plain: /[a-z0-9]/,
  hexCase: 'lower',
  caseInsensitive: true,
}

/** The Key Vault secret name for a catalog key (may exceed the limit: check it). */
export function toKeyVaultName(key: string): string {
  return encodeName(CODE, key)
}

/**
 * The catalog key a secret name stands for, or `undefined` when the name is not one
 * {@link toKeyVaultName} produces. Case-insensitive, like Key Vault itself.
 */
export function fromKeyVaultName(name: string): string | undefined {
  return decodeName(CODE, name)
}
