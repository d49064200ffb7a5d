import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SqliteStateStore, STATE_DB_FILE } from '../../../../adapters/sqlite/index.ts'
import type { BindingRecord, RecordedOutcome, RequestKey } from '../../../../broker/ports.ts'
import { buildEvent, EventTypes } from '../../../../events/index.ts'

const run = promisify(execFile)
const T0 = new Date('2026-01-01T00:00:00.000Z')
const at = (ms: number) => new Date(T0.getTime() + ms)
const key: RequestKey = { source: '/apps/checkout', id: 'evt-1' }
const lease = { leaseMs: 1_000 }

let home: string
const stores: SqliteStateStore[] = []
const open = (): SqliteStateStore => {
  const store = new SqliteStateStore({ home })
  stores.push(store)
  return store
}

function outcomeFor(request: RequestKey, completedAt = T0.toISOString()): RecordedOutcome {
  const event = buildEvent(
    EventTypes.resolved,
    { id: `out-${request.id}`, source: 'capbroker', time: completedAt },
    { app: 'checkout', environment: 'dev', request: { ...request }, capabilities: [] },
  )
  return { events: [event], completedAt }
}

function record(name: string, overrides: Partial<BindingRecord> = {}): BindingRecord {
  return {
    app: 'checkout',
    environment: 'dev',
    name,
    type: 'postgres',
    provider: 'local',
    store: 'local',
    key: `postgres/${name}`,
    version: '1',
    entries: ['host', 'password'],
    secretEntries: ['password'],
    sink: 'service-binding',
    location: '/tmp/bindings/checkout/dev',
    injectedAt: T0.toISOString(),
    request: key,
    ...overrides,
  }
}

beforeEach(() => {
  home = join(mkdtempSync(join(tmpdir(), 'capbroker-state-')), 'home')
})
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
  rmSync(join(home, '..'), { recursive: true, force: true })
})

describe('SqliteStateStore claims', () => {
  it('claims once, reports in-progress, then the recorded outcome', async () => {
    const store = open()
    expect(await store.claim(key, { now: T0, ...lease })).toEqual({ status: 'claimed' })
    expect(await store.claim(key, { now: at(1), ...lease })).toEqual({ status: 'in-progress' })
    const outcome = outcomeFor(key)
    await store.complete(key, outcome, [], { now: at(2), ttlMs: 60_000 })
    expect(await store.claim(key, { now: at(3), ...lease })).toEqual({
      status: 'completed',
      outcome,
    })
  })

  it('lets a redelivery claim again after abandon, but keeps a completed request', async () => {
    const store = open()
    await store.claim(key, { now: T0, ...lease })
    await store.abandon(key)
    expect(await store.claim(key, { now: at(1), ...lease })).toEqual({ status: 'claimed' })
    await store.complete(key, outcomeFor(key), [], { now: at(2), ttlMs: 60_000 })
    await store.abandon(key)
    expect(await store.claim(key, { now: at(3), ...lease })).toMatchObject({ status: 'completed' })
  })

  it('hands a claim whose lease ran out to the next caller', async () => {
    const store = open()
    await store.claim(key, { now: T0, ...lease })
    expect(await store.claim(key, { now: at(999), ...lease })).toEqual({ status: 'in-progress' })
    expect(await store.claim(key, { now: at(1_000), ...lease })).toEqual({ status: 'claimed' })
    expect(await store.claim(key, { now: at(1_001), ...lease })).toEqual({ status: 'in-progress' })
  })

  it('forgets a completed request after its TTL and purges expired rows', async () => {
    const store = open()
    const other = { source: '/apps/other', id: 'evt-9' }
    for (const request of [key, other]) {
      await store.claim(request, { now: T0, ...lease })
      await store.complete(request, outcomeFor(request), [], { now: T0, ttlMs: 5_000 })
    }
    expect(await store.claim(key, { now: at(4_999), ...lease })).toMatchObject({
      status: 'completed',
    })
    expect(await store.claim(key, { now: at(5_000), ...lease })).toEqual({ status: 'claimed' })
    const raw = new DatabaseSync(join(home, STATE_DB_FILE))
    const rows = raw.prepare('SELECT source FROM requests').all()
    raw.close()
    expect(rows).toEqual([{ source: key.source }]) // `other` was purged, not just ignored
  })

  it('gives exactly one of two connections the claim', async () => {
    const [a, b] = [open(), open()]
    const results = await Promise.all([
      a.claim(key, { now: T0, ...lease }),
      b.claim(key, { now: T0, ...lease }),
    ])
    expect(results.map((r) => r.status).sort()).toEqual(['claimed', 'in-progress'])
  })

  it('gives exactly one of several racing processes the claim', async () => {
    open() // creates the schema first, so the race is about the claim only
    const module = pathToFileURL(
      join(import.meta.dirname, '../../../../adapters/sqlite/index.ts'),
    ).href
    const script = `
      const { SqliteStateStore } = await import(${JSON.stringify(module)})
      const store = new SqliteStateStore({ home: ${JSON.stringify(home)} })
      const start = Number(process.argv[1])
      while (Date.now() < start) {}
      const claim = await store.claim(${JSON.stringify(key)}, { now: new Date(), leaseMs: 60000 })
      await store.close()
      process.stdout.write(claim.status)`
    const start = String(Date.now() + 500)
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        run(process.execPath, ['--input-type=module', '-e', script, start]),
      ),
    )
    const statuses = results.map((r) => r.stdout).sort()
    expect(statuses).toEqual(['claimed', ...Array(5).fill('in-progress')])
  })
})

describe('SqliteStateStore bindings', () => {
  const target = { app: 'checkout', environment: 'dev' }

  it('records bindings with the outcome and lists them sorted by name', async () => {
    const store = open()
    await store.claim(key, { now: T0, ...lease })
    await store.complete(key, outcomeFor(key), [record('orders-db'), record('cache')], {
      now: T0,
      ttlMs: 1_000,
    })
    await store.complete(
      { ...key, id: 'x' },
      outcomeFor(key),
      [record('api', { environment: 'prod' })],
      {
        now: T0,
        ttlMs: 1_000,
      },
    )
    expect(await store.listBindings(target)).toEqual([record('cache'), record('orders-db')])
  })

  it('replaces a binding record of the same name, and removes only the named ones', async () => {
    const store = open()
    await store.complete(key, outcomeFor(key), [record('a'), record('b'), record('c')], {
      now: T0,
      ttlMs: 1,
    })
    await store.complete(key, outcomeFor(key), [record('b', { version: '2' })], {
      now: T0,
      ttlMs: 1,
    })
    expect((await store.listBindings(target)).map((r) => [r.name, r.version])).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '1'],
    ])
    await store.removeBindings(target, ['a', 'c', 'missing'])
    expect((await store.listBindings(target)).map((r) => r.name)).toEqual(['b'])
  })

  it('records nothing when a binding cannot be stored: outcome and bindings go together', async () => {
    const store = open()
    await store.claim(key, { now: T0, ...lease })
    const unstorable = { ...record('bad'), version: 1n } as unknown as BindingRecord
    await expect(
      store.complete(key, outcomeFor(key), [record('good'), unstorable], { now: T0, ttlMs: 1_000 }),
    ).rejects.toThrow()
    expect(await store.listBindings(target)).toEqual([])
    expect(await store.claim(key, { now: at(1), ...lease })).toEqual({ status: 'in-progress' })
  })

  it('keeps the database private and survives reopening', async () => {
    await open().complete(key, outcomeFor(key), [record('a')], { now: T0, ttlMs: 60_000 })
    for (const store of stores.splice(0)) await store.close()
    expect(statSync(home).mode & 0o777).toBe(0o700)
    expect(statSync(join(home, STATE_DB_FILE)).mode & 0o777).toBe(0o600)
    expect(await open().listBindings(target)).toEqual([record('a')])
  })

  it('commits the writes still queued when it is closed', async () => {
    const store = open()
    const written = store.complete(key, outcomeFor(key), [record('a')], { now: T0, ttlMs: 60_000 })
    await store.close()
    await expect(written).resolves.toBeUndefined()
    expect(await open().listBindings(target)).toEqual([record('a')])
  })

  it('fails calls after close', async () => {
    const store = open()
    await store.close()
    await expect(store.listBindings(target)).rejects.toMatchObject({ code: 'INTERNAL' })
  })
})

describe('SqliteStateStore layout', () => {
  // The layout of state.db before it had a version (user_version 0).
  const VERSION_0 = `
    CREATE TABLE requests (
      source TEXT NOT NULL, id TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('in-progress', 'completed')),
      lease_until INTEGER, outcome TEXT, completed_at TEXT, expires_at INTEGER,
      PRIMARY KEY (source, id)
    ) WITHOUT ROWID;
    CREATE INDEX requests_expired ON requests (expires_at) WHERE status = 'completed';
    CREATE INDEX requests_lease ON requests (lease_until) WHERE status = 'in-progress';
    CREATE TABLE bindings (
      app TEXT NOT NULL, environment TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL,
      PRIMARY KEY (app, environment, name)
    ) WITHOUT ROWID;
    CREATE TABLE audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL, environment TEXT NOT NULL,
      time TEXT NOT NULL, entry TEXT NOT NULL
    );
    CREATE INDEX audit_target ON audit (app, environment, time, seq);`
  const raw = () => new DatabaseSync(join(home, STATE_DB_FILE))

  it('upgrades a database from before the layout had a version, keeping what it recorded', async () => {
    mkdirSync(home, { recursive: true })
    const done = { source: '/apps/checkout', id: 'done' }
    const running = { source: '/apps/checkout', id: 'running' }
    const outcome = outcomeFor(done)
    const old = raw()
    old.exec(VERSION_0)
    const insert = old.prepare('INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?, ?)')
    insert.run(
      done.source,
      done.id,
      'completed',
      null,
      JSON.stringify(outcome),
      T0.toISOString(),
      at(60_000).getTime(),
    )
    insert.run(running.source, running.id, 'in-progress', at(60_000).getTime(), null, null, null)
    old
      .prepare('INSERT INTO bindings VALUES (?, ?, ?, ?)')
      .run('checkout', 'dev', 'a', JSON.stringify(record('a')))
    old.close()

    const store = open()
    expect(await store.claim(done, { now: at(1), ...lease })).toEqual({
      status: 'completed',
      outcome,
    })
    expect(await store.claim(running, { now: at(1), ...lease })).toEqual({ status: 'in-progress' })
    expect(await store.listBindings({ app: 'checkout', environment: 'dev' })).toEqual([record('a')])
    const upgraded = raw()
    expect(upgraded.prepare('PRAGMA user_version').get()).toEqual({ user_version: 1 })
    const schema = upgraded
      .prepare(`SELECT name, sql FROM sqlite_schema WHERE tbl_name = 'requests' ORDER BY name`)
      .all() as { name: string; sql: string | null }[]
    upgraded.close()
    expect(schema.map((r) => r.name)).toEqual([
      'requests',
      'requests_expired',
      'requests_lease',
      'sqlite_autoindex_requests_1',
    ])
    expect(schema[0]?.sql).not.toMatch(/WITHOUT ROWID/)

    // Opening it again changes nothing.
    await store.close()
    expect(await open().claim(done, { now: at(2), ...lease })).toEqual({
      status: 'completed',
      outcome,
    })
  })

  it('refuses a database written by a newer capbroker, and says so — even while it is busy', async () => {
    await open().close()
    const newer = raw()
    newer.exec('PRAGMA user_version = 2')
    newer.exec('BEGIN IMMEDIATE') // a newer capbroker at work on it
    const refusal = expect.objectContaining({
      code: 'INVALID_CONFIG',
      message: `state store ${home}: the database has layout version 2, newer than this capbroker knows (1): upgrade capbroker`,
    })
    expect(() => new SqliteStateStore({ home, busyTimeoutMs: 10 })).toThrow(refusal)
    newer.exec('ROLLBACK')
    newer.close()
    expect(() => open()).toThrow(refusal)
  })
})
