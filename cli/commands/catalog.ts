/** `capbroker catalog validate`: check a catalog and say what is wrong, where. */
import type { Command } from 'commander'
import type { Catalog } from '../../broker/catalog/load.ts'
import { CatalogError } from '../../broker/errors.ts'
import { locateCatalog, readCatalog } from '../catalog-file.ts'
import { shownPath } from '../context.ts'

/** Registers `catalog validate`. */
export function registerCatalog(program: Command): void {
  const catalog = program
    .command('catalog')
    .description('work with the catalog (capbroker.yaml)')
    .addHelpText('after', '\nExample:\n  $ capbroker catalog validate capbroker.yaml')
  catalog
    .command('validate')
    .description('validate a catalog against its schema and cross-references; exit 1 when invalid')
    .argument('[file]', 'the catalog (default: --catalog, CAPBROKER_CATALOG or ./capbroker.yaml)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ capbroker catalog validate
  $ capbroker catalog validate examples/capbroker.yaml
  $ capbroker catalog validate platform/capbroker.yaml --json

The JSON Schema of the catalog is schemas/capbroker.schema.json.`,
    )
    .action((file: string | undefined, options: { json?: boolean }) => {
      const { path } = locateCatalog(file, { allowExample: false })
      let c: Catalog
      try {
        c = readCatalog(path)
      } catch (error) {
        if (!(error instanceof CatalogError)) throw error
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ file: shownPath(path), valid: false, problems: error.problems })}\n`,
          )
        } else {
          process.stderr.write(`capbroker: ${error.message}\n`)
        }
        process.exitCode = 1
        return
      }
      const summary = {
        file: shownPath(path),
        valid: true,
        stores: c.stores.size,
        environments: c.environments.size,
        classes: c.classes.length,
        policies: c.document.policies?.length ?? 0,
      }
      if (options.json) return void process.stdout.write(`${JSON.stringify(summary)}\n`)
      const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`
      const parts = [
        count(summary.stores, 'store', 'stores'),
        count(summary.environments, 'environment', 'environments'),
        count(summary.classes, 'class', 'classes'),
        count(summary.policies, 'policy', 'policies'),
      ]
      process.stdout.write(`${summary.file}: valid (${parts.join(', ')})\n`)
    })
}
