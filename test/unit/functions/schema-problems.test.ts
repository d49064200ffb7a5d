/**
 * The Lambda functions list a failed value's problems with the lister that packaging
 * builds into a file of its own beside the catalog (infra/problems-bundle.ts), loaded on
 * the first failure (functions/schema-problems.ts). It must list exactly what the
 * embedded runtime lists, and without the file a failed value must still fail, saying why.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CatalogShape } from '../../../broker/generated/checks.ts'
import { listProblems as listedHere } from '../../../events/problems.ts'
import { dataChecks, EventTypes } from '../../../events/types.ts'
import { PACKAGED_PROBLEMS } from '../../../functions/environment.ts'
import { buildProblemLister } from '../../../infra/problems-bundle.ts'

let dir: string
const saved = { catalog: process.env.CAPBROKER_CATALOG, root: process.env.LAMBDA_TASK_ROOT }

/** A fresh copy of the module: its loaded lister is kept per module instance. */
const fresh = async () => {
  vi.resetModules()
  return await import('../../../functions/schema-problems.ts')
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'capbroker-problems-'))
  delete process.env.LAMBDA_TASK_ROOT
}, 30_000)

afterAll(async () => {
  if (saved.catalog === undefined) delete process.env.CAPBROKER_CATALOG
  else process.env.CAPBROKER_CATALOG = saved.catalog
  if (saved.root !== undefined) process.env.LAMBDA_TASK_ROOT = saved.root
  await rm(dir, { recursive: true, force: true })
})

const bad = {
  app: 'checkout',
  environment: 'prod',
  capabilities: [{ name: 'db', type: 'Postgres!', extra: 1 }],
}
const badCatalog = { version: 2, stores: {}, environments: {}, classes: [], extra: true }

describe('the packaged problem lister', () => {
  it('lists what the embedded runtime lists, loaded from beside the catalog', async () => {
    await buildProblemLister(join(dir, basename(PACKAGED_PROBLEMS)))
    process.env.CAPBROKER_CATALOG = join(dir, 'catalog.json')
    const { listProblems } = await fresh()
    const requested = dataChecks[EventTypes.requested]
    expect(listProblems(requested, bad, 'data')).toEqual(listedHere(requested, bad, 'data'))
    expect(listProblems(requested, bad, 'data').length).toBeGreaterThan(1)
    // Never the value itself.
    expect(JSON.stringify(listProblems(requested, bad, 'data'))).not.toContain('Postgres!')
    expect(listProblems(CatalogShape, badCatalog)).toEqual(listedHere(CatalogShape, badCatalog))
  }, 30_000)

  it('without the file, a failed value still fails and says why', async () => {
    process.env.CAPBROKER_CATALOG = join(dir, 'elsewhere', 'catalog.json')
    const { listProblems } = await fresh()
    const problems = listProblems(dataChecks[EventTypes.requested], bad, 'data')
    expect(problems).toEqual([
      {
        path: 'data',
        message: expect.stringMatching(
          /list of problems is unavailable: problems\.cjs .*npm run package/,
        ),
        pointer: '',
      },
    ])
  })
})
