/**
 * Reading a catalog file's text: the one place its I/O happens for every host (the CLI,
 * the embedded server, the Lambdas), whatever the format. A missing or unreadable file
 * is a CatalogError, with a hint at how the host lets one choose the file.
 */
import { readFileSync } from 'node:fs'
import { CatalogError } from '../broker/errors.ts'

/** How to name the file in messages, and how the host lets one choose another. */
export interface CatalogFileOptions {
  /** The name messages use (default: the path). */
  readonly shownAs?: string
  readonly missingHint: string
}

/** The text of the catalog at `path`. */
export function readCatalogText(path: string, options: CatalogFileOptions): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT' ? `no such file (${options.missingHint})` : `cannot be read (${code})`
    throw new CatalogError(options.shownAs ?? path, [{ path: '', message: why }], {
      cause: error,
    })
  }
}
