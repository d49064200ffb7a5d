/**
 * The lifecycle tables of the embedded state (see LifecycleState): binding lookups
 * across apps and by source, compare-and-write of one binding, and the audit log.
 * Functions over the state store's connection, kept apart so each file stays small.
 * The writes run inside the caller's transaction (the state store's WriteQueue).
 */
import type { DatabaseSync } from 'node:sqlite'
import type {
  AuditEntry,
  BindingQuery,
  BindingRecord,
  BindingTarget,
  BindingUpdate,
} from '../../broker/ports.ts'

/**
 * The audit log: one row per entry, in insertion order. An index on the target and the
 * time serves `capbroker audit` (the newest entries of one app in one environment).
 */
export const LIFECYCLE_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  app TEXT NOT NULL,
  environment TEXT NOT NULL,
  time TEXT NOT NULL,
  entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_target ON audit (app, environment, time, seq);
`

/** The most audit entries one call returns. */
export const MAX_AUDIT_LIMIT = 10_000

const parse = (rows: { record: string }[]) => rows.map((r) => JSON.parse(r.record) as BindingRecord)

/** Bindings by source, or by app and environment (either may be absent). */
export function findBindings(db: DatabaseSync, query: BindingQuery): BindingRecord[] {
  if (query.source !== undefined) {
    // Records are JSON; the embedded state holds few enough bindings to scan them.
    const rows = db
      .prepare(
        `SELECT record FROM bindings
         WHERE json_extract(record, '$.store') = ? AND json_extract(record, '$.key') = ?
         ORDER BY app, environment, name COLLATE BINARY`,
      )
      .all(query.source.store, query.source.key) as { record: string }[]
    return parse(rows)
  }
  const rows = db
    .prepare(
      `SELECT record FROM bindings
       WHERE (?1 IS NULL OR app = ?1) AND (?2 IS NULL OR environment = ?2)
       ORDER BY app, environment, name COLLATE BINARY`,
    )
    .all(query.app ?? null, query.environment ?? null) as { record: string }[]
  return parse(rows)
}

/**
 * Replaces one record if it is still there with the `injectedAt` the caller read. Run it
 * in a write transaction, so that nothing changes the record between read and write.
 */
export function updateBinding(
  db: DatabaseSync,
  record: BindingRecord,
  expectedInjectedAt: string,
): BindingUpdate {
  const row = db
    .prepare('SELECT record FROM bindings WHERE app = ? AND environment = ? AND name = ?')
    .get(record.app, record.environment, record.name) as { record: string } | undefined
  if (row === undefined) return 'missing'
  const current = JSON.parse(row.record) as BindingRecord
  if (current.injectedAt !== expectedInjectedAt) return 'changed'
  db.prepare('UPDATE bindings SET record = ? WHERE app = ? AND environment = ? AND name = ?').run(
    JSON.stringify(record),
    record.app,
    record.environment,
    record.name,
  )
  return 'updated'
}

/** Appends entries (all or none: run it in a transaction). */
export function appendAudit(db: DatabaseSync, entries: readonly AuditEntry[]): void {
  const insert = db.prepare('INSERT INTO audit (app, environment, time, entry) VALUES (?, ?, ?, ?)')
  for (const entry of entries)
    insert.run(entry.app, entry.environment, entry.time, JSON.stringify(entry))
}

/** The newest `limit` entries of a target, oldest first. */
export function listAudit(db: DatabaseSync, target: BindingTarget, limit = 100): AuditEntry[] {
  const bounded = Math.max(1, Math.min(MAX_AUDIT_LIMIT, Math.floor(limit)))
  const rows = db
    .prepare(
      `SELECT entry FROM audit WHERE app = ? AND environment = ?
       ORDER BY time DESC, seq DESC LIMIT ?`,
    )
    .all(target.app, target.environment, bounded) as { entry: string }[]
  return rows.map((r) => JSON.parse(r.entry) as AuditEntry).reverse()
}
