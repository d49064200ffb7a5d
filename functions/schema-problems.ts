/**
 * `#schema-problems` in the Lambda bundles (serverless.yml's esbuild `conditions`): the
 * problem lister of events/problems.ts — TypeBox's schema engine and every schema, ~70 KB —
 * is not in the bundle. Packaging builds it into a file of its own beside the catalog
 * (infra/problems-bundle.ts), and this loads it on the first value that fails its check:
 * a cold start neither reads nor compiles those bytes (BENCHMARKS.md). Without the file
 * (a bundle deployed without `npm run package`) a value that fails still fails; its
 * problem says the list is unavailable and why.
 */
import type * as Problems from '../events/problems.ts'
import type { CheckedSchema, ValidationProblem } from '../events/validate.ts'
import { PACKAGED_PROBLEMS, problemsPath } from './environment.ts'

let lister: typeof Problems.listProblems | undefined
let missing: string | undefined

function load(): typeof Problems.listProblems | undefined {
  const path = problemsPath(process.env)
  try {
    // A require() esbuild leaves alone: the file is not part of the bundle.
    const load = process.getBuiltinModule('node:module').createRequire(path)
    return (load(path) as typeof Problems).listProblems
  } catch (error) {
    missing = `${PACKAGED_PROBLEMS} could not be loaded from beside the catalog (${(error as { code?: string }).code ?? 'error'}); package with \`npm run package\``
    return undefined
  }
}

/** {@link Problems.listProblems}, loaded from the packaged file on first use. */
export function listProblems(
  checked: CheckedSchema,
  value: unknown,
  prefix = '',
): ValidationProblem[] {
  lister ??= load()
  if (lister !== undefined) return lister(checked, value, prefix)
  return [
    {
      path: prefix,
      message: `does not match its schema; the list of problems is unavailable: ${missing}`,
      pointer: '',
    },
  ]
}
