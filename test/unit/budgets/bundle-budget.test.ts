/**
 * Bundle budgets, from the esbuild metafile of each Lambda function built exactly as
 * serverless.yml builds it (settings read from serverless.yml, not restated): sizes,
 * never timings, so the test is exact on any machine. Timings live in `npm run bench`.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Metafile } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildFunction, readServerlessBuild } from '../../../bench/lib/function-bundles.ts'
import { readBenchData } from '../../../bench/lib/markdown.ts'
import {
  awsSdkInputs,
  bundleBytes,
  bundleSizeProblems,
  forbiddenInputs,
  RESOLVE_MAX_BYTES,
  recordedSizeProblems,
} from './bundle-rules.ts'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const settings = readServerlessBuild(ROOT)
const metafiles = new Map<string, Metafile>()

beforeAll(async () => {
  for (const fn of settings.functions) {
    const built = await buildFunction(ROOT, settings, fn.name, fn.entry)
    metafiles.set(fn.name, built.metafile)
  }
}, 120_000)

const metafileOf = (name: string) => {
  const metafile = metafiles.get(name)
  if (!metafile) throw new Error(`no bundle built for ${name}`)
  return metafile
}

describe('Lambda bundle budgets (serverless.yml settings)', () => {
  it('builds every function serverless.yml names, resolve among them', () => {
    expect(settings.functions.map((f) => f.name)).toContain('resolve')
    expect(metafiles.size).toBe(settings.functions.length)
  })

  it(`keeps the packaged resolve bundle within ${RESOLVE_MAX_BYTES / 1000} KB minified`, () => {
    expect(bundleSizeProblems('resolve', metafileOf('resolve'), RESOLVE_MAX_BYTES)).toEqual([])
  })

  it.each(settings.functions.map((f) => f.name))(
    '%s carries no AWS SDK v3 code (the JSON client talks to AWS)',
    (name) => {
      expect(awsSdkInputs(metafileOf(name))).toEqual([])
    },
  )

  it.each(settings.functions.map((f) => f.name))(
    '%s carries no Google Cloud or Azure code',
    (name) => {
      expect(forbiddenInputs(metafileOf(name))).toEqual([])
    },
  )

  it('has every function’s size recorded in BENCHMARKS.md (run `npm run bench` to refresh)', () => {
    const markdown = readFileSync(new URL('../../../BENCHMARKS.md', import.meta.url), 'utf8')
    const recorded = readBenchData(markdown)?.bundleSizes as
      | Record<string, { minified?: number }>
      | undefined
    const current = new Map([...metafiles].map(([name, m]) => [name, bundleBytes(m)]))
    expect(recordedSizeProblems(current, recorded)).toEqual([])
  })
})

describe('the budget checks fail when they should', () => {
  const fake = (bytes: number, inputs: Record<string, number>): Metafile => ({
    inputs: {},
    outputs: {
      'out.cjs': {
        bytes,
        imports: [],
        exports: [],
        inputs: Object.fromEntries(
          Object.entries(inputs).map(([path, n]) => [path, { bytesInOutput: n }]),
        ),
      },
    },
  })

  it('flags resolve over its budget, naming its largest packages', () => {
    const inputs = { 'node_modules/typebox/x.mjs': 300_000, 'broker/a.ts': 100 }
    const [problem] = bundleSizeProblems(
      'resolve',
      fake(RESOLVE_MAX_BYTES + 1, inputs),
      RESOLVE_MAX_BYTES,
    )
    expect(problem).toMatch(/^resolve is 400\.0 KB minified, over its budget of 400 KB/)
    expect(problem).toContain('largest packages: typebox 300.0 KB, broker 0.1 KB)')
    expect(
      bundleSizeProblems('resolve', fake(RESOLVE_MAX_BYTES, inputs), RESOLVE_MAX_BYTES),
    ).toEqual([])
  })

  it('flags AWS SDK code that made it into the output, not a look-alike or what was shaken out', () => {
    const metafile = fake(1000, {
      'node_modules/@smithy/core/dist-es/index.js': 150,
      'node_modules/@aws-sdk/client-dynamodb/dist-es/index.js': 0,
      'node_modules/@aws-crypto/util/build/module/index.js': 2,
      'node_modules/@aws/lambda-invoke-store/dist-es/index.js': 1,
      'node_modules/@awsome/x/index.js': 1_000,
      'adapters/aws-common/json-client.ts': 100,
    })
    expect(awsSdkInputs(metafile)).toEqual([
      'node_modules/@smithy/core/dist-es/index.js',
      'node_modules/@aws-crypto/util/build/module/index.js',
      'node_modules/@aws/lambda-invoke-store/dist-es/index.js',
    ])
  })

  it('flags Google and Azure code that made it into the output, not what was shaken out', () => {
    const metafile = fake(1000, {
      'node_modules/@azure/keyvault-secrets/dist/index.js': 10,
      'node_modules/@google-cloud/secret-manager/build/index.js': 0,
      'node_modules/google-gax/build/src/index.js': 5,
      'adapters/aws-secrets-manager/store.ts': 100,
    })
    expect(forbiddenInputs(metafile)).toEqual([
      'node_modules/@azure/keyvault-secrets/dist/index.js',
      'node_modules/google-gax/build/src/index.js',
    ])
  })

  it('flags a function without a recorded size, and a stale record', () => {
    const current = new Map([
      ['resolve', 300_000],
      ['ingest', 200_000],
      ['notify', 100_000],
    ])
    expect(
      recordedSizeProblems(current, {
        resolve: { minified: 310_000 },
        ingest: { minified: 100_000 },
      }),
    ).toEqual([
      'BENCHMARKS.md records ingest at 100.0 KB, it is 200.0 KB now (100 % off)',
      'BENCHMARKS.md records no size for notify',
    ])
    expect(recordedSizeProblems(current, undefined)).toHaveLength(3)
  })
})
