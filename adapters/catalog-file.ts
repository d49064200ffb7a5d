/**
 * Reading a `capbroker.yaml` file (the CLI, the embedded server, packaging). The Lambda
 * functions read the JSON form packaging writes instead (functions/aws-broker.ts), so
 * their bundles carry no YAML parser.
 */
import { type Catalog, parseCatalog } from '../broker/catalog/load.ts'
import { type CatalogFileOptions, readCatalogText } from './catalog-text.ts'

/** Reads and validates `path`; messages name it as `shownAs` (default the path). */
export function readCatalogFile(path: string, options: CatalogFileOptions): Catalog {
  return parseCatalog(readCatalogText(path, options), options.shownAs ?? path)
}
