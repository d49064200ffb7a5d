/**
 * Checks values against the TypeBox schemas of events and the catalog. The checks come
 * from `typebox/schema`, TypeBox's JSON Schema engine, which `Value.Check` and
 * `Value.Errors` only forward to: importing it directly keeps the rest of `typebox/value`
 * (clone, convert, create, …; ~19 KB minified) out of every Lambda bundle.
 */
import { Check as conforms, Errors as schemaErrors } from 'typebox/schema'
import { Settings } from 'typebox/system'
import type * as Type from 'typebox/type'

/** A schema turned into a predicate: true when the value conforms. */
export type SchemaCheck = (value: unknown) => boolean

/**
 * Turns a schema into a {@link SchemaCheck} — in the embedded runtime, TypeBox's compiler
 * (`typebox/compile`), whose generated checks are two orders of magnitude faster than the
 * interpreter (`Check` of `typebox/schema`) on the event schemas checked on every request.
 */
export type SchemaCompiler = (schema: Type.TSchema) => SchemaCheck

/** The uses of a schema after which {@link validate} compiles it (one-off checks never pay). */
const COMPILE_AFTER_USES = 2

let compiler: SchemaCompiler | undefined
/** Per schema object: its compiled check, or how often it was checked so far. */
let compiled = new WeakMap<Type.TSchema, SchemaCheck | number>()

/**
 * Makes {@link validate} check conforming values with compiled checks, process-wide:
 * a schema is compiled on its {@link COMPILE_AFTER_USES}th use and its check kept. Only
 * the embedded runtime installs one: code generation costs time at first use and
 * bundle bytes, which the Lambda functions (short-lived, cold-start bound) would pay
 * for nothing, so they keep the interpreter. Problems are always listed by the
 * interpreter (`Errors` of `typebox/schema`), so the messages do not depend on this.
 * `undefined` removes the compiler and forgets the compiled checks.
 */
export function useSchemaCompiler(compile: SchemaCompiler | undefined): void {
  compiler = compile
  compiled = new WeakMap()
}

/** Whether `value` conforms to `schema`: compiled when a compiler is installed, else interpreted. */
function check(schema: Type.TSchema, value: unknown): boolean {
  if (compiler === undefined) return conforms(schema, value)
  const known = compiled.get(schema)
  if (typeof known === 'function') return known(value)
  const uses = (known ?? 0) + 1
  if (uses < COMPILE_AFTER_USES) {
    compiled.set(schema, uses)
    return conforms(schema, value)
  }
  const checker = compiler(schema)
  compiled.set(schema, checker)
  return checker(value)
}

/** One thing wrong with a value: a readable path (`capabilities[0].type`) and what was expected. */
export interface ValidationProblem {
  readonly path: string
  readonly message: string
  /** The JSON Pointer of the value, for mapping a problem back to a line in a document. */
  readonly pointer?: string
}

/**
 * Turns a JSON Pointer (`/capabilities/0/type`) into the path people read in errors
 * (`capabilities[0].type`). An optional prefix names the root (`data`).
 */
export function readablePath(pointer: string, prefix = ''): string {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/')
  let path = prefix
  for (const raw of segments) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    if (/^\d+$/.test(segment)) path += `[${segment}]`
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) path += path === '' ? segment : `.${segment}`
    else path += `[${JSON.stringify(segment)}]`
  }
  return path
}

/** The JSON Pointer segments of a pointer, for looking a node up in a parsed document. */
export function pointerSegments(pointer: string): (string | number)[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

function describe(error: {
  keyword: string
  message: string
  params: unknown
  instancePath: string
}): string {
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'additionalProperties': {
      const names = (params.additionalProperties as string[] | undefined) ?? []
      return `unknown propert${names.length === 1 ? 'y' : 'ies'} ${names.map((n) => `"${n}"`).join(', ')}`
    }
    case 'required': {
      const names = (params.requiredProperties as string[] | undefined) ?? []
      return `missing required propert${names.length === 1 ? 'y' : 'ies'} ${names.map((n) => `"${n}"`).join(', ')}`
    }
    case 'pattern':
      return `must match ${String(params.pattern)}`
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue ?? params.const)}`
    default:
      return error.message
  }
}

/** The schema path of a union (`anyOf`) an error came from, when it is one branch's own. */
const UNION_BRANCH = /^(.*)\/anyOf\/\d+$/

/**
 * Checks a value against a schema and lists its problems, most specific first, with
 * the noise of the validator (`schema is false` echoes of additionalProperties, the
 * summary of a union whose branches already spoke) removed. The validator stops after
 * `Settings.maxErrors` errors; a cut-off list ends with a problem saying so.
 * Problems never quote the offending value: it may be a secret.
 */
export function validate(schema: Type.TSchema, value: unknown, prefix = ''): ValidationProblem[] {
  if (check(schema, value)) return []
  const [, errors] = schemaErrors(schema, value)
  const seen = new Set<string>()
  const problems: ValidationProblem[] = []
  // The union whose branch problems end the list so far, and where they start.
  let open: { union: string; start: number } | undefined
  for (const error of errors) {
    if (error.keyword === 'boolean') continue
    // A required property is reported at its parent; name it at its own path instead.
    const names =
      error.keyword === 'required'
        ? ((error.params as { requiredProperties?: string[] }).requiredProperties ?? [])
        : []
    const pointer = names.length === 1 ? `${error.instancePath}/${names[0]}` : error.instancePath
    const problem = {
      path: readablePath(pointer, prefix),
      message: names.length === 1 ? 'is required' : describe(error),
      pointer,
    }
    const id = `${problem.path}\u0000${problem.message}`
    if (seen.has(id)) continue
    seen.add(id)
    const previous = problems.at(-1)
    if (error.keyword === 'anyOf' && open?.union === error.schemaPath) {
      // The union's summary follows its branches: they said it better.
      open = undefined
      if (previous?.path === problem.path) continue
    }
    const union = UNION_BRANCH.exec(error.schemaPath)?.[1]
    if (union !== undefined && open?.union !== union) open = { union, start: problems.length }
    // Branches each say "must be <something>": say it once, joined by "or"
    // ("must be string or number", `must be "ready" or "failed"`).
    if (
      union !== undefined &&
      previous !== undefined &&
      problems.length > (open?.start ?? Number.POSITIVE_INFINITY) &&
      previous.path === problem.path &&
      previous.message.startsWith('must be ') &&
      problem.message.startsWith('must be ')
    ) {
      problems[problems.length - 1] = {
        ...problem,
        message: `${previous.message} or ${problem.message.slice(8)}`,
      }
      continue
    }
    problems.push(problem)
  }
  if (errors.length >= Settings.Get().maxErrors) {
    // Cut off inside a union: its branches so far would claim fewer choices than there are.
    if (open !== undefined) problems.length = open.start
    problems.push({ path: prefix, message: 'has more problems than listed', pointer: '' })
  }
  return problems
}
