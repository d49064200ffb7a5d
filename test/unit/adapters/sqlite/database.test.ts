import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, toStoreError } from '../../../../adapters/sqlite/database.ts'

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
