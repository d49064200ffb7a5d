/**
 * Writes the published JSON Schema files from their TypeBox source, so the files that
 * `events/asyncapi.yaml`, editors and other-language consumers read are never written by
 * hand. `npm run schemas` writes them; `node scripts/write-schemas.ts --check` only lists
 * the files that are missing or differ (the unit suite runs the check, so a schema change
 * without regenerated files fails the build).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as Type from 'typebox/type'
import { CatalogSchema } from '../broker/catalog/schema.ts'
import { dataSchemas, type EventType, EventTypes } from '../events/index.ts'

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

/** Writes every schema file under `root`; returns the paths written (from `root`). */
export async function writeSchemas(
  files: readonly SchemaFile[] = schemaFiles,
  root = repositoryRoot,
): Promise<string[]> {
  for (const entry of files) {
    const target = join(root, entry.file)
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, renderSchema(entry))
  }
  return files.map((entry) => entry.file)
}

/** The files under `root` that are missing or differ from what {@link writeSchemas} would write. */
export async function staleSchemas(
  files: readonly SchemaFile[] = schemaFiles,
  root = repositoryRoot,
): Promise<string[]> {
  const stale: string[] = []
  for (const entry of files) {
    const current = await readFile(join(root, entry.file), 'utf8').catch(() => undefined)
    if (current !== renderSchema(entry)) stale.push(entry.file)
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
