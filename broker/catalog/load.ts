/**
 * Loads `capbroker.yaml`: YAML → the checks of catalog.ts → a {@link Catalog}, every
 * problem with its line and column, its globs compiled by picomatch. Everything but the
 * YAML is in catalog.ts, which this module re-exports; code that never reads YAML (the
 * Lambda functions) imports that one, so its bundle carries no YAML parser, nor picomatch
 * for the catalog's globs.
 */
import { type Document, LineCounter, type Node, parseDocument } from 'yaml'
import { pointerSegments } from '../../events/index.ts'
import { CatalogError } from '../errors.ts'
import { type Catalog, catalogFromDocument, checkCatalogSize } from './catalog.ts'
import { picomatchGlobs } from './picomatch-globs.ts'

export * from './catalog.ts'
export * from './picomatch-globs.ts'

/** Aliases a catalog may use before it is treated as an alias bomb. */
const MAX_ALIASES = 100

function locate(
  doc: Document,
  counter: LineCounter,
  pointer: string | undefined,
): { line?: number; column?: number } {
  if (pointer === undefined) return {}
  let segments = pointerSegments(pointer)
  // A missing property has no node: point at the nearest parent that exists.
  while (segments.length > 0 && !doc.hasIn(segments)) segments = segments.slice(0, -1)
  const node = (segments.length === 0 ? doc.contents : doc.getIn(segments, true)) as
    | Node
    | null
    | undefined
  const offset = node?.range?.[0]
  if (offset === undefined) return {}
  const pos = counter.linePos(offset)
  return { line: pos.line, column: pos.col }
}

/**
 * Parses and validates a catalog. `file` is used in messages only; reading the file is
 * the host's job. Throws {@link CatalogError} listing every problem.
 */
export function parseCatalog(text: string, file: string): Catalog {
  checkCatalogSize(text, file)
  const counter = new LineCounter()
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: false })
  if (doc.errors.length > 0) {
    throw new CatalogError(
      file,
      doc.errors.map((e) => {
        const pos = counter.linePos(e.pos[0])
        return {
          path: '',
          message: `YAML syntax error: ${e.message.split('\n')[0]}`,
          line: pos.line,
          column: pos.col,
        }
      }),
    )
  }
  let data: unknown
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES })
  } catch (error) {
    throw new CatalogError(
      file,
      [{ path: '', message: `cannot be read: ${(error as Error).message}` }],
      { cause: error },
    )
  }
  return catalogFromDocument(data, file, picomatchGlobs, (pointer) => locate(doc, counter, pointer))
}
