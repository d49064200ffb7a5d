/**
 * Lists what is wrong with a value that failed its generated check (validate.ts), with
 * TypeBox's schema engine (`Errors` of `typebox/schema`) over the schema the check was
 * generated from (generated/problem-schemas.ts). Run-time code reaches it through
 * `#schema-problems` (package.json `imports`): directly, or — in the Lambda bundles —
 * built into a file of its own at packaging and loaded on the first failure
 * (functions/schema-problems.ts).
 */
import { Errors as schemaErrors } from 'typebox/schema'
import { Settings } from 'typebox/system'
import { problemSchemas } from './generated/problem-schemas.ts'
import { type CheckedSchema, readablePath, type ValidationProblem } from './validate.ts'

/** Each generated check's schema, parsed on first use. */
const parsed = new Map<string, object>()

function schemaOf(checked: CheckedSchema): object {
  if (checked.schema !== undefined) return checked.schema
  let schema = parsed.get(checked.id)
  if (schema === undefined) {
    const json = problemSchemas[checked.id]
    if (json === undefined)
      throw new Error(`no schema for the check "${checked.id}": run \`npm run schemas\``)
    schema = JSON.parse(json) as object
    parsed.set(checked.id, schema)
  }
  return schema
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
 * Lists the problems of a value that failed its check, most specific first, with
 * the noise of the validator (`schema is false` echoes of additionalProperties, the
 * summary of a union whose branches already spoke) removed. The validator stops after
 * `Settings.maxErrors` errors; a cut-off list ends with a problem saying so.
 * Problems never quote the offending value: it may be a secret.
 */
export function listProblems(
  checked: CheckedSchema,
  value: unknown,
  prefix = '',
): ValidationProblem[] {
  const [, errors] = schemaErrors(schemaOf(checked), value)
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
