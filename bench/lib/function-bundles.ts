/**
 * The Lambda bundles exactly as `serverless package` builds them: the esbuild options
 * come from serverless.yml's `custom.esbuild`, merged over serverless-esbuild's
 * defaults the way the plugin merges them, with the plugin-only keys removed and
 * `exclude` turned into `external`. Nothing is restated by hand, so when serverless.yml
 * changes, the budgets and the cold-start benchmark measure the new build.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BuildOptions, Metafile } from 'esbuild'
import { build } from 'esbuild'
import { parse } from 'yaml'

/** Keys of `custom.esbuild` that configure serverless-esbuild itself, not esbuild. */
const PLUGIN_ONLY_KEYS = [
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
  'config',
] as const

/** serverless-esbuild's own defaults for the keys that reach esbuild (its index.js). */
const PLUGIN_DEFAULTS = {
  bundle: true,
  target: 'node18',
  external: [] as string[],
  exclude: ['aws-sdk'],
  platform: 'node',
  outputFileExtension: '.js',
}

/** serverless-esbuild's runtime → target mapping for the runtimes we might use. */
function targetOf(runtime: unknown): string | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(String(runtime ?? ''))
  return match ? `node${match[1]}` : undefined
}

/** A function of serverless.yml and the source file its handler names. */
export interface LambdaFunction {
  readonly name: string
  /** `functions/resolve.handler` */
  readonly handler: string
  /** `functions/resolve.ts` */
  readonly entry: string
  /**
   * The environment serverless.yml gives it (the provider's and its own): the value when
   * it is plain text after resolving `${self:…}`, `${sls:stage}` and defaults, else
   * undefined (a CloudFormation reference, a file, a parameter without default).
   */
  readonly environment: Readonly<Record<string, string | undefined>>
}

/** The stage the resolved values name (`${sls:stage}`). */
const STAGE = 'bench'

/**
 * Resolves the variables of one serverless.yml string that need no deployment:
 * `${self:a.b}`, `${sls:stage}`, and `${x, default}` through its default. Anything else
 * (an `${opt:…}`, `${param:…}` or `${file(…)}` without a default) gives undefined.
 */
export function resolveVariables(doc: unknown, value: unknown, depth = 0): string | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value !== 'string' || depth > 10) return undefined
  let unresolved = false
  const out = value.replace(/\$\{([^{}]+)\}/g, (_, expression: string) => {
    for (const candidate of expression.split(',').map((c) => c.trim())) {
      const quoted = /^'(.*)'$/.exec(candidate)
      if (quoted) return quoted[1] as string
      if (candidate === 'sls:stage') return STAGE
      if (candidate.startsWith('self:')) {
        let node: unknown = doc
        for (const key of candidate.slice(5).split('.'))
          node = (node as Record<string, unknown> | undefined)?.[key]
        const resolved = resolveVariables(doc, node, depth + 1)
        if (resolved !== undefined) return resolved
      }
    }
    unresolved = true
    return ''
  })
  return unresolved ? undefined : out
}

/** serverless.yml's esbuild settings and functions. */
export interface ServerlessBuild {
  /** esbuild options (without entry points and output paths). */
  readonly options: BuildOptions
  /** The bundle's file extension (`.cjs`). */
  readonly extension: string
  readonly functions: readonly LambdaFunction[]
  /** `custom.esbuild.exclude`: packages taken from the Lambda runtime, not bundled. */
  readonly exclude: readonly string[]
}

/** Reads `<root>/serverless.yml` into esbuild options and the function list. */
export function readServerlessBuild(root: string): ServerlessBuild {
  const doc = parse(readFileSync(join(root, 'serverless.yml'), 'utf8')) as {
    provider?: { runtime?: string; environment?: Record<string, unknown> }
    custom?: { esbuild?: Record<string, unknown> }
    functions?: Record<string, { handler?: string; environment?: Record<string, unknown> }>
  }
  const custom = doc.custom?.esbuild ?? {}
  const target = targetOf(doc.provider?.runtime)
  const merged: Record<string, unknown> = {
    ...PLUGIN_DEFAULTS,
    ...(target ? { target } : {}),
    ...custom,
  }
  const exclude = ((merged.exclude as string[] | undefined) ?? []).filter(
    (e) => typeof e === 'string',
  )
  const external = [
    ...((merged.external as string[] | undefined) ?? []),
    ...(exclude.includes('*') ? [] : exclude),
  ]
  const extension = String(merged.outputFileExtension ?? '.js')
  const options: Record<string, unknown> = { ...merged, external }
  for (const key of PLUGIN_ONLY_KEYS) delete options[key]
  const unresolved = Object.entries(options).filter(([, v]) => JSON.stringify(v).includes('${'))
  if (unresolved.length > 0) {
    throw new Error(
      `serverless.yml custom.esbuild uses variables this reader cannot resolve: ${unresolved.map(([k]) => k).join(', ')}`,
    )
  }
  const functions = Object.entries(doc.functions ?? {}).map(([name, fn]) => {
    const handler = String(fn.handler ?? '')
    const module = handler.slice(0, handler.lastIndexOf('.'))
    const variables = { ...doc.provider?.environment, ...fn.environment }
    const environment = Object.fromEntries(
      Object.entries(variables).map(([key, value]) => [key, resolveVariables(doc, value)]),
    )
    return { name, handler, entry: `${module}.ts`, environment }
  })
  return { options: options as BuildOptions, extension, functions, exclude }
}

/** One built bundle. */
export interface BuiltBundle {
  readonly name: string
  readonly bytes: Uint8Array
  readonly metafile: Metafile
  /** The written file, when built with `outdir`. */
  readonly path?: string
}

/**
 * Builds one entry with serverless.yml's options (plus `overrides`, for what-if
 * variants). With `outdir` the bundle is written there as `<name><extension>`.
 */
export async function buildFunction(
  root: string,
  settings: ServerlessBuild,
  name: string,
  entry: string,
  options: { outdir?: string; overrides?: BuildOptions; extension?: string } = {},
): Promise<BuiltBundle> {
  const extension = options.extension ?? settings.extension
  const outfile = join(options.outdir ?? join(root, '.esbuild', 'budget'), `${name}${extension}`)
  const result = await build({
    ...settings.options,
    ...options.overrides,
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    write: options.outdir !== undefined,
    metafile: true,
    logLevel: 'silent',
  })
  const metafile = result.metafile as Metafile
  const bytes =
    options.outdir === undefined
      ? (result.outputFiles?.[0]?.contents ?? new Uint8Array())
      : readFileSync(outfile)
  return { name, bytes, metafile, ...(options.outdir === undefined ? {} : { path: outfile }) }
}

/** An input of a bundle and the bytes it put into the output. */
export interface BundleInput {
  readonly path: string
  readonly bytes: number
}

/** The inputs that made it into the (single) output, largest first. */
export function bundleInputs(metafile: Metafile): BundleInput[] {
  const output = Object.values(metafile.outputs)[0]
  return Object.entries(output?.inputs ?? {})
    .map(([path, input]) => ({ path, bytes: input.bytesInOutput }))
    .filter((input) => input.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes)
}

/** The npm package an input path belongs to (`@smithy/core`), or its first folder. */
export function packageOf(path: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
  return match ? (match[1] as string) : (path.split('/')[0] ?? path)
}

/** Bytes per package, largest first. */
export function bytesByPackage(metafile: Metafile): { name: string; bytes: number }[] {
  const totals = new Map<string, number>()
  for (const input of bundleInputs(metafile))
    totals.set(packageOf(input.path), (totals.get(packageOf(input.path)) ?? 0) + input.bytes)
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes)
}

/**
 * The AWS SDK v3 and the packages only it pulls in: what the Lambda runtime could supply
 * instead of the bundle (`@aws-sdk/*`, `@smithy/*`, `@aws-crypto/*`, `@aws/*`).
 */
export const AWS_SDK_PACKAGE_SCOPES = ['@aws-sdk/', '@smithy/', '@aws-crypto/', '@aws/'] as const

/** Whether a package name (as {@link packageOf} gives it) is part of the AWS SDK v3. */
export function isAwsSdkPackage(name: string): boolean {
  return AWS_SDK_PACKAGE_SCOPES.some((scope) => name.startsWith(scope))
}
