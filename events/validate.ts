/**
 * Checks values against the schemas of events, the catalog and the triggers' payloads.
 * Each schema's check is generated ahead of time from its TypeBox source by
 * `npm run schemas` (scripts/write-schemas.ts), so no schema is built or compiled when a
 * process starts. Only a value that fails its check gets its problems listed, by
 * TypeBox's schema engine (problems.ts), reached through `#schema-problems` (package.json
 * `imports`): directly, or in the Lambda bundles from a file packaged beside them, loaded
 * on the first failure (functions/schema-problems.ts) — so a cold start neither reads
 * nor runs it.
 */
import { listProblems } from '#schema-problems'

/**
 * A schema as run-time code uses it: its check, generated ahead of time, and the id under
 * which the problem lister finds the schema itself (events/generated/problem-schemas.ts).
 */
export interface CheckedSchema {
  readonly id: string
  readonly check: (value: unknown) => boolean
  /** The schema itself, for a check made at run time (tests); generated checks have none. */
  readonly schema?: object
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

/**
 * Checks a value against a schema and lists its problems, most specific first (none when
 * it conforms); `prefix` names the root in their paths (`data`). Problems never quote the
 * offending value: it may be a secret.
 */
export function validate(schema: CheckedSchema, value: unknown, prefix = ''): ValidationProblem[] {
  return schema.check(value) ? [] : listProblems(schema, value, prefix)
}
