import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { SqliteStateStore } from '../../../../adapters/sqlite/index.ts'
import { describeLifecycleState } from '../../../support/lifecycle-state-suite.ts'

const dir = mkdtempSync(join(tmpdir(), 'capbroker-lifecycle-'))
const stores: SqliteStateStore[] = []
let n = 0

afterAll(async () => {
  for (const store of stores) await store.close()
  rmSync(dir, { recursive: true, force: true })
})

describeLifecycleState(
  'sqlite',
  () => {
    // One home per test: the cases share nothing but the suite's names.
    const store = new SqliteStateStore({ home: join(dir, `home-${++n}`) })
    stores.push(store)
    return store
  },
  (prefix) => `${prefix}-${++n}`,
)
