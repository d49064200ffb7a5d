/**
 * What the local store accepts as key names and versions. Checked before any query so
 * an odd name gets a clear error instead of a silent "not found".
 */
import { BrokerError } from '../../broker/errors.ts'

/** Key names: letters, digits, `.`, `_`, `/` and `-`, like the catalog's `apps/{app}/db`. */
export const KEY_PATTERN = /^[A-Za-z0-9._/-]+$/
/** Longer names are refused; no catalog template comes close. */
export const MAX_KEY_LENGTH = 512
/** Versions are the decimal numbers the store hands out: "1", "2", … */
const VERSION_PATTERN = /^[1-9][0-9]{0,14}$/

/**
 * Why `key` is not a valid key name, or undefined when it is. The reason quotes at most
 * the first 64 characters: a key is a name, but a caller may have passed anything.
 */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'a key name must be a string'
  const shown = JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key)
  if (key.length === 0) return 'a key name must not be empty'
  if (key.length > MAX_KEY_LENGTH) {
    return `key name ${shown} is longer than ${MAX_KEY_LENGTH} characters`
  }
  if (!KEY_PATTERN.test(key)) {
    return `key name ${shown} may only contain letters, digits, ".", "_", "/" and "-"`
  }
  return undefined
}

/**
 * An `INVALID_PARAMS` error for a bad key name. Not NotFound (the key could never
 * exist, and saying "not found" hides the typo) and not InvalidConfig (the store is
 * fine; the caller's reference is wrong).
 */
export function invalidKeyError(problem: string): BrokerError {
  return new BrokerError('INVALID_PARAMS', `local store: ${problem}`)
}

/** Throws {@link invalidKeyError} unless `key` is a valid key name. */
export function assertKey(key: string): void {
  const problem = keyProblem(key)
  if (problem !== undefined) throw invalidKeyError(problem)
}

/**
 * The version number of a version string, or undefined for one this store can never
 * have handed out (such a version simply does not exist: NotFound).
 */
export function parseVersion(version: string): number | undefined {
  return VERSION_PATTERN.test(version) ? Number(version) : undefined
}
