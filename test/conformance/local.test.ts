/**
 * The SecretStore conformance suite on the embedded local store, in a temp directory.
 * Seeding goes through a second LocalSecretStore on the same home, the way
 * `capbroker secrets put` writes while the server reads.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll } from 'vitest'
import { LocalSecretStore, SECRETS_DB_FILE } from '../../adapters/local/index.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import { describeSecretStoreConformance } from './secret-store.ts'

const dir = mkdtempSync(join(tmpdir(), 'capbroker-conformance-local-'))
const home = join(dir, 'home')
let seeder: LocalSecretStore | undefined
const seederStore = (): LocalSecretStore => {
  seeder ??= new LocalSecretStore({ home })
  return seeder
}

afterAll(() => {
  seeder?.close()
  rmSync(dir, { recursive: true, force: true })
})

describeSecretStoreConformance('local', {
  writable: true,
  unknownVersion: '424242',
  // A short busy timeout so the lock-contention fault fails fast.
  create: () => new LocalSecretStore({ home, busyTimeoutMs: 50 }),
  dispose: (store) => store.close(),
  seed: async (key, value) => (await seederStore().write(key, new SecretValue(value))).version,
  remove: (key) => seederStore().delete(key),
  badConfig: () => {
    // A home that is a regular file: nowhere to keep secrets.db or local.key.
    const file = join(dir, 'not-a-directory')
    writeFileSync(file, '')
    return new LocalSecretStore({ home: file })
  },
  faults: {
    // The embedded analogue of throttling: another process (here a second connection)
    // holds the write lock past the busy timeout. WAL readers never wait for a lock,
    // so only writes meet it.
    throttling: {
      calls: ['write'],
      inject: async () => {
        const holder = new DatabaseSync(join(home, SECRETS_DB_FILE))
        holder.exec('BEGIN IMMEDIATE')
        return async () => {
          holder.exec('ROLLBACK')
          holder.close()
        }
      },
    },
  },
  faultsSkipReason: 'an embedded SQLite file has no server that could answer 5xx',
})
