/**
 * The problem lister of the Lambda functions, built at package time into a file of its
 * own beside the packaged catalog (infra/catalog-access.ts writes it there): events/
 * problems.ts with TypeBox's schema engine and every schema. The function bundles check
 * values with the generated checks and load this file only when a value fails one
 * (functions/schema-problems.ts), so that its ~70 KB never count in a cold start
 * (BENCHMARKS.md, the packaging what-ifs). Built by esbuild, as the bundles are.
 */
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** This checkout, whose events/problems.ts is built (the functions' code is from here too). */
const repositoryRoot = fileURLToPath(new URL('..', import.meta.url))

/** Builds the problem lister into `file` (an absolute path). */
export async function buildProblemLister(file: string): Promise<void> {
  await build({
    absWorkingDir: repositoryRoot,
    entryPoints: ['events/problems.ts'],
    outfile: file,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    logLevel: 'silent',
  })
}
