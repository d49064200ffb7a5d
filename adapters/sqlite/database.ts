/**
 * Opening `node:sqlite` databases under CAPBROKER_HOME, transactions, and the one place
 * where SQLite's native errors become BrokerErrors. Shared by the state store and the
 * local secret store, which both keep a file in the same home directory.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import {
  BrokerError,
  InvalidConfigError,
  toBrokerError,
  UnavailableError,
} from '../../broker/errors.ts'

/** How long a connection waits for another process's write lock before giving up. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000

/** Options for {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Wait this long for a lock held by another connection (CLI vs server); default 5 s. */
  readonly busyTimeoutMs?: number
}

/**
 * Makes sure `home` is a directory, creating it (and its parents) with mode 0700 when
 * missing. An existing directory keeps its mode: it may be shared on purpose.
 *
 * @throws InvalidConfigError when `home` exists but is not a directory, or cannot be created.
 */
export function ensureHome(home: string): void {
  let isDirectory: boolean | undefined
  try {
    isDirectory = statSync(home).isDirectory()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new InvalidConfigError(`capbroker home ${home} cannot be read`, { cause: error })
    }
  }
  if (isDirectory === false) {
    throw new InvalidConfigError(`capbroker home ${home} exists but is not a directory`)
  }
  if (isDirectory === true) return
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 })
    // mkdir's mode is filtered by the umask; the home holds key material, so set it exactly.
    chmodSync(home, 0o700)
  } catch (error) {
    throw new InvalidConfigError(`capbroker home ${home} cannot be created`, { cause: error })
  }
}

/**
 * Opens (creating when missing) `<home>/<file>` in WAL mode with a busy timeout, so the
 * CLI and the server can use one database at the same time: WAL readers never wait for
 * a writer, and writers queue for up to the busy timeout. A new database file gets mode
 * 0600; SQLite gives its `-wal` and `-shm` files the same mode.
 *
 * @throws InvalidConfigError when the home is not a usable directory or the file is not a database.
 */
export function openDatabase(
  home: string,
  file: string,
  options: OpenDatabaseOptions = {},
): DatabaseSync {
  ensureHome(home)
  const path = join(home, file)
  const isNew = !existsSync(path)
  let db: DatabaseSync | undefined
  try {
    db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS })
    if (isNew) chmodSync(path, 0o600)
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL')
    return cachePreparedStatements(db)
  } catch (error) {
    db?.close()
    const mapped = toStoreError(error, `database ${path}`)
    if (mapped instanceof InvalidConfigError) throw mapped
    throw new InvalidConfigError(`database ${path} cannot be opened`, { cause: error })
  }
}

/**
 * Makes `db.prepare(sql)` return one statement per SQL text for the life of the
 * connection, instead of compiling the SQL anew on every call: the stores and the
 * lifecycle module prepare the same few statements on every request. A `StatementSync`
 * is reusable — each `run`/`get`/`all` resets it and binds afresh — and with the
 * synchronous API no two uses of one statement can interleave (none of our callers
 * keeps an `iterate()` open across another use of the same SQL, nor changes a
 * statement's settings). `close()` forgets the statements (SQLite finalizes them);
 * `prepare` after `close()` throws as before. Statements prepared with options are not
 * cached. Returns `db` itself.
 */
export function cachePreparedStatements(db: DatabaseSync): DatabaseSync {
  const statements = new Map<string, StatementSync>()
  const prepare = db.prepare.bind(db)
  const close = db.close.bind(db)
  db.prepare = ((sql: string, ...rest: unknown[]) => {
    if (rest.length > 0 && rest[0] !== undefined)
      return (prepare as (...args: unknown[]) => StatementSync)(sql, ...rest)
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }) as DatabaseSync['prepare']
  db.close = () => {
    statements.clear()
    close()
  }
  return db
}

/**
 * Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back when it throws. IMMEDIATE
 * takes the write lock up front, so a read-then-write inside `body` cannot be raced by
 * another connection (that is what makes `claim` and "write only when changed" atomic).
 */
export function immediateTransaction<T>(db: DatabaseSync, body: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = body()
    db.exec('COMMIT')
    return result
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK')
    throw error
  }
}

/** A write waiting in a {@link WriteQueue}. */
interface PendingWrite {
  readonly operation: string
  readonly body: () => unknown
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
}

/**
 * Group commit for one connection: the writes queued during one turn of the event loop
 * run together in a single `BEGIN IMMEDIATE … COMMIT` at the next `setImmediate`, each
 * in a savepoint of its own, in the order they were queued.
 *
 * Why: every commit appends each page it changed to the WAL, and SQLite's automatic
 * checkpoint copies the WAL back and fsyncs it on the event loop (node:sqlite is
 * synchronous), stalling every request in flight. Concurrent requests change the same
 * few pages (the newest index leaves, the bindings, the audit log), so one commit for
 * all of them writes each page once instead of once per write: the WAL, and with it the
 * time spent checkpointing, shrinks with the number of writes that share a commit.
 * BENCHMARKS.md ("Where the embedded runtime's time goes") has the measurement.
 *
 * What a caller sees: its promise settles after the commit that included its write (as
 * durable as any commit under `synchronous = NORMAL` in WAL mode: it survives the
 * process, not necessarily a power cut), or with the error that failed it. A write that
 * throws is rolled back to its savepoint and rejected alone; the others in the batch
 * still commit. When the transaction itself fails (the lock not granted within the busy
 * timeout, an I/O error, a full disk — SQLite may end the whole transaction on the
 * latter two, whichever write hit it) every write in it is rejected and none is kept.
 * Until its promise settles a write is not visible, not even to a read on the same
 * connection: await it before reading what it wrote. `run` errors are mapped by
 * `toError`.
 */
export class WriteQueue {
  readonly #db: DatabaseSync
  readonly #toError: (error: unknown, operation: string) => BrokerError
  #pending: PendingWrite[] = []

  constructor(db: DatabaseSync, toError: (error: unknown, operation: string) => BrokerError) {
    this.#db = db
    this.#toError = toError
  }

  /** Queues `body` (synchronous SQLite work) for the next commit; settles after it. */
  run<T>(operation: string, body: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ operation, body, resolve: resolve as (v: unknown) => void, reject })
      if (this.#pending.length === 1) setImmediate(() => this.flush())
    })
  }

  /** Commits what is queued now (a no-op when nothing is); `close` calls it first. */
  flush(): void {
    const batch = this.#pending
    if (batch.length === 0) return
    this.#pending = []
    const db = this.#db
    const results: { ok: boolean; value: unknown }[] = []
    try {
      immediateTransaction(db, () => {
        for (const write of batch) {
          db.exec('SAVEPOINT capbroker_write')
          try {
            results.push({ ok: true, value: write.body() })
            db.exec('RELEASE capbroker_write')
          } catch (error) {
            // Some errors (a full disk, I/O) end the whole transaction: then nothing
            // in the batch is kept, and every write is failed below.
            if (!db.isTransaction) throw error
            db.exec('ROLLBACK TO capbroker_write')
            db.exec('RELEASE capbroker_write')
            results.push({ ok: false, value: error })
          }
        }
      })
    } catch (error) {
      for (const write of batch) write.reject(this.#toError(error, write.operation))
      return
    }
    batch.forEach((write, i) => {
      const { ok, value } = results[i] as { ok: boolean; value: unknown }
      if (ok) write.resolve(value)
      else write.reject(this.#toError(value, write.operation))
    })
  }
}

/** SQLite primary result codes (the low byte of an extended code) we treat specially. */
const SQLITE = {
  PERM: 3,
  BUSY: 5,
  LOCKED: 6,
  READONLY: 8,
  IOERR: 10,
  CORRUPT: 11,
  FULL: 13,
  CANTOPEN: 14,
  PROTOCOL: 15,
  NOTADB: 26,
} as const

/**
 * Maps a thrown SQLite (or other) error to a BrokerError. SQLite's messages name the
 * problem, never a bound parameter, but we still write our own message and keep the
 * native error as `cause` only.
 *
 * @param context what was being done, e.g. `local store /home/x/.capbroker: read "apps/a"`.
 */
export function toStoreError(error: unknown, context: string): BrokerError {
  if (error instanceof BrokerError) return error
  const native = error as { code?: unknown; errcode?: unknown }
  if (native?.code === 'ERR_INVALID_STATE') {
    return new BrokerError('INTERNAL', `${context}: the database is closed`, { cause: error })
  }
  if (native?.code !== 'ERR_SQLITE_ERROR' || typeof native.errcode !== 'number') {
    return toBrokerError(error, context)
  }
  switch (native.errcode & 0xff) {
    case SQLITE.BUSY:
    case SQLITE.LOCKED:
      return new UnavailableError(`${context}: the database is locked by another process`, {
        cause: error,
      })
    case SQLITE.IOERR:
    case SQLITE.PROTOCOL:
      return new UnavailableError(`${context}: I/O error`, { cause: error })
    case SQLITE.FULL:
      return new BrokerError('INTERNAL', `${context}: the disk is full`, { cause: error })
    case SQLITE.PERM:
    case SQLITE.READONLY:
    case SQLITE.CANTOPEN:
      return new InvalidConfigError(`${context}: the database file cannot be opened for writing`, {
        cause: error,
      })
    case SQLITE.CORRUPT:
    case SQLITE.NOTADB:
      return new InvalidConfigError(`${context}: the file is not a valid database`, {
        cause: error,
      })
    default:
      return new BrokerError('INTERNAL', `${context}: database error`, { cause: error })
  }
}
