/**
 * Writes what is generated from the TypeBox schemas, so that none of it is written by
 * hand: the published JSON Schema files (what `events/asyncapi.yaml`, editors and
 * other-language consumers read); the modules of checks the code runs
 * (events/generated/checks.ts, broker/generated/checks.ts) — each schema's check as
 * TypeBox's compiler builds it, so that no process builds or compiles a schema when it
 * starts; and the schemas by id for the problem lister (events/generated/problem-schemas.ts),
 * which only a value that fails its check needs. `npm run schemas` writes them;
 * `node scripts/write-schemas.ts --check` only lists the files that are missing or
 * differ (the unit suite runs the check, so a schema change without regenerated files
 * fails the build).
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Build } from 'typebox/schema'
import type * as Type from 'typebox/type'
import { CatalogSchema, CatalogShape, StoreOptionSchemas } from '../broker/catalog/schema.ts'
import { OtherWork, PushPayload } from '../broker/triggers/payloads.ts'
import {
  dataSchemas,
  InjectedData,
  OutcomeData,
  ReleasedData,
  RequestedData,
  ResolvedData,
  RotatedData,
} from '../events/data.ts'
import { type EventType, EventTypes } from '../events/types.ts'

/** One published schema file. */
export interface SchemaFile {
  /** Path from the repository root; its base name is also the last segment of `$id`. */
  readonly file: string
  readonly schema: Type.TSchema
  readonly title: string
  readonly description: string
}

/** The JSON Schema dialect every file declares. */
export const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema'
/** `$id` of a file is this base plus the file's base name. */
export const SCHEMA_BASE_URI = 'https://capbroker.dev/schemas/'

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const eventDescriptions: Record<EventType, string> = {
  [EventTypes.requested]:
    'data of io.capbroker.capability.requested.v1: an application asks for capabilities, as a native list or a Score workload',
  [EventTypes.resolved]:
    'data of io.capbroker.capability.resolved.v1: every capability is ready; entry names only, never values',
  [EventTypes.failed]:
    'data of io.capbroker.capability.failed.v1: at least one capability failed; every capability with its status',
  [EventTypes.denied]:
    'data of io.capbroker.capability.denied.v1: policy refused the request or a capability',
  [EventTypes.injected]:
    'data of io.capbroker.binding.injected.v1: where the bindings were written',
  [EventTypes.rotated]:
    'data of io.capbroker.binding.rotated.v1: a value changed at the provider and was re-injected',
  [EventTypes.released]:
    'data of io.capbroker.capability.released.v1: a capability was removed and its binding cleaned up',
}

function eventSchemaFile(type: EventType): SchemaFile {
  return {
    file: `events/schemas/${type}.json`,
    schema: dataSchemas[type],
    title: `${type} data`,
    description: eventDescriptions[type],
  }
}

/**
 * Every published schema. Add a schema with one more entry here, for example
 * `{ file: 'schemas/capbroker.schema.json', schema: CatalogSchema, title: …, description: … }`.
 */
export const schemaFiles: readonly SchemaFile[] = [
  ...Object.values(EventTypes).map(eventSchemaFile),
  {
    file: 'schemas/capbroker.schema.json',
    schema: CatalogSchema,
    title: 'capbroker catalog (capbroker.yaml)',
    description:
      "The platform team's catalog: named stores, environments and their sinks, classes (type + environment → store + key), policies (deny by default), and the Git and Slack triggers (git.repos, chatops.slack).",
  },
]

/** The exact text of a schema file: annotations first, then the schema, two-space JSON. */
export function renderSchema(entry: SchemaFile): string {
  // JSON round trip: TypeBox keeps its bookkeeping (`~kind`) in non-enumerable properties.
  const schema = JSON.parse(JSON.stringify(entry.schema)) as Record<string, unknown>
  const { title: _title, description: _description, ...rest } = schema
  const document = {
    $schema: SCHEMA_DIALECT,
    $id: `${SCHEMA_BASE_URI}${basename(entry.file)}`,
    title: entry.title,
    description: entry.description,
    ...rest,
  }
  return `${JSON.stringify(document, null, 2)}\n`
}

/** One generated module of checks: each export a schema, or a record of schemas. */
export interface CheckModule {
  /** Path from the repository root. */
  readonly file: string
  /** Where its schemas are defined, for the header. */
  readonly sources: readonly string[]
  readonly checks: Readonly<Record<string, Type.TSchema | Readonly<Record<string, Type.TSchema>>>>
}

/** Every generated module of checks. Run-time code imports these, never the schemas. */
export const checkModules: readonly CheckModule[] = [
  {
    file: 'events/generated/checks.ts',
    sources: ['events/data.ts'],
    checks: { RequestedData, ResolvedData, OutcomeData, InjectedData, RotatedData, ReleasedData },
  },
  {
    file: 'broker/generated/checks.ts',
    sources: ['broker/catalog/schema.ts', 'broker/triggers/payloads.ts'],
    checks: { CatalogShape, StoreOptions: StoreOptionSchemas, PushPayload, OtherWork },
  },
]

/**
 * The generated module of the schemas themselves, by id, as the problem lister reads them
 * (events/problems.ts): only a value that fails its check needs its schema.
 */
export const PROBLEM_SCHEMAS_FILE = 'events/generated/problem-schemas.ts'

const isSchema = (value: object): value is Type.TSchema => '~kind' in value

/** Every schema of a module of checks with its id (`CatalogShape`, `StoreOptions.local`). */
function schemasOf(module: CheckModule): [string, Type.TSchema][] {
  return Object.entries(module.checks).flatMap(([name, entry]): [string, Type.TSchema][] =>
    isSchema(entry)
      ? [[name, entry]]
      : Object.entries(entry as Readonly<Record<string, Type.TSchema>>).map(
          ([key, schema]): [string, Type.TSchema] => [`${name}.${key}`, schema],
        ),
  )
}

/**
 * One schema's check as an expression: the functions TypeBox's compiler builds for it
 * (`Build` of `typebox/schema`, what `Compile` and `Code` of `typebox/compile` use), in a
 * scope of their own with the regular expressions they use as literals.
 */
function checkExpression(id: string, schema: Type.TSchema): string {
  const build = Build(schema)
  // The unevaluated keywords need TypeBox's run-time context; none of our schemas uses them.
  if (build.UseUnevaluated())
    throw new Error(`${id}: unevaluatedProperties/Items are not supported in generated checks`)
  const { identifier, variables } = build.External()
  const literals = variables.map((variable, i) => {
    if (variable instanceof RegExp) return String(variable)
    throw new Error(`${id}: external ${i} of its check is not a regular expression`)
  })
  const lines = [
    `const ${identifier} = [${literals.join(', ')}]`,
    ...build.Functions(),
    `return (value) => ${build.Entry()}`,
  ]
  // Pure: a bundle that never uses a check leaves it out.
  return `/* @__PURE__ */ (() => {\n${lines.map((line) => `  ${line}`).join('\n')}\n})()`
}

function checkedSchema(id: string, schema: Type.TSchema): string {
  return `{\n  id: ${JSON.stringify(id)},\n  check: ${checkExpression(id, schema)},\n}`
}

const header = (sources: readonly string[]) =>
  `// Generated by \`npm run schemas\` (scripts/write-schemas.ts) from ${sources.join(', ')}: do not edit.`

/** The import of a module of this repository from a generated file. */
function importPath(from: string, to: string): string {
  const path = relative(dirname(from), to)
  return path.startsWith('.') ? path : `./${path}`
}

/** The exact text of a generated module of checks. */
export function renderChecks(module: CheckModule): string {
  const exports = Object.entries(module.checks).map(([name, entry]) => {
    if (isSchema(entry))
      return `export const ${name}: CheckedSchema = ${checkedSchema(name, entry)}`
    const members = schemasOf({ ...module, checks: { [name]: entry } }).map(
      ([id, schema]) =>
        `${JSON.stringify(id.slice(name.length + 1))}: ${checkedSchema(id, schema)}`,
    )
    const keys = Object.keys(entry).map((key) => JSON.stringify(key))
    return `export const ${name}: Readonly<Record<${keys.join(' | ')}, CheckedSchema>> = {\n${members.join(',\n')},\n}`
  })
  const body = exports.join('\n\n')
  const imports = [
    body.includes('Guard.') ? `import { Guard } from 'typebox/guard'` : undefined,
    body.includes('Hashing.') ? `import { Hashing } from 'typebox/system'` : undefined,
    `import type { CheckedSchema } from '${importPath(module.file, 'events/validate.ts')}'`,
  ].filter((line) => line !== undefined)
  // Names these checks in a packaged catalog's stamp (broker/catalog/stamp.ts): a file
  // checked by other checks is checked again.
  const digest = createHash('sha256').update(body).digest('hex').slice(0, 16)
  const digestLine = `/** A digest of the checks above. */\nexport const CHECKS_DIGEST = ${JSON.stringify(digest)}`
  return [header(module.sources), '// @ts-nocheck', ...imports, '', body, '', digestLine, ''].join(
    '\n',
  )
}

/**
 * The exact text of {@link PROBLEM_SCHEMAS_FILE}: every schema of every module of checks
 * by id, as JSON text (parsed on first use), without annotations (`description`, `title`,
 * …), which no problem message reads.
 */
export function renderProblemSchemas(modules: readonly CheckModule[] = checkModules): string {
  const entries = modules.flatMap(schemasOf).map(([id, schema]) => {
    const json = JSON.stringify(withoutAnnotations(JSON.parse(JSON.stringify(schema))))
    return `  ${JSON.stringify(id)}: ${JSON.stringify(json)},`
  })
  return [
    header(modules.flatMap((module) => module.sources)),
    '',
    "/** Each generated check's schema by its id, as JSON text. */",
    'export const problemSchemas: Readonly<Record<string, string>> = {',
    ...entries,
    '}',
    '',
  ].join('\n')
}

/** The JSON Schema keywords that only annotate. */
const ANNOTATIONS = new Set(['title', 'description', 'examples', '$comment', 'default'])
/** The keywords whose value maps names to schemas (the names are not keywords). */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'dependentSchemas'])

/** A schema without its annotations, walked through every keyword that holds schemas. */
function withoutAnnotations(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutAnnotations)
  if (typeof schema !== 'object' || schema === null) return schema
  const result: Record<string, unknown> = {}
  for (const [keyword, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue
    if (keyword === 'const' || keyword === 'enum') result[keyword] = value
    else if (SCHEMA_MAPS.has(keyword) && typeof value === 'object' && value !== null)
      result[keyword] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, withoutAnnotations(sub)]),
      )
    else result[keyword] = withoutAnnotations(value)
  }
  return result
}

/** A file written from the schemas: a published schema or a module of checks. */
export type GeneratedFile =
  | SchemaFile
  | CheckModule
  | { readonly file: typeof PROBLEM_SCHEMAS_FILE }

/** Every file written from the schemas. */
export const generatedFiles: readonly GeneratedFile[] = [
  ...schemaFiles,
  ...checkModules,
  { file: PROBLEM_SCHEMAS_FILE },
]

/** The exact text of a generated file. */
export function render(entry: GeneratedFile): string {
  if ('checks' in entry) return renderChecks(entry)
  if ('schema' in entry) return renderSchema(entry)
  return renderProblemSchemas()
}

/** Writes every generated file under `root`; returns the paths written (from `root`). */
export async function writeSchemas(
  files: readonly GeneratedFile[] = generatedFiles,
  root = repositoryRoot,
): Promise<string[]> {
  for (const entry of files) {
    const target = join(root, entry.file)
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, render(entry))
  }
  return files.map((entry) => entry.file)
}

/** The files under `root` that are missing or differ from what {@link writeSchemas} would write. */
export async function staleSchemas(
  files: readonly GeneratedFile[] = generatedFiles,
  root = repositoryRoot,
): Promise<string[]> {
  const stale: string[] = []
  for (const entry of files) {
    const current = await readFile(join(root, entry.file), 'utf8').catch(() => undefined)
    if (current !== render(entry)) stale.push(entry.file)
  }
  return stale
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--check')) {
    const stale = await staleSchemas()
    for (const file of stale) console.error(`stale: ${file}`)
    if (stale.length > 0) console.error('run `npm run schemas` and commit the result')
    return stale.length > 0 ? 1 : 0
  }
  for (const file of await writeSchemas()) console.log(`wrote ${file}`)
  return 0
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2))
}
