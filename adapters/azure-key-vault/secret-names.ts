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

/** Key Vault's limit on a secret name. */
export const MAX_SECRET_NAME_LENGTH = 127

const PLAIN = /[a-z0-9]/
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** The Key Vault secret name for a catalog key (may exceed the limit: check it). */
export function toKeyVaultName(key: string): string {
  let name = ''
  for (const char of key) {
    if (PLAIN.test(char)) name += char
    else if (char === '/') name += '--'
    else for (const byte of encoder.encode(char)) name += `-${byte.toString(16).padStart(2, '0')}`
  }
  return name
}

/**
 * The catalog key a secret name stands for, or `undefined` when the name is not one
 * {@link toKeyVaultName} produces. Case-insensitive, like Key Vault itself.
 */
export function fromKeyVaultName(name: string): string | undefined {
  const lower = name.toLowerCase()
  const bytes: number[] = []
  for (let i = 0; i < lower.length; ) {
    const char = lower[i]!
    if (char !== '-') {
      if (!PLAIN.test(char)) return undefined
      bytes.push(char.charCodeAt(0))
      i += 1
    } else if (lower[i + 1] === '-') {
      bytes.push(0x2f)
      i += 2
    } else {
      const pair = lower.slice(i + 1, i + 3)
      if (!/^[0-9a-f]{2}$/.test(pair)) return undefined
      const byte = Number.parseInt(pair, 16)
      // Canonical form only: a plain character or `/` written as an escape is not ours.
      if (byte === 0x2f || (byte < 0x80 && PLAIN.test(String.fromCharCode(byte)))) return undefined
      bytes.push(byte)
      i += 3
    }
  }
  try {
    return decoder.decode(new Uint8Array(bytes))
  } catch {
    return undefined
  }
}
