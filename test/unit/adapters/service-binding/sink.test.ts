import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ServiceBindingSink } from '../../../../adapters/service-binding/index.ts'
import { BrokerError } from '../../../../broker/errors.ts'
import { binding, tempDir } from './fixtures.ts'

const target = { app: 'checkout', environment: 'dev' }
let dir: string
let cleanup: () => void
let root: string
let sink: ServiceBindingSink
const envDir = () => join(root, 'checkout', 'dev')
const read = (name: string, entry: string) => readFileSync(join(envDir(), name, entry), 'utf8')

beforeEach(() => {
  ;({ dir, cleanup } = tempDir('capbroker-sink-'))
  root = join(dir, 'bindings')
  sink = new ServiceBindingSink({ root })
})
afterEach(() => cleanup())

describe('ServiceBindingSink.inject', () => {
  it('writes type, provider and every entry, and says where', async () => {
    const receipt = await sink.inject(target, [
      binding('orders-db', { host: 'db.local', port: '5432', password: 's3cret' }),
    ])
    expect(receipt).toEqual({
      sink: 'service-binding',
      location: envDir(),
      bindings: [{ name: 'orders-db', path: join(envDir(), 'orders-db') }],
    })
    expect(readdirSync(join(envDir(), 'orders-db')).sort()).toEqual([
      'host',
      'password',
      'port',
      'provider',
      'type',
    ])
    expect(read('orders-db', 'type')).toBe('postgresql')
    expect(read('orders-db', 'provider')).toBe('local')
    expect(read('orders-db', 'password')).toBe('s3cret')
  })

  it('makes directories 0700 and files 0600 even under a umask that strips owner bits', async () => {
    const previous = process.umask(0o277)
    try {
      await sink.inject(target, [binding('orders-db', { host: 'h', password: 'p' })])
    } finally {
      process.umask(previous)
    }
    const bindingDir = join(envDir(), 'orders-db')
    for (const d of [root, join(root, 'checkout'), envDir(), bindingDir]) {
      expect((statSync(d).mode & 0o777).toString(8), d).toBe('700')
    }
    for (const file of readdirSync(bindingDir)) {
      expect((statSync(join(bindingDir, file)).mode & 0o777).toString(8), file).toBe('600')
    }
  })

  it('tightens an existing environment directory to 0700', async () => {
    mkdirSync(envDir(), { recursive: true, mode: 0o755 })
    chmodSync(envDir(), 0o755)
    await sink.inject(target, [binding('orders-db', { host: 'h' })])
    expect(statSync(envDir()).mode & 0o777).toBe(0o700)
  })

  it('shows readers only the bindings in the environment directory', async () => {
    await sink.inject(target, [
      binding('orders-db', { host: 'a' }),
      binding('cache', { host: 'b' }, 'redis'),
    ])
    await sink.inject(target, [binding('orders-db', { host: 'c' })])
    expect(readdirSync(envDir()).sort()).toEqual(['cache', 'orders-db'])
    expect(read('orders-db', 'host')).toBe('c')
    expect(read('cache', 'type')).toBe('redis')
  })

  it('replaces an entry set whole: an entry dropped from the binding disappears', async () => {
    await sink.inject(target, [binding('orders-db', { host: 'a', options: 'x=1' })])
    await sink.inject(target, [binding('orders-db', { host: 'b' })])
    expect(readdirSync(join(envDir(), 'orders-db')).sort()).toEqual(['host', 'provider', 'type'])
  })

  it('leaves a binding that did not change as it is: no new version, no rewrite', async () => {
    const same = () => binding('orders-db', { host: 'db.local', password: 's3cret' })
    await sink.inject(target, [same()])
    const link = readlinkSync(join(envDir(), 'orders-db'))
    const dataDir = join(root, 'checkout', '.capbroker-data', 'dev')
    const before = readdirSync(dataDir).sort()
    const receipt = await sink.inject(target, [same()])
    expect(receipt.bindings).toEqual([{ name: 'orders-db', path: join(envDir(), 'orders-db') }])
    expect(readlinkSync(join(envDir(), 'orders-db'))).toBe(link)
    expect(readdirSync(dataDir).sort()).toEqual(before)
    // One changed value, a dropped entry, or a loosened file mode is written anew.
    await sink.inject(target, [binding('orders-db', { host: 'db.local', password: 'n3w' })])
    expect(readlinkSync(join(envDir(), 'orders-db'))).not.toBe(link)
    expect(read('orders-db', 'password')).toBe('n3w')
    const changed = readlinkSync(join(envDir(), 'orders-db'))
    await sink.inject(target, [binding('orders-db', { host: 'db.local' })])
    expect(readlinkSync(join(envDir(), 'orders-db'))).not.toBe(changed)
    const dropped = readlinkSync(join(envDir(), 'orders-db'))
    chmodSync(join(envDir(), 'orders-db', 'host'), 0o644)
    await sink.inject(target, [binding('orders-db', { host: 'db.local' })])
    expect(readlinkSync(join(envDir(), 'orders-db'))).not.toBe(dropped)
    expect(statSync(join(envDir(), 'orders-db', 'host')).mode & 0o777).toBe(0o600)
  })

  it('writes anew a binding whose published files were tampered with: other bytes, a link', async () => {
    const same = () => binding('orders-db', { host: 'db.local', password: 's3cret' })
    await sink.inject(target, [same()])
    const tamper = async (how: (file: string) => void) => {
      const before = readlinkSync(join(envDir(), 'orders-db'))
      how(join(envDir(), 'orders-db', 'password'))
      await sink.inject(target, [same()])
      expect(readlinkSync(join(envDir(), 'orders-db'))).not.toBe(before)
      const published = join(envDir(), 'orders-db', 'password')
      expect(lstatSync(published).isFile()).toBe(true)
      expect(read('orders-db', 'password')).toBe('s3cret')
    }
    await tamper((file) => writeFileSync(file, 's3creT')) // same length, other bytes
    await tamper((file) => writeFileSync(file, 's3cret\n')) // one byte more
    await tamper((file) => {
      // A link to a file that holds the right bytes is still not our file.
      writeFileSync(join(dir, 'elsewhere'), 's3cret', { mode: 0o600 })
      unlinkSync(file)
      symlinkSync(join(dir, 'elsewhere'), file)
    })
  })

  it('writes anew a binding whose file was replaced by a FIFO, without waiting on it', async () => {
    const entries = { host: 'db.local', password: 's3cret' }
    await sink.inject(target, [binding('orders-db', entries)])
    const before = readlinkSync(join(envDir(), 'orders-db'))
    const file = join(envDir(), 'orders-db', 'password')
    unlinkSync(file)
    execFileSync('mkfifo', ['-m', '600', file])
    // Opening a FIFO for reading can wait for a writer forever, and a wait in a system
    // call stops this process's timers too: the inject runs in a child with a deadline.
    const url = (path: string) =>
      JSON.stringify(pathToFileURL(join(import.meta.dirname, path)).href)
    const script = `
      const { ServiceBindingSink } = await import(${url('../../../../adapters/service-binding/index.ts')})
      const { binding } = await import(${url('./fixtures.ts')})
      await new ServiceBindingSink({ root: ${JSON.stringify(root)} })
        .inject(${JSON.stringify(target)}, [binding('orders-db', ${JSON.stringify(entries)})])`
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 20_000,
      encoding: 'utf8',
    })
    expect(child.error, 'the inject hung on the FIFO').toBeUndefined()
    expect(child.status, child.stderr).toBe(0)
    expect(readlinkSync(join(envDir(), 'orders-db'))).not.toBe(before)
    expect(lstatSync(join(envDir(), 'orders-db', 'password')).isFile()).toBe(true)
    expect(read('orders-db', 'password')).toBe('s3cret')
  })

  it('still removes the version a change replaced once readers had their minute, when nothing changes after', async () => {
    await sink.inject(target, [binding('orders-db', { password: 'OLD' })])
    await sink.inject(target, [binding('orders-db', { password: 'NEW' })])
    const dataDir = join(root, 'checkout', '.capbroker-data', 'dev')
    const previous = join(dataDir, 'orders-db+previous')
    const holdsOld = () =>
      readdirSync(dataDir)
        .filter((e) => /^orders-db\+[0-9a-f]+$/.test(e))
        .some((e) => readFileSync(join(dataDir, e, 'password'), 'utf8') === 'OLD')
    // Unchanged within the minute: a reader that resolved the old link may still read it.
    await sink.inject(target, [binding('orders-db', { password: 'NEW' })])
    expect(holdsOld()).toBe(true)
    // A minute after the swap (the `+previous` link's time), the next unchanged inject drops it.
    const past = new Date(Date.now() - 2 * 60_000)
    lutimesSync(previous, past, past)
    // A sink prunes a binding at most once a minute; a fresh one stands for a minute later.
    await new ServiceBindingSink({ root }).inject(target, [
      binding('orders-db', { password: 'NEW' }),
    ])
    expect(holdsOld()).toBe(false)
    expect(existsSync(previous)).toBe(false)
    expect(read('orders-db', 'password')).toBe('NEW')
  })

  it('keeps only the current and the previous version on disk', async () => {
    for (let gen = 1; gen <= 5; gen++) {
      await sink.inject(target, [binding('orders-db', { host: `h${gen}` })])
    }
    const dataDir = join(root, 'checkout', '.capbroker-data', 'dev')
    const entries = readdirSync(dataDir).sort()
    expect(entries).toHaveLength(3) // two version directories and the `+previous` link
    const previous = readFileSync(join(dataDir, 'orders-db+previous', 'host'), 'utf8')
    expect([previous, read('orders-db', 'host')]).toEqual(['h4', 'h5'])
  })

  it('replaces a binding directory written by an older sink', async () => {
    mkdirSync(join(envDir(), 'orders-db'), { recursive: true })
    writeFileSync(join(envDir(), 'orders-db', 'stale'), 'old')
    await sink.inject(target, [binding('orders-db', { host: 'new' })])
    expect(lstatSync(join(envDir(), 'orders-db')).isSymbolicLink()).toBe(true)
    expect(readdirSync(join(envDir(), 'orders-db')).sort()).toEqual(['host', 'provider', 'type'])
  })

  it('never deletes what a hand-made link points at outside its data directory', async () => {
    const outside = join(dir, 'precious')
    mkdirSync(outside)
    writeFileSync(join(outside, 'keep'), 'me')
    mkdirSync(envDir(), { recursive: true })
    symlinkSync(outside, join(envDir(), 'orders-db'))
    await sink.inject(target, [binding('orders-db', { host: 'h' })])
    await sink.remove(target, ['orders-db'])
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('me')
  })

  it('never lets a reader see half a binding while it is updated', async () => {
    const entries = (gen: number) => ({
      host: `${gen}:db.local`,
      port: `${gen}:5432`,
      username: `${gen}:app`,
      password: `${gen}:${'p'.repeat(4096)}`,
    })
    await sink.inject(target, [binding('orders-db', entries(0))])
    const stop = new Int32Array(new SharedArrayBuffer(4))
    const reader = new Worker(READER, {
      eval: true,
      workerData: {
        link: join(envDir(), 'orders-db'),
        expected: 'host,password,port,provider,type,username',
        stop: stop.buffer,
      },
    })
    const report = new Promise<{ reads: number; violations: string[] }>((resolve, reject) => {
      reader.once('message', resolve)
      reader.once('error', reject)
    })
    for (let gen = 1; gen <= 150; gen++) {
      await sink.inject(target, [binding('orders-db', entries(gen))])
    }
    Atomics.store(stop, 0, 1)
    const { reads, violations } = await report
    expect(violations).toEqual([])
    expect(reads).toBeGreaterThan(20)
    expect(read('orders-db', 'host')).toBe('150:db.local')
  }, 30_000)

  it.each([
    ['an app with ..', { app: '..', environment: 'dev' }, 'db', 'host'],
    ['an environment with /', { app: 'checkout', environment: 'dev/../../x' }, 'db', 'host'],
    ['a binding name with ..', target, '../../escape', 'host'],
    ['a hidden binding name', target, '.db', 'host'],
    ['an entry name with /', target, 'db', '../../../etc/passwd'],
    ['an entry named ..data', target, 'db', '..data'],
    ['an entry named type', target, 'db', 'type'],
    ['an empty entry name', target, 'db', ''],
  ])('refuses %s before touching the disk', async (_, where, name, entry) => {
    const bad = sink.inject(where, [
      binding('fine', { host: 'h' }),
      binding(name, { [entry]: 'v' }),
    ])
    await expect(bad).rejects.toBeInstanceOf(BrokerError)
    await expect(bad).rejects.toMatchObject({ code: 'INJECTION_FAILED' })
    expect(existsSync(root)).toBe(false)
    expect(readdirSync(dir)).toEqual([])
  })

  it('refuses two bindings of one name in one call', async () => {
    const twice = [binding('db', { host: 'a' }), binding('db', { host: 'b' })]
    await expect(sink.inject(target, twice)).rejects.toMatchObject({ code: 'INJECTION_FAILED' })
  })

  it('reports a root that is a file as InvalidConfig, naming no value', async () => {
    writeFileSync(root, '')
    const error = await sink
      .inject(target, [binding('db', { password: 'hunter2' })])
      .catch((e) => e)
    expect(error).toMatchObject({ code: 'INVALID_CONFIG' })
    expect(error.message).not.toContain('hunter2')
  })
})

describe('ServiceBindingSink.remove', () => {
  it('removes the binding and its data, leaves the others, and ignores a missing name', async () => {
    await sink.inject(target, [
      binding('orders-db', { host: 'a' }),
      binding('cache', { host: 'b' }),
    ])
    await sink.remove(target, ['orders-db', 'never-injected'])
    expect(readdirSync(envDir())).toEqual(['cache'])
    const data = readdirSync(join(root, 'checkout', '.capbroker-data', 'dev'))
    expect(data.map((d) => d.split('+')[0])).toEqual(['cache'])
    expect(readlinkSync(join(envDir(), 'cache'))).toMatch(/^\.\.\/\.capbroker-data\/dev\/cache\+/)
  })

  it('removes a binding directory written by an older sink', async () => {
    mkdirSync(join(envDir(), 'legacy'), { recursive: true })
    writeFileSync(join(envDir(), 'legacy', 'host'), 'h')
    await sink.remove(target, ['legacy'])
    expect(readdirSync(envDir())).toEqual([])
  })

  it('is a no-op for a target never injected, and refuses a traversal', async () => {
    await sink.remove(target, ['anything'])
    await expect(sink.remove(target, ['../dev'])).rejects.toMatchObject({
      code: 'INJECTION_FAILED',
    })
  })
})

/**
 * Runs in a worker thread, in parallel with the injections: resolves the link, then
 * reads every file of the directory it points at. A vanished directory (the previous
 * version, deleted after the swap) is a stale snapshot, retried; a missing or empty
 * file, an unexpected file list, or values of two generations are violations.
 */
const READER = `
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const path = require('node:path')
const stop = new Int32Array(workerData.stop)
const violations = []
let reads = 0
while (Atomics.load(stop, 0) === 0 && violations.length < 10) {
  let dir
  try { dir = fs.realpathSync(workerData.link) } catch (e) { violations.push('link: ' + e.code); continue }
  try {
    const names = fs.readdirSync(dir).sort()
    const values = names.map((n) => fs.readFileSync(path.join(dir, n), 'utf8'))
    reads++
    if (names.join(',') !== workerData.expected) violations.push('files: ' + names.join(','))
    if (values.some((v) => v === '')) violations.push('an empty file')
    const gens = new Set(values.filter((v) => v.includes(':')).map((v) => v.split(':')[0]))
    if (gens.size !== 1) violations.push('generations: ' + [...gens].join(','))
    if (values.some((v, i) => names[i] === 'password' && v.length !== v.split(':')[0].length + 4097)) {
      violations.push('a truncated password')
    }
  } catch (e) {
    if (e.code !== 'ENOENT') violations.push('read: ' + e.code)
  }
}
parentPort.postMessage({ reads, violations })
`

describe('no stale copies of a secret stay on disk', () => {
  it('concurrent injects of one binding leave only the current and the previous version', async () => {
    const { ServiceBindingSink } = await import('../../../../adapters/service-binding/index.ts')
    const { SecretValue } = await import('../../../../broker/secret-value.ts')
    const { mkdtempSync, readdirSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const root = mkdtempSync(join(tmpdir(), 'capbroker-orphans-'))
    try {
      const sink = new ServiceBindingSink({ root })
      const binding = (n: number) => ({
        name: 'db',
        type: 'postgres',
        provider: 'local',
        entries: new Map([['password', new SecretValue(`v${n}`)]]),
        secretEntries: ['password'],
      })
      const target = { app: 'a', environment: 'dev' }
      await Promise.all(Array.from({ length: 20 }, (_, n) => sink.inject(target, [binding(n)])))
      const dataDir = join(root, 'a', '.capbroker-data', 'dev')
      const versions = readdirSync(dataDir).filter((e) => /^db\+[0-9a-f]+$/.test(e))
      expect(versions.length).toBeLessThanOrEqual(2)
      await sink.remove(target, ['db'])
      expect(readdirSync(dataDir).filter((e) => e.startsWith('db+'))).toEqual([])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
