/**
 * The embedded secret store: versioned secrets in `<home>/secrets.db`, each value sealed
 * with AES-256-GCM under the key in `<home>/local.key`. It is the default store on a
 * laptop, what `capbroker secrets put|get|list|delete` edits, and the fake provider the
 * conformance suite runs on without a network.
 */
import type { KeyObject } from 'node:crypto'
import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import {
  BrokerError,
  ConflictError,
  InvalidConfigError,
  NotFoundError,
} from '../../broker/errors.ts'
import type {
  CallOptions,
  ListableSecretStore,
  ReadOutcome,
  SecretLocator,
  StoreHealth,
  WritableSecretStore,
  WriteOptions,
  WriteOutcome,
} from '../../broker/ports.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import {
  immediateTransaction,
  type OpenDatabaseOptions,
  openDatabase,
  toStoreError,
} from '../sqlite/database.ts'
import { associatedData, loadOrCreateKey, openValue, sealValue } from './crypto.ts'
import { assertKey, invalidKeyError, keyProblem, parseVersion } from './keys.ts'

/** Options for {@link LocalSecretStore}. */
export interface LocalSecretStoreOptions extends OpenDatabaseOptions {
  /** The capbroker home (CAPBROKER_HOME, default `.capbroker/`); created with mode 0700. */
  readonly home: string
}

/** File names inside the home directory. */
export const SECRETS_DB_FILE = 'secrets.db'
/** The 32-byte AES key; see {@link loadOrCreateKey}. */
export const KEY_FILE = 'local.key'

/*
 * `secret_keys.last_version` outlives a delete, so a key deleted and written again
 * continues at the next number: a version once handed out (and recorded in a binding)
 * never names a different value.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS secret_versions (
  key TEXT NOT NULL,
  version INTEGER NOT NULL,
  iv BLOB NOT NULL,
  ciphertext BLOB NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (key, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS secret_keys (
  key TEXT PRIMARY KEY,
  last_version INTEGER NOT NULL
) WITHOUT ROWID;
`

interface VersionRow {
  version: number
  iv: Uint8Array
  ciphertext: Uint8Array
}

/**
 * {@link WritableSecretStore} and {@link ListableSecretStore} on an encrypted SQLite file.
 *
 * Configuration errors surface **at construction**: the constructor creates the home
 * (0700), loads or creates the key file and opens the database, and throws an
 * InvalidConfigError when the home is not a directory, the key file is corrupt or
 * readable by others, or `secrets.db` is not a database. Key names must match
 * `[A-Za-z0-9._/-]+` (at most 512 characters); others give a BrokerError with code
 * `INVALID_PARAMS` — as a failed outcome from `read`, thrown from `write` and `delete`.
 */
export class LocalSecretStore implements WritableSecretStore, ListableSecretStore {
  /** Reported as `provider` in outcomes. */
  readonly provider = 'local'
  readonly #db: DatabaseSync
  readonly #key: KeyObject
  readonly #keyFile: string
  readonly #name: string
  #closed = false

  constructor(options: LocalSecretStoreOptions) {
    this.#name = `local store ${options.home}`
    this.#db = openDatabase(options.home, SECRETS_DB_FILE, options)
    try {
      this.#keyFile = join(options.home, KEY_FILE)
      this.#key = loadOrCreateKey(this.#keyFile)
      this.#db.exec(SCHEMA)
    } catch (error) {
      this.#db.close()
      throw toStoreError(error, this.#name)
    }
  }

  /** Reads a batch in one snapshot; each locator gets its own outcome, in order. */
  async read(locators: readonly SecretLocator[], options?: CallOptions): Promise<ReadOutcome[]> {
    options?.signal?.throwIfAborted()
    return this.#run('read', () => {
      // One read transaction: a batch never mixes versions from before and after a write.
      this.#db.exec('BEGIN')
      try {
        return locators.map((locator) => this.#readOne(locator))
      } finally {
        this.#db.exec('COMMIT')
      }
    })
  }

  /** Seals `value` as a new version, unless the newest version already holds it. */
  /** Compare-and-write is supported: the check runs inside the write transaction. */
  readonly conditionalWrites = true

  async write(key: string, value: SecretValue, options?: WriteOptions): Promise<WriteOutcome> {
    options?.signal?.throwIfAborted()
    assertKey(key)
    if (!(value instanceof SecretValue)) throw new TypeError('write takes a SecretValue')
    return this.#run(`write "${key}"`, () =>
      immediateTransaction(this.#db, () => {
        const newest = this.#newest(key)
        if (options?.ifVersion !== undefined) {
          const current = newest === undefined ? null : String(newest.version)
          if (current !== options.ifVersion) {
            throw new ConflictError(
              `secret "${key}" changed since it was read (expected ${options.ifVersion ?? 'no version'}, found ${current ?? 'none'})`,
            )
          }
        }
        if (newest !== undefined && this.#open(key, newest) === value.reveal()) {
          return { version: String(newest.version), changed: false }
        }
        const last = this.#db
          .prepare('SELECT last_version FROM secret_keys WHERE key = ?')
          .get(key) as { last_version: number } | undefined
        const version = Math.max(last?.last_version ?? 0, newest?.version ?? 0) + 1
        const sealed = sealValue(this.#key, value.reveal(), associatedData(key, version))
        this.#db
          .prepare(
            `INSERT INTO secret_keys (key, last_version) VALUES (?, ?)
             ON CONFLICT (key) DO UPDATE SET last_version = excluded.last_version`,
          )
          .run(key, version)
        this.#db
          .prepare(
            'INSERT INTO secret_versions (key, version, iv, ciphertext, created_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(key, version, sealed.iv, sealed.ciphertext, new Date().toISOString())
        return { version: String(version), changed: true }
      }),
    )
  }

  /** Deletes every version of `key`; a missing key is not an error. */
  async delete(key: string, options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    assertKey(key)
    this.#run(`delete "${key}"`, () => {
      this.#db.prepare('DELETE FROM secret_versions WHERE key = ?').run(key)
    })
  }

  /** Every key with its newest version and when that was written, sorted by key; no values. */
  async list(
    options?: CallOptions,
  ): Promise<{ key: string; version: string; updatedAt: string }[]> {
    options?.signal?.throwIfAborted()
    return this.#run('list', () => {
      const rows = this.#db
        .prepare(
          `SELECT key, version, created_at FROM secret_versions AS v
           WHERE version = (SELECT MAX(version) FROM secret_versions WHERE key = v.key)
           ORDER BY key`,
        )
        .all() as { key: string; version: number; created_at: string }[]
      return rows.map((row) => ({
        key: row.key,
        version: String(row.version),
        updatedAt: row.created_at,
      }))
    })
  }

  /** Ready when a trivial query on the database succeeds. Never rejects unless aborted. */
  async health(options?: CallOptions): Promise<StoreHealth> {
    options?.signal?.throwIfAborted()
    try {
      this.#run('health', () => this.#db.prepare('SELECT 1').get())
      return { status: 'ready' }
    } catch (error) {
      return { status: 'unavailable', message: (error as Error).message }
    }
  }

  /** Closes the database; later calls fail. Closing twice is harmless. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#db.close()
  }

  #readOne(locator: SecretLocator): ReadOutcome {
    const { key } = locator
    const problem = keyProblem(key)
    if (problem !== undefined) return { ok: false, key, error: invalidKeyError(problem) }
    if (locator.version === undefined) {
      const newest = this.#newest(key)
      if (newest === undefined) {
        return {
          ok: false,
          key,
          error: new NotFoundError(`secret "${key}" not found in the local store`),
        }
      }
      return this.#outcome(key, newest)
    }
    const version = parseVersion(locator.version)
    const row =
      version === undefined
        ? undefined
        : (this.#db
            .prepare(
              'SELECT version, iv, ciphertext FROM secret_versions WHERE key = ? AND version = ?',
            )
            .get(key, version) as VersionRow | undefined)
    if (row === undefined) {
      const message = `secret "${key}" has no version "${locator.version}" in the local store`
      return { ok: false, key, error: new NotFoundError(message) }
    }
    return this.#outcome(key, row)
  }

  #outcome(key: string, row: VersionRow): ReadOutcome {
    try {
      return {
        ok: true,
        key,
        version: String(row.version),
        value: new SecretValue(this.#open(key, row)),
      }
    } catch (error) {
      return { ok: false, key, error: toStoreError(error, this.#name) }
    }
  }

  #newest(key: string): VersionRow | undefined {
    return this.#db
      .prepare(
        'SELECT version, iv, ciphertext FROM secret_versions WHERE key = ? ORDER BY version DESC LIMIT 1',
      )
      .get(key) as VersionRow | undefined
  }

  /** Decrypts a row; a tag that fails to verify means the key file is not the one used. */
  #open(key: string, row: VersionRow): string {
    try {
      return openValue(this.#key, row, associatedData(key, row.version))
    } catch (error) {
      throw new InvalidConfigError(
        `secret "${key}" version "${row.version}" cannot be decrypted with ${this.#keyFile}: ` +
          'the key file was replaced or the database was altered',
        { cause: error },
      )
    }
  }

  #run<T>(operation: string, body: () => T): T {
    if (this.#closed)
      throw new BrokerError('INTERNAL', `${this.#name}: ${operation}: the store is closed`)
    try {
      return body()
    } catch (error) {
      throw toStoreError(error, `${this.#name}: ${operation}`)
    }
  }
}
