/**
 * The catalog without its file format: a parsed document → schema check →
 * cross-reference checks → a {@link Catalog}. load.ts reads `capbroker.yaml` into a
 * document (with line numbers for every problem) and compiles its globs with picomatch;
 * the Lambda functions read the JSON that packaging writes from it, with the globs
 * already compiled (infra/catalog-access.ts, {@link parsePackagedCatalog}), and so
 * never load a YAML parser, nor picomatch for the catalog's globs (the github and slack
 * triggers still match branches and chat users' apps with it). Every problem names the file, the path in the
 * document and what was expected; all problems are reported at once.
 */
import { validate } from '../../events/index.ts'
import { CatalogError, type Problem } from '../errors.ts'
import { CatalogShape, StoreOptions } from '../generated/checks.ts'
import { type GlobCompiler, globMatcher, type PackagedGlob, packagedGlobs } from '../globs.ts'
import { Policy } from '../policy.ts'
import { parseTemplate, TemplateSyntaxError } from '../template.ts'
import { checkTriggerSections, STORE_REFERENCE_PROPERTIES } from '../triggers/catalog-check.ts'
import type {
  AdapterKind,
  CatalogDocument,
  ClassConfig,
  EnvironmentConfig,
  StoreConfig,
} from './schema.ts'
import { packagedStamp } from './stamp.ts'

/** The adapter kinds a catalog may name. */
const ADAPTER_KINDS = Object.keys(StoreOptions) as AdapterKind[]

/** The default cache TTL for resolved secrets: five minutes. */
export const DEFAULT_CACHE_TTL_MS = 5 * 60_000
/** Catalogs are small; anything bigger is a mistake or an attack. */
export const MAX_CATALOG_BYTES = 1024 * 1024

/** A validated catalog, ready for the broker. */
export interface Catalog {
  readonly file: string
  readonly document: CatalogDocument
  readonly stores: ReadonlyMap<string, StoreConfig>
  readonly environments: ReadonlyMap<string, EnvironmentConfig>
  readonly classes: readonly ClassConfig[]
  readonly policy: Policy
  readonly cacheTtlMs: number
  /** The first class that serves this type (and class) in this environment. */
  findClass(
    type: string,
    capabilityClass: string | undefined,
    environment: string,
  ): ClassConfig | undefined
  /** A class's cache TTL, or the catalog's. */
  cacheTtlFor(cls: ClassConfig): number
}

/** Parses `250ms`, `30s`, `5m`, `1h` or a number of seconds into milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value * 1000
  const match = /^([0-9]+)(ms|s|m|h)$/.exec(value)
  if (!match) throw new Error(`invalid duration "${value}"`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h']
  return Number(match[1]) * unit
}

const isGlob = (s: string) => /[*?[\]{}!()]/.test(s)

/** Where a problem is in the source document, when the format can tell (YAML can). */
export type Locate = (pointer: string | undefined) => { line?: number; column?: number }

/**
 * Validates a parsed catalog document and builds the {@link Catalog}, its globs
 * compiled by `compile`. `file` is used in messages only; `locate` adds line and column
 * to each problem when the source has them. Throws {@link CatalogError} listing every
 * problem.
 */
export function catalogFromDocument(
  data: unknown,
  file: string,
  compile: GlobCompiler,
  locate: Locate = () => ({}),
): Catalog {
  if (data === null || data === undefined)
    throw new CatalogError(file, [
      {
        path: '',
        message: 'is empty (expected a mapping with version, stores, environments, classes)',
      },
    ])
  const shapeProblems: Problem[] = validate(CatalogShape, data).map((p) => ({
    path: p.path,
    message: storeReferenceMessage(p.pointer, p.message),
    ...locate(p.pointer),
  }))
  if (shapeProblems.length > 0) throw new CatalogError(file, shapeProblems)

  const document = data as CatalogDocument
  const problems = [...crossCheck(document), ...checkTriggerSections(document)].map((p) => ({
    path: p.path,
    message: p.message,
    ...locate(p.pointer),
  }))
  if (problems.length > 0) throw new CatalogError(file, problems)
  return buildCatalog(file, document, compile)
}

/**
 * What packaging writes for the Lambda functions (infra/catalog-access.ts): the
 * validated catalog document, every glob it holds, compiled, and the stamp of the two
 * (broker/catalog/stamp.ts).
 */
export interface PackagedCatalogFile {
  readonly catalog: CatalogDocument
  readonly globs: readonly PackagedGlob[]
  readonly stamp?: string
}

/**
 * Reads a packaged catalog ({@link PackagedCatalogFile}); its globs come from the file,
 * so picomatch is not loaded. A file whose stamp matches was checked when it was
 * packaged, by the generated checks this code carries, and has not changed since: its
 * catalog is built without checking it again (stamp.ts says what the stamp does not
 * name). Any other is checked in full, as a YAML catalog is.
 * `hint` says where such a file comes from, for anything else: a YAML catalog or a
 * plain JSON one.
 */
export function parsePackagedCatalog(text: string, file: string, hint: string): Catalog {
  const data = parseJson(text, file, hint)
  if (!isPackagedCatalog(data)) {
    // A catalog's own JSON is the likely mistake: a file written by an older capbroker.
    const what =
      isObject(data) && 'version' in data
        ? 'is a catalog document, not a packaged catalog { catalog, globs }'
        : 'is not a packaged catalog (expected { catalog, globs })'
    throw new CatalogError(file, [{ path: '', message: `${what}; ${hint}` }])
  }
  const compile = packagedGlobs(data.globs, file)
  if (typeof data.stamp === 'string' && data.stamp === packagedStamp(data.catalog, data.globs))
    return buildCatalog(file, data.catalog as CatalogDocument, compile)
  return catalogFromDocument(data.catalog, file, compile)
}

const isObject = (data: unknown): data is Record<string, unknown> =>
  typeof data === 'object' && data !== null && !Array.isArray(data)

/** The envelope only: the document and the table are checked by their readers. */
const isPackagedCatalog = (
  data: unknown,
): data is { catalog: unknown; globs: unknown[]; stamp?: unknown } =>
  isObject(data) && 'catalog' in data && Array.isArray(data.globs)

/** The JSON value of `text`, or a {@link CatalogError} that says where it is not JSON. */
function parseJson(text: string, file: string, hint: string): unknown {
  checkCatalogSize(text, file)
  try {
    return JSON.parse(text)
  } catch (error) {
    // Where, not what: V8's message quotes the text, which is not ours to repeat.
    const where = /at position \d+(?: \(line \d+ column \d+\))?/.exec((error as Error).message)
    throw new CatalogError(
      file,
      [{ path: '', message: `is not JSON${where ? ` (${where[0]})` : ''}; ${hint}` }],
      { cause: error },
    )
  }
}

/** Refuses a catalog over {@link MAX_CATALOG_BYTES}. */
export function checkCatalogSize(text: string, file: string): void {
  if (Buffer.byteLength(text, 'utf8') > MAX_CATALOG_BYTES) {
    throw new CatalogError(file, [
      { path: '', message: `is larger than ${MAX_CATALOG_BYTES} bytes` },
    ])
  }
}

type PointedProblem = { path: string; message: string; pointer: string }

/** A literal where a `{ store, key }` belongs reads as a secret pasted into the catalog. */
function storeReferenceMessage(pointer: string | undefined, message: string): string {
  const property = pointer?.split('/').at(-1) ?? ''
  if (STORE_REFERENCE_PROPERTIES.includes(property) && message === 'must be object')
    return 'must be a store reference { store, key }: put the secret in a store, never in the catalog'
  return message
}

function crossCheck(doc: CatalogDocument): PointedProblem[] {
  const problems: PointedProblem[] = []
  const add = (pointer: string, path: string, message: string) =>
    problems.push({ pointer, path, message })
  const storeNames = Object.keys(doc.stores)
  const envNames = Object.keys(doc.environments)
  const storeList = storeNames.length > 0 ? storeNames.join(', ') : 'none defined'

  for (const [name, config] of Object.entries(doc.stores)) {
    if (!ADAPTER_KINDS.includes(config.adapter as AdapterKind)) {
      add(
        `/stores/${name}/adapter`,
        `stores.${name}.adapter`,
        `unknown adapter "${config.adapter}" (expected one of ${ADAPTER_KINDS.join(', ')})`,
      )
      continue
    }
    for (const p of validate(
      StoreOptions[config.adapter as AdapterKind],
      config,
      `stores.${name}`,
    )) {
      add(`/stores/${name}${p.pointer ?? ''}`, p.path, p.message)
    }
  }
  const checkTemplate = (pointer: string, path: string, template: string, allowed?: string[]) => {
    try {
      parseTemplate(template, allowed)
    } catch (error) {
      if (!(error instanceof TemplateSyntaxError)) throw error
      add(pointer, path, error.message)
    }
  }
  const checkEnvironments = (
    pointer: string,
    path: string,
    globs: readonly string[] | undefined,
  ) => {
    globs?.forEach((glob, i) => {
      if (!isGlob(glob) && !envNames.includes(glob)) {
        add(
          `${pointer}/${i}`,
          `${path}[${i}]`,
          `unknown environment "${glob}" (defined: ${envNames.join(', ') || 'none'})`,
        )
      }
    })
  }
  for (const [name, env] of Object.entries(doc.environments)) {
    if (env.inject.to === 'store') {
      if (!storeNames.includes(env.inject.store)) {
        add(
          `/environments/${name}/inject/store`,
          `environments.${name}.inject.store`,
          `unknown store "${env.inject.store}" (defined: ${storeList})`,
        )
      }
      checkTemplate(
        `/environments/${name}/inject/name`,
        `environments.${name}.inject.name`,
        env.inject.name,
        ['app', 'environment'],
      )
    }
  }
  doc.classes.forEach((cls, i) => {
    const base = `classes[${i}]`
    if (!storeNames.includes(cls.store))
      add(
        `/classes/${i}/store`,
        `${base}.store`,
        `unknown store "${cls.store}" (defined: ${storeList})`,
      )
    checkTemplate(`/classes/${i}/key`, `${base}.key`, cls.key)
    if (cls.version !== undefined)
      checkTemplate(`/classes/${i}/version`, `${base}.version`, cls.version)
    checkEnvironments(`/classes/${i}/environments`, `${base}.environments`, cls.environments)
    for (const entry of Object.keys(cls.outputs ?? {})) {
      if (entry === 'type' || entry === 'provider') {
        add(
          `/classes/${i}/outputs/${entry}`,
          `${base}.outputs.${entry}`,
          `"${entry}" is written by the broker; choose another entry name`,
        )
      }
    }
    if (cls.outputs) {
      cls.secret?.forEach((entry, j) => {
        if (!Object.hasOwn(cls.outputs ?? {}, entry)) {
          add(
            `/classes/${i}/secret/${j}`,
            `${base}.secret[${j}]`,
            `"${entry}" is not one of the outputs (${Object.keys(cls.outputs ?? {}).join(', ')})`,
          )
        }
      })
    }
  })
  for (const [i, rule] of (doc.policies ?? []).entries()) {
    checkEnvironments(
      `/policies/${i}/environments`,
      `policies[${i}].environments`,
      rule.environments,
    )
  }
  return problems
}

function buildCatalog(file: string, document: CatalogDocument, compile: GlobCompiler): Catalog {
  const cacheTtlMs =
    document.cache?.ttl === undefined ? DEFAULT_CACHE_TTL_MS : parseDuration(document.cache.ttl)
  const classes = document.classes.map((cls) => ({
    cls,
    environments: cls.environments
      ? globMatcher(cls.environments, { dot: false }, compile)
      : () => true,
    ttlMs: cls.cacheTtl === undefined ? cacheTtlMs : parseDuration(cls.cacheTtl),
  }))
  const ttl = new Map(classes.map((c) => [c.cls, c.ttlMs]))
  return {
    file,
    document,
    stores: new Map(Object.entries(document.stores)),
    environments: new Map(Object.entries(document.environments)),
    classes: document.classes,
    policy: new Policy(document.policies ?? [], compile),
    cacheTtlMs,
    findClass(type, capabilityClass, environment) {
      // A class without `class` serves every flavour of its type; one with `class` only its own.
      return classes.find(
        (c) =>
          c.cls.type === type &&
          (c.cls.class === undefined || c.cls.class === capabilityClass) &&
          c.environments(environment),
      )?.cls
    },
    cacheTtlFor(cls) {
      return ttl.get(cls) ?? cacheTtlMs
    },
  }
}
