/**
 * A catalog as packaging leaves it for the Lambda functions: the YAML validated and
 * written as JSON with its globs compiled at {@link PACKAGED_CATALOG_JSON}
 * (infra/catalog-access.ts does the same at package time). Synchronous, for tests that
 * wire a function in one go.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parseCatalog } from '../../broker/catalog/load.ts'
import { PACKAGED_CATALOG_JSON } from '../../functions/environment.ts'
import { packagedCatalogJson } from '../../infra/catalog-access.ts'

/** Writes `yaml`'s packaged form under `dir` (a function's task root); returns its path. */
export function writePackagedCatalog(dir: string, yaml: string): string {
  const path = join(dir, PACKAGED_CATALOG_JSON)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, packagedCatalogJson(parseCatalog(yaml, 'capbroker.yaml')))
  return path
}
