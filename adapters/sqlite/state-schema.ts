/**
 * The embedded state's tables, and the one migration they have had. `PRAGMA
 * user_version` is the layout's version: 0 for a database from before it was kept
 * (or a new file), {@link STATE_SCHEMA_VERSION} once {@link createStateSchema} ran.
 */
import type { DatabaseSync } from 'node:sqlite'
import { InvalidConfigError } from '../../broker/errors.ts'
import { immediateTransaction } from './database.ts'
import { LIFECYCLE_SCHEMA } from './lifecycle.ts'

/**
 * The layout {@link createStateSchema} leaves behind. A database at this version is not
 * touched, its `CREATE … IF NOT EXISTS` statements not even run: a new table or index
 * (here or in LIFECYCLE_SCHEMA) needs a new version, and its step below.
 */
export const STATE_SCHEMA_VERSION = 1

/*
 * One row per request: `lease_until` bounds an in-progress claim, `expires_at` a
 * completed one. A row past either is treated as absent and purged lazily by `claim`,
 * which keeps the table as small as the live idempotency window.
 *
 * `requests` is a rowid table with a unique index on (source, id), not a WITHOUT ROWID
 * table keyed by them as it was in version 0: a completed row carries its outcome
 * events (a kilobyte or more), which in a WITHOUT ROWID table spill into an overflow
 * page of their own and split the leaves of the random (source, id) order. In a rowid
 * table, rows claimed together sit together at the end of the table, so the requests
 * committed in one transaction share their pages: with the WriteQueue, 8.0 → 5.2 WAL
 * frames per request (the pipeline benchmark's requests, 8 in flight).
 */
const REQUESTS = `
CREATE TABLE IF NOT EXISTS requests (
  source TEXT NOT NULL,
  id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('in-progress', 'completed')),
  lease_until INTEGER,
  outcome TEXT,
  completed_at TEXT,
  expires_at INTEGER,
  UNIQUE (source, id)
);
CREATE INDEX IF NOT EXISTS requests_expired ON requests (expires_at) WHERE status = 'completed';
CREATE INDEX IF NOT EXISTS requests_lease ON requests (lease_until) WHERE status = 'in-progress';
`

const BINDINGS = `
CREATE TABLE IF NOT EXISTS bindings (
  app TEXT NOT NULL,
  environment TEXT NOT NULL,
  name TEXT NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (app, environment, name)
) WITHOUT ROWID;
`

const COLUMNS = 'source, id, status, lease_until, outcome, completed_at, expires_at'

/**
 * Creates the tables that are missing and brings a version-0 database to the current
 * layout, in one write transaction: another process opening the same file at the same
 * time waits for it (up to the busy timeout) and then finds the work done. A version-0
 * `requests` table is copied row for row into the new layout, so recorded outcomes and
 * live claims survive the upgrade. A database newer than this code is refused.
 *
 * @param location names the database in errors, e.g. `state store /home/x/.capbroker`.
 * @throws InvalidConfigError when the database's layout is newer than this code's.
 */
export function createStateSchema(db: DatabaseSync, location: string): void {
  // Without taking the write lock: the common case (the layout is current), and a
  // layout too new (refused as such, not as a lock another process holds).
  if (checkedVersion(db, location) === STATE_SCHEMA_VERSION) return
  immediateTransaction(db, () => {
    const version = checkedVersion(db, location)
    // Version 0's requests table is moved aside, the tables created, and its rows copied.
    const upgrade = version < 1 && isWithoutRowid(db, 'requests')
    if (upgrade) {
      db.exec('ALTER TABLE requests RENAME TO requests_v0')
      db.exec('DROP INDEX IF EXISTS requests_expired; DROP INDEX IF EXISTS requests_lease')
    }
    db.exec(REQUESTS + BINDINGS + LIFECYCLE_SCHEMA)
    if (upgrade) {
      db.exec(`INSERT INTO requests (${COLUMNS}) SELECT ${COLUMNS} FROM requests_v0`)
      db.exec('DROP TABLE requests_v0')
    }
    db.exec(`PRAGMA user_version = ${STATE_SCHEMA_VERSION}`)
  })
}

/** The database's layout version; throws when it is newer than this code's. */
function checkedVersion(db: DatabaseSync, location: string): number {
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
  if (version > STATE_SCHEMA_VERSION) {
    throw new InvalidConfigError(
      `${location}: the database has layout version ${version}, newer than this capbroker knows (${STATE_SCHEMA_VERSION}): upgrade capbroker`,
    )
  }
  return version
}

function isWithoutRowid(db: DatabaseSync, table: string): boolean {
  const row = db
    .prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`)
    .get(table) as { sql: string } | undefined
  return row !== undefined && /\bWITHOUT\s+ROWID\b/i.test(row.sql)
}
