/**
 * The catalog's globs (class environments, policy rules) as a port. picomatch turns a
 * glob into a regular expression; loading it and compiling every glob costs a Lambda
 * function ~2–3 ms of its cold start (BENCHMARKS.md), so packaging compiles them once
 * and stores the regular expressions' sources in the packaged catalog
 * (infra/catalog-access.ts). The functions rebuild them with {@link packagedGlobs} and
 * never load picomatch; the YAML path (CLI, embedded runtime, packaging) compiles with
 * picomatch itself (catalog/picomatch-globs.ts). Both give the same {@link Matcher}.
 */
import { CatalogError, type Problem } from './errors.ts'

/**
 * How a glob is compiled. Always picomatch's `nonegate` (a leading `!` is a literal
 * character) and never Windows paths: catalog globs match names and keys, not files.
 */
export interface GlobOptions {
  /** Whether `*` and `**` match a segment starting with `.`. */
  readonly dot: boolean
}

/** Compiles one glob into the regular expression picomatch makes of it. */
export type GlobCompiler = (glob: string, options: GlobOptions) => RegExp

/** Tells whether a name or key matches. */
export type Matcher = (input: string) => boolean

/** One glob compiled at packaging, as the packaged catalog stores it. */
export interface PackagedGlob {
  readonly glob: string
  readonly dot: boolean
  /** The regular expression's `source`; its flags are always empty. */
  readonly regex: string
}

/**
 * A matcher for "any of `globs`", exactly picomatch's: the empty string never matches,
 * the glob itself always does (`[a]` matches `[a]`), and otherwise its regex decides.
 */
export function globMatcher(
  globs: readonly string[],
  options: GlobOptions,
  compile: GlobCompiler,
): Matcher {
  const compiled = globs.map((glob) => ({ glob, regex: compile(glob, options) }))
  return (input) =>
    input !== '' && compiled.some(({ glob, regex }) => input === glob || regex.test(input))
}

const keyOf = (glob: string, options: GlobOptions) => `${options.dot ? 'dot' : 'nodot'}:${glob}`

/**
 * Wraps a compiler and keeps every glob it compiled, once each: building a catalog with
 * it lists exactly the globs that catalog asks for, which packaging stores.
 */
export function recordGlobs(compile: GlobCompiler): {
  readonly compile: GlobCompiler
  /** What was compiled so far, in first-asked order. */
  readonly recorded: () => PackagedGlob[]
} {
  const seen = new Map<string, PackagedGlob>()
  return {
    compile(glob, options) {
      const regex = compile(glob, options)
      // Only the source is stored: a flag would be lost on the way to the functions.
      if (regex.flags !== '')
        throw new Error(
          `the glob "${glob}" compiled with flags "${regex.flags}"; none can be packaged`,
        )
      const key = keyOf(glob, options)
      if (!seen.has(key)) seen.set(key, { glob, dot: options.dot, regex: regex.source })
      return regex
    },
    recorded: () => [...seen.values()],
  }
}

/**
 * The compiler of the Lambda functions: looks each glob up in `table`, the globs that
 * packaging compiled ({@link PackagedGlob}, read from JSON, so each entry is checked
 * here). `file` names the packaged catalog in errors. Throws {@link CatalogError} for a
 * malformed table at once, and for a glob the table lacks when it is asked for.
 */
export function packagedGlobs(table: readonly unknown[], file: string): GlobCompiler {
  const regexes = new Map<string, RegExp>()
  const problems: Problem[] = []
  table.forEach((entry, i) => {
    const path = `globs[${i}]`
    if (!isPackagedGlob(entry)) {
      problems.push({ path, message: 'must be { glob: string, dot: boolean, regex: string }' })
      return
    }
    const key = keyOf(entry.glob, entry)
    if (regexes.has(key)) {
      problems.push({ path, message: `lists "${entry.glob}" (dot: ${entry.dot}) again` })
      return
    }
    try {
      regexes.set(key, new RegExp(entry.regex))
    } catch (error) {
      problems.push({ path: `${path}.regex`, message: `is not a regular expression (${error})` })
    }
  })
  if (problems.length > 0) throw new CatalogError(file, problems)
  return (glob, options) => {
    const regex = regexes.get(keyOf(glob, options))
    if (regex) return regex
    throw new CatalogError(file, [
      {
        path: 'globs',
        message: `the glob "${glob}" (dot: ${options.dot}) was not compiled when the catalog was packaged; run \`npm run package\` again to write this file from capbroker.yaml`,
      },
    ])
  }
}

function isPackagedGlob(entry: unknown): entry is PackagedGlob {
  if (typeof entry !== 'object' || entry === null) return false
  const { glob, dot, regex } = entry as Record<string, unknown>
  return (
    typeof glob === 'string' && glob !== '' && typeof dot === 'boolean' && typeof regex === 'string'
  )
}
