import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, toStoreError, WriteQueue } from '../../../../adapters/sqlite/database.ts'

let home: string
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'capbroker-db-'))
})
afterEach(() => rmSync(home, { recursive: true, force: true }))

describe('openDatabase: one prepared statement per SQL text', () => {
  it('returns the same statement for the same SQL, and it stays reusable', () => {
    const db = openDatabase(home, 'test.db')
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)')
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)')
    expect(db.prepare('INSERT INTO t (k, v) VALUES (?, ?)')).toBe(insert)
    expect(db.prepare('SELECT v FROM t WHERE k = ?')).not.toBe(insert)
    for (let i = 0; i < 5; i++) db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(`k${i}`, i)
    // A failed run leaves the statement usable for the next one.
    expect(() => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('k0', 9)).toThrow()
    db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('k5', 5)
    const select = db.prepare('SELECT v FROM t WHERE k = ?')
    expect(select.get('k3')).toEqual({ v: 3 })
    expect(db.prepare('SELECT v FROM t WHERE k = ?').get('k5')).toEqual({ v: 5 })
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 6 })
    db.close()
  })

  it('forgets its statements on close: using the database afterwards fails as closed', () => {
    const db = openDatabase(home, 'test.db')
    const statement = db.prepare('SELECT 1 AS one')
    expect(statement.get()).toEqual({ one: 1 })
    db.close()
    let thrown: unknown
    try {
      db.prepare('SELECT 1 AS one')
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeDefined()
    expect(toStoreError(thrown, 'test').message).toBe('test: the database is closed')
    expect(() => statement.get()).toThrow()
  })
})

describe('WriteQueue: group commit', () => {
  const open = (busyTimeoutMs?: number) => {
    const db = openDatabase(home, 'test.db', busyTimeoutMs === undefined ? {} : { busyTimeoutMs })
    db.exec('CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY)')
    return db
  }
  const queueOn = (db: DatabaseSync) =>
    new WriteQueue(db, (error, operation) => toStoreError(error, `test: ${operation}`))
  const insert = (db: DatabaseSync, k: string) => () => {
    db.prepare('INSERT INTO t (k) VALUES (?)').run(k)
    return k
  }
  const keys = (db: DatabaseSync) =>
    (db.prepare('SELECT k FROM t ORDER BY k').all() as { k: string }[]).map((r) => r.k)

  it('commits the writes of one turn together, in order; a failing one is rolled back alone', async () => {
    const db = open()
    const observer = open()
    const queue = queueOn(db)
    const writes = [
      queue.run('first', insert(db, 'a')),
      queue.run('second', () => {
        insert(db, 'b')()
        insert(db, 'a')() // a duplicate key: this write fails, after writing "b"
      }),
      queue.run('third', () => keys(db)), // sees "a", not the rolled-back "b"
      queue.run('fourth', insert(db, 'c')),
    ]
    expect(keys(observer)).toEqual([]) // nothing is written before the commit
    await writes[0]
    expect(keys(observer)).toEqual(['a', 'c']) // the first settles with the whole batch
    const settled = await Promise.allSettled(writes)
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ])
    expect((settled[0] as PromiseFulfilledResult<string>).value).toBe('a')
    expect((settled[2] as PromiseFulfilledResult<string[]>).value).toEqual(['a'])
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({
      code: 'INTERNAL',
      message: 'test: second: database error',
    })
    expect(keys(observer)).toEqual(['a', 'c'])
    observer.close()
    db.close()
  })

  it('fails every write of a transaction a full disk ends, with that error, keeps none, and goes on', async () => {
    const db = open()
    const { page_count: pages } = db.prepare('PRAGMA page_count').get() as { page_count: number }
    db.exec(`PRAGMA max_page_count = ${pages}`) // the database may not grow: a "full disk"
    const queue = queueOn(db)
    const settled = await Promise.allSettled([
      queue.run('first', insert(db, 'a')),
      queue.run('second', insert(db, 'b'.repeat(100_000))), // needs pages it cannot have
      queue.run('third', insert(db, 'c')),
    ])
    // SQLite ends the whole transaction on SQLITE_FULL: the first write is gone too, and
    // the third never ran. Each caller learns why.
    expect(settled.map((s) => (s as PromiseRejectedResult).reason?.message)).toEqual([
      'test: first: the disk is full',
      'test: second: the disk is full',
      'test: third: the disk is full',
    ])
    expect(keys(db)).toEqual([])
    db.exec('PRAGMA max_page_count = 1000000')
    expect(await queue.run('again', insert(db, 'd'))).toBe('d')
    expect(keys(db)).toEqual(['d'])
    db.close()
  })

  it('fails the batch as unavailable when another connection holds the write lock', async () => {
    const db = open(20)
    const other = open()
    other.exec('BEGIN IMMEDIATE')
    const queue = queueOn(db)
    const settled = await Promise.allSettled([
      queue.run('first', insert(db, 'a')),
      queue.run('second', insert(db, 'b')),
    ])
    for (const s of settled) {
      expect((s as PromiseRejectedResult).reason).toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringContaining('locked by another process'),
      })
    }
    other.exec('ROLLBACK')
    expect(await queue.run('later', insert(db, 'a'))).toBe('a')
    expect(keys(other)).toEqual(['a'])
    other.close()
    db.close()
  })

  it('flush commits what is queued at once', async () => {
    const db = open()
    const queue = queueOn(db)
    const write = queue.run('first', insert(db, 'a'))
    queue.flush()
    expect(keys(db)).toEqual(['a'])
    await expect(write).resolves.toBe('a')
    queue.flush() // nothing queued: nothing happens
    db.close()
  })
})
