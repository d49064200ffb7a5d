/**
 * `#schema-problems` in the Lambda bundles (serverless.yml's esbuild `conditions`): the
 * problem lister of events/problems.ts — TypeBox's schema engine and every schema, ~70 KB —
 * is not in the bundle. Packaging builds it into a file of its own beside the catalog
 * (infra/problems-bundle.ts), and this loads it on the first value that fails its check:
 * a cold start neither reads nor compiles those bytes (BENCHMARKS.md). Without the file
 * (a bundle deployed without `npm run package`) a value that fails still fails; its
 * problem says the list is unavailable and why.
 */
import { basename } from 'node:path'
import type * as Problems from '../events/problems.ts'
import type { CheckedSchema, ValidationProblem } from '../events/validate.ts'
import { PACKAGED_PROBLEMS, problemsPath } from './environment.ts'

/** The loaded lister, or why it could not be loaded: tried once per process. */
let loaded:
  | { readonly lister: typeof Problems.listProblems }
  | { readonly missing: string }
  | undefined

function load(): NonNullable<typeof loaded> {
  const path = problemsPath(process.env)
  try {
    // A require() esbuild leaves alone: the file is not part of the bundle.
    const requireFrom = process.getBuiltinModule('node:module').createRequire(path)
    return { lister: (requireFrom(path) as typeof Problems).listProblems }
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error'
    return {
      missing: `${basename(PACKAGED_PROBLEMS)} could not be loaded from beside the catalog (${code}); package with \`npm run package\``,
    }
  }
}

/** {@link Problems.listProblems}, loaded from the packaged file on first use. */
export function listProblems(
  checked: CheckedSchema,
  value: unknown,
  prefix = '',
): ValidationProblem[] {
  loaded ??= load()
  if ('lister' in loaded) return loaded.lister(checked, value, prefix)
  const { missing } = loaded
  return [
    {
      path: prefix,
      message: `does not match its schema; the list of problems is unavailable: ${missing}`,
      pointer: '',
    },
  ]
}
