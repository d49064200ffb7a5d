import { spawn } from 'node:child_process'
import { once } from 'node:events'
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { KEY_FILE, LocalSecretStore, SECRETS_DB_FILE } from '../../../../adapters/local/index.ts'
import { InvalidConfigError } from '../../../../broker/errors.ts'
import { SecretValue } from '../../../../broker/secret-value.ts'

let dir: string
let home: string
const stores: LocalSecretStore[] = []
const open = (options: { busyTimeoutMs?: number } = {}): LocalSecretStore => {
  const store = new LocalSecretStore({ home, ...options })
  stores.push(store)
  return store
}
const secret = (value: string) => new SecretValue(value)

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-local-'))
  home = join(dir, 'nested', 'home')
})
afterEach(() => {
  for (const store of stores.splice(0)) store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('LocalSecretStore files', () => {
  it('creates the home 0700 and the key file 0600 on first use', () => {
    open()
    expect(statSync(home).mode & 0o777).toBe(0o700)
    expect(statSync(join(home, KEY_FILE)).mode & 0o777).toBe(0o600)
    expect(statSync(join(home, SECRETS_DB_FILE)).mode & 0o777).toBe(0o600)
  })

  it('keeps values encrypted at rest: no file in the home holds the value', async () => {
    const value = 'plaintext-canary-7f3a9c51e2'
    const store = open()
    await store.write('apps/canary/db', secret(value))
    // Checked while open (WAL holds the row) and after close (checkpointed into secrets.db).
    const contents = () =>
      readdirSync(home).map((file) => readFileSync(join(home, file)).toString('latin1'))
    const whileOpen = contents().join('\n')
    store.close()
    const afterClose = contents().join('\n')
    for (const raw of [whileOpen, afterClose]) {
      expect(raw).toContain('apps/canary/db') // the rows are there, readable as raw bytes
      expect(raw).not.toContain(value)
    }
  })

  it('refuses to decrypt when the key file was replaced', async () => {
    await open().write('apps/a', secret('one'))
    for (const store of stores.splice(0)) store.close()
    rmSync(join(home, KEY_FILE))
    const [outcome] = await open().read([{ key: 'apps/a' }])
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_CONFIG' } })
    expect(outcome?.ok === false && outcome.error.message).toContain(KEY_FILE)
  })

  it('refuses a ciphertext moved to another key', async () => {
    const store = open()
    await store.write('apps/a', secret('for a only'))
    const raw = new DatabaseSync(join(home, SECRETS_DB_FILE))
    raw.prepare(`UPDATE secret_versions SET key = 'apps/b' WHERE key = 'apps/a'`).run()
    raw.close()
    const [outcome] = await store.read([{ key: 'apps/b' }])
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_CONFIG' } })
  })

  it('throws InvalidConfigError at construction for a home that is a file', () => {
    writeFileSync(join(dir, 'file'), '')
    expect(() => new LocalSecretStore({ home: join(dir, 'file') })).toThrow(InvalidConfigError)
  })

  it('throws InvalidConfigError at construction when secrets.db is not a database', () => {
    open().close()
    writeFileSync(join(home, SECRETS_DB_FILE), 'this is not sqlite '.repeat(100))
    rmSync(join(home, `${SECRETS_DB_FILE}-wal`), { force: true })
    rmSync(join(home, `${SECRETS_DB_FILE}-shm`), { force: true })
    expect(() => open()).toThrow(InvalidConfigError)
  })
})

describe('LocalSecretStore behaviour', () => {
  it('never reuses a version number after a delete', async () => {
    const store = open()
    await store.write('k', secret('one'))
    await store.write('k', secret('two'))
    await store.delete('k')
    expect(await store.write('k', secret('three'))).toEqual({ version: '3', changed: true })
  })

  it('lists keys sorted with the newest version and no values', async () => {
    const store = open()
    await store.write('b/key', secret('value-b1'))
    await store.write('b/key', secret('value-b2'))
    await store.write('a/key', secret('value-a1'))
    const listed = await store.list()
    expect(listed.map(({ key, version }) => ({ key, version }))).toEqual([
      { key: 'a/key', version: '1' },
      { key: 'b/key', version: '2' },
    ])
    for (const entry of listed) expect(Number.isNaN(Date.parse(entry.updatedAt))).toBe(false)
    expect(JSON.stringify(listed)).not.toMatch(/value-/)
  })

  it('lets a second store on the same home (the CLI) see writes at once', async () => {
    await open().write('shared', secret('from the cli'))
    const [outcome] = await open().read([{ key: 'shared' }])
    expect(outcome?.ok && outcome.value.reveal()).toBe('from the cli')
  })

  it('waits for a write lock another process holds briefly instead of failing', async () => {
    const store = open({ busyTimeoutMs: 5_000 })
    await store.write('busy', secret('before'))
    const holder = spawn(process.execPath, [
      '-e',
      `const { DatabaseSync } = require('node:sqlite')
       const db = new DatabaseSync(${JSON.stringify(join(home, SECRETS_DB_FILE))})
       db.exec('BEGIN IMMEDIATE'); console.log('locked')
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300)
       db.exec('COMMIT')`,
    ])
    await once(holder.stdout, 'data')
    const started = Date.now()
    expect(await store.write('busy', secret('after'))).toMatchObject({ changed: true })
    expect(Date.now() - started).toBeGreaterThan(100)
    await once(holder, 'exit')
  })

  it.each([
    ['with a space', 'apps/a b'],
    ['empty', ''],
    ['513 characters long', 'k'.repeat(513)],
    ['with a colon', 'apps:a'],
  ])('rejects a key name %s with INVALID_PARAMS', async (_, key) => {
    const store = open()
    const [outcome] = await store.read([{ key }])
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS' } })
    await expect(store.write(key, secret('x'))).rejects.toMatchObject({ code: 'INVALID_PARAMS' })
    await expect(store.delete(key)).rejects.toMatchObject({ code: 'INVALID_PARAMS' })
  })

  it('accepts a 512-character key name', async () => {
    const key = `a/${'k'.repeat(510)}`
    const store = open()
    await store.write(key, secret('long'))
    expect((await store.read([{ key }]))[0]).toMatchObject({ ok: true, version: '1' })
  })

  it('reports unavailable health once closed, and fails calls', async () => {
    const store = open()
    expect(await store.health()).toEqual({ status: 'ready' })
    store.close()
    expect(await store.health()).toMatchObject({ status: 'unavailable' })
    await expect(store.read([{ key: 'k' }])).rejects.toMatchObject({ code: 'INTERNAL' })
    expect(existsSync(join(home, SECRETS_DB_FILE))).toBe(true)
  })
})
