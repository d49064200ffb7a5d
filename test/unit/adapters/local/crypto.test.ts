import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  associatedData,
  KEY_BYTES,
  loadOrCreateKey,
  openValue,
  sealValue,
} from '../../../../adapters/local/crypto.ts'
import { InvalidConfigError } from '../../../../broker/errors.ts'

const run = promisify(execFile)
let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-crypto-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('loadOrCreateKey', () => {
  it('creates a 32-byte key file readable by its owner only, and reads the same key back', () => {
    const file = join(dir, 'local.key')
    const created = loadOrCreateKey(file)
    const stat = statSync(file)
    expect(stat.size).toBe(KEY_BYTES)
    expect(stat.mode & 0o777).toBe(0o600)
    expect(loadOrCreateKey(file).equals(created)).toBe(true)
    expect(readdirSync(dir)).toEqual(['local.key'])
  })

  it('keeps the file 0600 whatever the umask', () => {
    const previous = process.umask(0o000)
    try {
      loadOrCreateKey(join(dir, 'local.key'))
    } finally {
      process.umask(previous)
    }
    expect(statSync(join(dir, 'local.key')).mode & 0o777).toBe(0o600)
  })

  it.each([0o640, 0o604, 0o660])('refuses a key file with mode %o', (mode) => {
    const file = join(dir, 'local.key')
    loadOrCreateKey(file)
    chmodSync(file, mode)
    expect(() => loadOrCreateKey(file)).toThrow(InvalidConfigError)
    expect(() => loadOrCreateKey(file)).toThrow(/chmod 600/)
  })

  it.each([0, 16, 33])('refuses a key file of %i bytes', (size) => {
    const file = join(dir, 'local.key')
    writeFileSync(file, Buffer.alloc(size, 1), { mode: 0o600 })
    expect(() => loadOrCreateKey(file)).toThrow(InvalidConfigError)
    expect(() => loadOrCreateKey(file)).toThrow(`holds ${size} bytes`)
  })

  it('gives every process racing on first use the same key', async () => {
    const file = join(dir, 'local.key')
    const module = pathToFileURL(
      join(import.meta.dirname, '../../../../adapters/local/crypto.ts'),
    ).href
    const script = `
      const { createHash } = await import('node:crypto')
      const { loadOrCreateKey } = await import(${JSON.stringify(module)})
      const start = Number(process.argv[1])
      while (Date.now() < start) {}
      const key = loadOrCreateKey(${JSON.stringify(file)})
      process.stdout.write(createHash('sha256').update(key.export()).digest('hex'))`
    const start = String(Date.now() + 400)
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        run(process.execPath, ['--input-type=module', '-e', script, start]),
      ),
    )
    const hashes = new Set(results.map((r) => r.stdout))
    expect(hashes.size).toBe(1)
    expect(readdirSync(dir)).toEqual(['local.key'])
  })
})

describe('sealValue / openValue', () => {
  it('round-trips and uses a fresh IV each time', () => {
    const key = loadOrCreateKey(join(dir, 'local.key'))
    const aad = associatedData('apps/a', 1)
    const one = sealValue(key, 'hunter2', aad)
    const two = sealValue(key, 'hunter2', aad)
    expect(Buffer.from(one.iv).equals(Buffer.from(two.iv))).toBe(false)
    expect(Buffer.from(one.ciphertext).equals(Buffer.from(two.ciphertext))).toBe(false)
    expect(openValue(key, one, aad)).toBe('hunter2')
  })

  it('refuses a ciphertext moved to another key name or version', () => {
    const key = loadOrCreateKey(join(dir, 'local.key'))
    const sealed = sealValue(key, 'hunter2', associatedData('apps/a', 1))
    expect(() => openValue(key, sealed, associatedData('apps/b', 1))).toThrow()
    expect(() => openValue(key, sealed, associatedData('apps/a', 2))).toThrow()
  })
})
