/**
 * The local store's encryption at rest: the key file and AES-256-GCM. Kept apart from
 * the database code so the one thing that must be right is small enough to read whole.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto'
import {
  closeSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { InvalidConfigError } from '../../broker/errors.ts'

/** AES-256: the key file holds exactly this many random bytes. */
export const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
/** Bumped if the sealing format ever changes, so old rows fail loudly instead of decrypting wrongly. */
const FORMAT = 'capbroker-local-v1'

/** A sealed value as stored: the IV and the ciphertext with its 16-byte GCM tag appended. */
export interface SealedValue {
  readonly iv: Uint8Array
  readonly ciphertext: Uint8Array
}

/**
 * Reads the key file, creating it with 32 random bytes (mode 0600) when it does not
 * exist. Creation writes a temporary file opened with `wx` and publishes it with
 * `link()`, which fails when the name exists: of two processes racing on first use,
 * one key wins and both read it — neither can see a half-written file.
 *
 * @throws InvalidConfigError when the file has the wrong length, is not a regular file,
 *   or is readable or writable by group or others.
 */
export function loadOrCreateKey(file: string): KeyObject {
  const existing = readKeyFile(file)
  if (existing !== undefined) return existing
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`
  try {
    const fd = openSync(temporary, 'wx', 0o600)
    try {
      fchmodSync(fd, 0o600)
      writeSync(fd, randomBytes(KEY_BYTES))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    try {
      linkSync(temporary, file)
    } catch (error) {
      // Another process published its key first: use that one.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  } catch (error) {
    throw new InvalidConfigError(`key file ${file} cannot be created`, { cause: error })
  } finally {
    try {
      unlinkSync(temporary)
    } catch {
      // Nothing to clean up when the temporary file was never created.
    }
  }
  const created = readKeyFile(file)
  if (created === undefined)
    throw new InvalidConfigError(`key file ${file} vanished after creation`)
  return created
}

/** The key in `file`, or undefined when there is no such file. */
function readKeyFile(file: string): KeyObject | undefined {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new InvalidConfigError(`key file ${file} cannot be read`, { cause: error })
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new InvalidConfigError(`key file ${file} is not a regular file`)
    // POSIX modes mean nothing on Windows, where ACLs protect the file instead.
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0')
      throw new InvalidConfigError(
        `key file ${file} is accessible by group or others (mode ${mode}); run chmod 600 on it`,
      )
    }
    if (stat.size !== KEY_BYTES) {
      throw new InvalidConfigError(
        `key file ${file} holds ${stat.size} bytes, expected ${KEY_BYTES}: it is corrupt or not a capbroker key`,
      )
    }
    const bytes = Buffer.alloc(KEY_BYTES)
    let read = 0
    while (read < KEY_BYTES) {
      const n = readSync(fd, bytes, read, KEY_BYTES - read, read)
      if (n === 0) break
      read += n
    }
    if (read !== KEY_BYTES) throw new InvalidConfigError(`key file ${file} could not be read whole`)
    // A KeyObject never prints its bytes, unlike a Buffer left in a debugger or a log.
    const key = createSecretKey(bytes)
    bytes.fill(0)
    return key
  } finally {
    closeSync(fd)
  }
}

/**
 * The additional authenticated data binding a ciphertext to its key name and version:
 * a row copied to another key or version fails authentication instead of decrypting.
 */
export function associatedData(secretKey: string, version: number): Buffer {
  return Buffer.from(`${FORMAT}\0${secretKey}\0${version}`, 'utf8')
}

/** Encrypts with a fresh random 96-bit IV; never reuse an IV with one key. */
export function sealValue(key: KeyObject, plaintext: string, aad: Uint8Array): SealedValue {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(aad)
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return { iv, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) }
}

/**
 * Decrypts and authenticates a {@link SealedValue}.
 *
 * @throws Error when the tag does not verify: another key, another key name or version
 *   (the AAD), or altered bytes. The caller decides what that means.
 */
export function openValue(key: KeyObject, sealed: SealedValue, aad: Uint8Array): string {
  if (sealed.ciphertext.byteLength < TAG_BYTES) throw new Error('sealed value is truncated')
  const body = sealed.ciphertext.subarray(0, sealed.ciphertext.byteLength - TAG_BYTES)
  const tag = sealed.ciphertext.subarray(sealed.ciphertext.byteLength - TAG_BYTES)
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES })
  decipher.setAAD(aad)
  decipher.setAuthTag(tag)
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')
}
