/**
 * Reading a catalog file: the one place its I/O happens for every host (the CLI, the
 * embedded server, the Lambdas). A missing or unreadable file is a CatalogError too,
 * with a hint at how the host lets one choose the file.
 */
import { readFileSync } from 'node:fs'
import { type Catalog, parseCatalog } from '../broker/catalog/load.ts'
import { CatalogError } from '../broker/errors.ts'

/** Reads and validates `path`; messages name it as `shownAs` (default the path). */
export function readCatalogFile(
  path: string,
  options: { shownAs?: string; missingHint: string },
): Catalog {
  const shown = options.shownAs ?? path
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT' ? `no such file (${options.missingHint})` : `cannot be read (${code})`
    throw new CatalogError(shown, [{ path: '', message: why }], { cause: error })
  }
  return parseCatalog(text, shown)
}
