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

/** GCP's limit on a secret id. */
export const MAX_SECRET_ID_LENGTH = 255

const PLAIN = /[A-Za-z0-9-]/
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** The GCP secret id for a catalog key (may exceed {@link MAX_SECRET_ID_LENGTH}: check it). */
export function toSecretId(key: string): string {
  let id = ''
  for (const char of key) {
    if (PLAIN.test(char)) id += char
    else if (char === '/') id += '__'
    else for (const byte of encoder.encode(char)) id += `_${hex(byte)}`
  }
  return id
}

/**
 * The catalog key a secret id stands for, or `undefined` when the id is not one that
 * {@link toSecretId} produces (a secret created by hand, lowercase hex, bad UTF-8).
 */
export function fromSecretId(id: string): string | undefined {
  const bytes: number[] = []
  for (let i = 0; i < id.length; ) {
    const char = id[i]!
    if (char !== '_') {
      if (!PLAIN.test(char)) return undefined
      bytes.push(char.charCodeAt(0))
      i += 1
    } else if (id[i + 1] === '_') {
      bytes.push(0x2f)
      i += 2
    } else {
      const pair = id.slice(i + 1, i + 3)
      if (!/^[0-9A-F]{2}$/.test(pair)) return undefined
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

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0')
}
