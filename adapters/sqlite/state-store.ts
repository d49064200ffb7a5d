/**
 * The embedded StateStore: request claims, recorded outcomes and binding records in
 * `<home>/state.db` (node:sqlite, no native addon). What it stores is names and
 * metadata only; a value never reaches it.
 */
import type { DatabaseSync } from 'node:sqlite'
import { BrokerError } from '../../broker/errors.ts'
import type {
  AuditEntry,
  BindingQuery,
  BindingRecord,
  BindingTarget,
  BindingUpdate,
  Claim,
  LifecycleState,
  RecordedOutcome,
  RequestKey,
  StateStore,
} from '../../broker/ports.ts'
import { type OpenDatabaseOptions, openDatabase, toStoreError, WriteQueue } from './database.ts'
import * as lifecycle from './lifecycle.ts'
import { createStateSchema } from './state-schema.ts'

/** Options for {@link SqliteStateStore}. */
export interface SqliteStateStoreOptions extends OpenDatabaseOptions {
  /** The capbroker home (CAPBROKER_HOME, default `.capbroker/`); the file is `<home>/state.db`. */
  readonly home: string
}

/** The file name of the state database inside the home directory. */
export const STATE_DB_FILE = 'state.db'

interface RequestRow {
  status: 'in-progress' | 'completed'
  outcome: string | null
}

/**
 * {@link StateStore} on SQLite. Reads run synchronously inside their promise. Writes
 * (`claim`, `complete`, `abandon`, the binding and audit writes) go through a
 * {@link WriteQueue}: those queued in one turn of the event loop share one
 * `BEGIN IMMEDIATE … COMMIT`, each write in a savepoint of its own and in the order it
 * was made, and each promise settles once its write is committed. Within one process
 * writes never interleave; across processes `BEGIN IMMEDIATE` serialises the
 * read-then-write of `claim` and `complete`.
 *
 * The constructor opens (and creates) the database, so a bad home fails at once with
 * an InvalidConfigError. It also upgrades a database of an older layout
 * (createStateSchema): once, holding the write lock while it copies the requests table.
 * A lock held longer than the busy timeout — by a call, or by another process's
 * upgrade when constructing — gives an UnavailableError (retryable).
 */
export class SqliteStateStore implements StateStore, LifecycleState {
  readonly #db: DatabaseSync
  readonly #location: string
  readonly #writes: WriteQueue
  #closed = false

  constructor(options: SqliteStateStoreOptions) {
    this.#location = `state store ${options.home}`
    this.#db = openDatabase(options.home, STATE_DB_FILE, options)
    try {
      createStateSchema(this.#db, this.#location)
    } catch (error) {
      this.#db.close()
      throw toStoreError(error, `${this.#location}: creating or upgrading the schema`)
    }
    this.#writes = new WriteQueue(this.#db, (error, operation) =>
      toStoreError(error, `${this.#location}: ${operation}`),
    )
  }

  /** Claims a request for processing; see {@link StateStore.claim}. */
  async claim(key: RequestKey, options: { now: Date; leaseMs: number }): Promise<Claim> {
    if (!(options.leaseMs > 0)) throw new RangeError('leaseMs must be a positive number')
    const now = options.now.getTime()
    return this.#write('claim', () => {
      this.#db
        .prepare(
          `DELETE FROM requests
             WHERE (status = 'completed' AND expires_at <= ?)
                OR (status = 'in-progress' AND lease_until <= ?)`,
        )
        .run(now, now)
      const row = this.#db
        .prepare('SELECT status, outcome FROM requests WHERE source = ? AND id = ?')
        .get(key.source, key.id) as RequestRow | undefined
      if (row?.status === 'completed') {
        return {
          status: 'completed',
          outcome: JSON.parse(row.outcome ?? '{}') as RecordedOutcome,
        }
      }
      if (row?.status === 'in-progress') return { status: 'in-progress' }
      this.#db
        .prepare(
          `INSERT INTO requests (source, id, status, lease_until) VALUES (?, ?, 'in-progress', ?)`,
        )
        .run(key.source, key.id, now + options.leaseMs)
      return { status: 'claimed' }
    })
  }

  /** Records the outcome and upserts the binding records in one transaction. */
  async complete(
    key: RequestKey,
    outcome: RecordedOutcome,
    bindings: readonly BindingRecord[],
    options: { now: Date; ttlMs: number },
  ): Promise<void> {
    const completedAt = Date.parse(outcome.completedAt)
    const expiresAt =
      (Number.isNaN(completedAt) ? options.now.getTime() : completedAt) + options.ttlMs
    const outcomeJson = JSON.stringify({ events: outcome.events, completedAt: outcome.completedAt })
    return this.#write('complete', () => {
      this.#db
        .prepare(
          `INSERT INTO requests (source, id, status, lease_until, outcome, completed_at, expires_at)
             VALUES (?, ?, 'completed', NULL, ?, ?, ?)
             ON CONFLICT (source, id) DO UPDATE SET
               status = 'completed', lease_until = NULL, outcome = excluded.outcome,
               completed_at = excluded.completed_at, expires_at = excluded.expires_at`,
        )
        .run(key.source, key.id, outcomeJson, outcome.completedAt, expiresAt)
      const upsert = this.#db.prepare(
        `INSERT INTO bindings (app, environment, name, record) VALUES (?, ?, ?, ?)
           ON CONFLICT (app, environment, name) DO UPDATE SET record = excluded.record`,
      )
      for (const binding of bindings) {
        upsert.run(binding.app, binding.environment, binding.name, JSON.stringify(binding))
      }
    })
  }

  /** Deletes an in-progress claim; a completed request stays recorded. */
  async abandon(key: RequestKey): Promise<void> {
    return this.#write('abandon', () => {
      this.#db
        .prepare(`DELETE FROM requests WHERE source = ? AND id = ? AND status = 'in-progress'`)
        .run(key.source, key.id)
    })
  }

  /** The target's binding records, sorted by name. */
  async listBindings(target: BindingTarget): Promise<BindingRecord[]> {
    return this.#run('listBindings', () => {
      const rows = this.#db
        .prepare(
          'SELECT record FROM bindings WHERE app = ? AND environment = ? ORDER BY name COLLATE BINARY',
        )
        .all(target.app, target.environment) as { record: string }[]
      return rows.map((row) => JSON.parse(row.record) as BindingRecord)
    })
  }

  /** Deletes the named binding records; names without a record are ignored. */
  async removeBindings(target: BindingTarget, names: readonly string[]): Promise<void> {
    return this.#write('removeBindings', () => {
      const remove = this.#db.prepare(
        'DELETE FROM bindings WHERE app = ? AND environment = ? AND name = ?',
      )
      for (const name of names) remove.run(target.app, target.environment, name)
    })
  }

  /** Bindings across apps, or of one source; see {@link LifecycleState.findBindings}. */
  async findBindings(query: BindingQuery): Promise<BindingRecord[]> {
    return this.#run('findBindings', () => lifecycle.findBindings(this.#db, query))
  }

  /** Compare-and-write of one binding; see {@link LifecycleState.updateBinding}. */
  async updateBinding(record: BindingRecord, expectedInjectedAt: string): Promise<BindingUpdate> {
    return this.#write('updateBinding', () =>
      lifecycle.updateBinding(this.#db, record, expectedInjectedAt),
    )
  }

  /** Appends to the audit log. */
  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return
    return this.#write('appendAudit', () => lifecycle.appendAudit(this.#db, entries))
  }

  /** The newest entries of a target's audit log, oldest first. */
  async listAudit(target: BindingTarget, options: { limit?: number } = {}): Promise<AuditEntry[]> {
    return this.#run('listAudit', () => lifecycle.listAudit(this.#db, target, options.limit))
  }

  /**
   * Commits the writes still queued, then closes the database; later calls fail.
   * Closing twice is harmless.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#writes.flush()
    this.#db.close()
  }

  #write<T>(operation: string, body: () => T): Promise<T> {
    this.#assertOpen(operation)
    return this.#writes.run(operation, body)
  }

  #assertOpen(operation: string): void {
    if (this.#closed) {
      throw new BrokerError('INTERNAL', `${this.#location}: ${operation}: the store is closed`)
    }
  }

  #run<T>(operation: string, body: () => T): T {
    this.#assertOpen(operation)
    try {
      return body()
    } catch (error) {
      throw toStoreError(error, `${this.#location}: ${operation}`)
    }
  }
}
