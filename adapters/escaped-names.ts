/**
 * One reversible code for provider names that allow fewer characters than catalog keys
 * (GCP secret ids, Key Vault secret names). An escape character `e`: `/` → `ee`, every
 * character outside the plain set (the escape itself included) → `eXX` per UTF-8 byte.
 * After an `e` comes either `e` or a hex digit, never both, so the code is prefix-free:
 * injective, and `decode` undoes `encode` exactly (and refuses any other spelling).
 */

/** How one provider spells names. */
export interface EscapedNameCode {
  /** The escape character (must not be plain). */
  readonly escape: string
  /** One character that passes through unchanged. */
  readonly plain: RegExp
  /** Hex digits of escapes in upper or lower case. */
  readonly hexCase: 'upper' | 'lower'
  /** The provider compares names case-insensitively: decode folds case first. */
  readonly caseInsensitive?: boolean
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Encodes a catalog key (the result may exceed the provider's length limit: check it). */
export function encodeName(code: EscapedNameCode, key: string): string {
  let name = ''
  for (const char of key) {
    if (code.plain.test(char)) name += char
    else if (char === '/') name += code.escape + code.escape
    else {
      for (const byte of encoder.encode(char)) {
        const hex = byte.toString(16).padStart(2, '0')
        name += code.escape + (code.hexCase === 'upper' ? hex.toUpperCase() : hex)
      }
    }
  }
  return name
}

/** The catalog key a name stands for, or `undefined` when `encodeName` never writes it. */
export function decodeName(code: EscapedNameCode, name: string): string | undefined {
  const text = code.caseInsensitive ? name.toLowerCase() : name
  const hexPair = code.hexCase === 'upper' ? /^[0-9A-F]{2}$/ : /^[0-9a-f]{2}$/
  const bytes: number[] = []
  for (let i = 0; i < text.length; ) {
    const char = text[i] as string
    if (char !== code.escape) {
      if (!code.plain.test(char)) return undefined
      bytes.push(char.charCodeAt(0))
      i += 1
    } else if (text[i + 1] === code.escape) {
      bytes.push(0x2f)
      i += 2
    } else {
      const pair = text.slice(i + 1, i + 3)
      if (!hexPair.test(pair)) return undefined
      const byte = Number.parseInt(pair, 16)
      // Canonical form only: a plain character or `/` written as an escape is not ours.
      if (byte === 0x2f || (byte < 0x80 && code.plain.test(String.fromCharCode(byte))))
        return undefined
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
