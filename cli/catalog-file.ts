/**
 * Finding and reading the catalog: `--catalog`, then `CAPBROKER_CATALOG`, then
 * `capbroker.yaml` in the working directory, and on a first run the bundled example.
 */
import { existsSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readCatalogFile } from '../adapters/catalog-file.ts'
import type { Catalog } from '../broker/catalog/load.ts'

/** The folder of the examples that ship with capbroker. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../examples/', import.meta.url))

/** Where the catalog came from. */
export interface LocatedCatalog {
  readonly path: string
  readonly origin: 'flag' | 'env' | 'cwd' | 'example'
}

/** Picks the catalog file. `allowExample`: fall back to the bundled example (first run). */
export function locateCatalog(
  flag: string | undefined,
  options: { cwd?: string; allowExample?: boolean } = {},
): LocatedCatalog {
  const cwd = options.cwd ?? process.cwd()
  if (flag) return { path: resolve(cwd, flag), origin: 'flag' }
  const env = process.env.CAPBROKER_CATALOG
  if (env) return { path: resolve(cwd, env), origin: 'env' }
  const local = resolve(cwd, 'capbroker.yaml')
  if (existsSync(local) || options.allowExample === false) return { path: local, origin: 'cwd' }
  return { path: resolve(EXAMPLES_DIR, 'capbroker.yaml'), origin: 'example' }
}

/** Reads and validates a catalog file; a missing or unreadable file is a CatalogError too. */
export function readCatalog(path: string, cwd = process.cwd()): Catalog {
  const relativePath = relative(cwd, path) || path
  return readCatalogFile(path, {
    shownAs: relativePath.startsWith('..') ? path : relativePath,
    missingHint: 'pass --catalog <file> or set CAPBROKER_CATALOG',
  })
}
