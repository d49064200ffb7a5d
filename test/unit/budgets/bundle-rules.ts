/**
 * The bundle budgets of issue 9 as pure checks over an esbuild metafile, so the test
 * can show each one failing on a made-up bundle as well as passing on the real one.
 */
import type { Metafile } from 'esbuild'
import { isAwsSdkPackage, packageOf } from '../../../bench/lib/function-bundles.ts'

/**
 * Issue 9's budget: the resolve bundle for an AWS-only catalog, minified, as serverless.yml
 * packages it, at most 400 KB (1 KB = 1000 bytes). It holds because the functions talk to
 * AWS through adapters/aws-common/json-client.ts rather than the SDK v3 clients (~400 KB
 * by themselves; see BENCHMARKS.md).
 */
export const RESOLVE_MAX_BYTES = 400_000

/** Code no Lambda bundle may carry: the Lambda build serves AWS Secrets Manager only. */
export const FORBIDDEN_PACKAGES = [
  'node_modules/@google-cloud/',
  'node_modules/google-gax/',
  'node_modules/@grpc/',
  'node_modules/@azure/',
] as const

/** How far a recorded size may drift before BENCHMARKS.md counts as stale. */
export const RECORDED_SIZE_TOLERANCE = 0.15

/** The single output of a one-entry build. */
function outputOf(metafile: Metafile) {
  const outputs = Object.values(metafile.outputs)
  if (outputs.length !== 1) throw new Error(`expected one output, got ${outputs.length}`)
  return outputs[0] as Metafile['outputs'][string]
}

/** The minified size of the bundle. */
export function bundleBytes(metafile: Metafile): number {
  return outputOf(metafile).bytes
}

/** Problems with the size of a bundle: empty when within `maxBytes`. */
export function bundleSizeProblems(name: string, metafile: Metafile, maxBytes: number): string[] {
  const bytes = bundleBytes(metafile)
  if (bytes <= maxBytes) return []
  return [
    `${name} is ${(bytes / 1000).toFixed(1)} KB minified, over its budget of ${(maxBytes / 1000).toFixed(0)} KB (largest packages: ${largestPackages(metafile).join(', ')})`,
  ]
}

/**
 * Inputs of the AWS SDK v3 (`@aws-sdk/*`, `@smithy/*`, `@aws-crypto/*`, `@aws/*`) that
 * put bytes into the bundle: the functions use the JSON client instead, so none may.
 */
export function awsSdkInputs(metafile: Metafile): string[] {
  return Object.entries(outputOf(metafile).inputs)
    .filter(([path, input]) => input.bytesInOutput > 0 && isAwsSdkPackage(packageOf(path)))
    .map(([path]) => path)
}

/** The five packages that put the most bytes into the bundle. */
function largestPackages(metafile: Metafile) {
  const byPackage = new Map<string, number>()
  for (const [path, input] of Object.entries(outputOf(metafile).inputs)) {
    const name = packageOf(path)
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput)
  }
  return [...byPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, n]) => `${name} ${(n / 1000).toFixed(1)} KB`)
}

/** Inputs of forbidden packages that put bytes into the bundle. */
export function forbiddenInputs(metafile: Metafile): string[] {
  return Object.entries(outputOf(metafile).inputs)
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path)
    .filter((path) => FORBIDDEN_PACKAGES.some((p) => path.includes(p)))
}

/**
 * Problems with the sizes BENCHMARKS.md records: a function with no recorded size, or
 * one whose recorded size is more than {@link RECORDED_SIZE_TOLERANCE} off today's.
 */
export function recordedSizeProblems(
  current: ReadonlyMap<string, number>,
  recorded: Readonly<Record<string, { minified?: number } | undefined>> | undefined,
): string[] {
  const problems: string[] = []
  for (const [name, bytes] of current) {
    const entry = recorded?.[name]?.minified
    if (entry === undefined) {
      problems.push(`BENCHMARKS.md records no size for ${name}`)
      continue
    }
    const drift = Math.abs(bytes - entry) / entry
    if (drift > RECORDED_SIZE_TOLERANCE)
      problems.push(
        `BENCHMARKS.md records ${name} at ${(entry / 1000).toFixed(1)} KB, it is ${(bytes / 1000).toFixed(1)} KB now (${(drift * 100).toFixed(0)} % off)`,
      )
  }
  return problems
}
