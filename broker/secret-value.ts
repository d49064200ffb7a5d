const REDACTED = '[redacted]'

/**
 * A secret value the broker must never print. `toString`, `toJSON`, `util.inspect` and
 * template literals all give `[redacted]`; only {@link SecretValue.reveal} returns the
 * value, and only sinks and stores call it.
 */
export class SecretValue {
  readonly #value: string

  constructor(value: string) {
    if (typeof value !== 'string') throw new TypeError('a SecretValue holds a string')
    this.#value = value
  }

  /** The plain value, for a sink that writes it or a store that encrypts it. */
  reveal(): string {
    return this.#value
  }

  /** Compares without revealing: for "write only when changed". */
  equals(other: SecretValue): boolean {
    return this.#value === other.#value
  }

  /** The length in UTF-8 bytes, for size checks that must not see the value. */
  get byteLength(): number {
    return Buffer.byteLength(this.#value, 'utf8')
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [Symbol.toPrimitive](): string {
    return REDACTED
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SecretValue(${REDACTED})`
  }
}

/** True for a {@link SecretValue}; used where plain strings and secrets meet. */
export function isSecretValue(value: unknown): value is SecretValue {
  return value instanceof SecretValue
}
