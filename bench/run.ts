/**
 * `npm run bench`: every benchmark of issue 9 and the load run of issue 7, one after
 * the other (never in parallel: they would measure each other), a table per figure on
 * stdout, and BENCHMARKS.md rewritten with the machine, the Node version, the date and
 * the command behind each figure.
 *
 *   npm run bench                       everything; writes BENCHMARKS.md
 *   npm run bench -- --quick            a short smoke run; writes nothing
 *   npm run bench -- --only cold-start  one suite (comma-separated list); writes nothing
 *   … --write                           write BENCHMARKS.md anyway: with --only, a file of
 *                                       only those suites (the others' sections are dropped)
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { describeMachine } from './lib/machine.ts'
import { renderBenchmarks } from './lib/markdown.ts'
import { type SuiteContext, type SuiteResult, textTable } from './lib/report.ts'
import { cacheSuite } from './suites/cache.ts'
import { coldStartSuite } from './suites/cold-start.ts'
import { loadSuite } from './suites/load.ts'
import { pipelineSuite } from './suites/pipeline.ts'
import { providerSuite } from './suites/provider.ts'
import { sdkLoadSuite } from './suites/sdk-load.ts'

/** The suites, in the order they run and appear. */
export const SUITES: Record<string, (ctx: SuiteContext) => Promise<SuiteResult>> = {
  pipeline: pipelineSuite,
  cache: cacheSuite,
  provider: providerSuite,
  'cold-start': coldStartSuite,
  'sdk-load': sdkLoadSuite,
  load: loadSuite,
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      write: { type: 'boolean', default: false },
    },
  })
  const root = fileURLToPath(new URL('..', import.meta.url))
  const only = values.only?.split(',').map((s) => s.trim())
  const unknown = only?.filter((name) => !(name in SUITES)) ?? []
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown suite ${unknown.join(', ')} (known: ${Object.keys(SUITES).join(', ')})\n`,
    )
    process.exit(2)
  }
  const machine = describeMachine()
  const started = performance.now()
  const log = (message: string) => process.stderr.write(`bench: ${message}\n`)
  log(
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAtStart}${values.quick ? ' (quick)' : ''}`,
  )
  const results: { name: string; result: SuiteResult; seconds: number }[] = []
  for (const [name, suite] of Object.entries(SUITES)) {
    if (only && !only.includes(name)) continue
    const t0 = performance.now()
    log(`${name}…`)
    const result = await suite({ root, quick: values.quick, log })
    const seconds = (performance.now() - t0) / 1000
    results.push({ name, result, seconds })
    for (const section of result.sections) {
      process.stdout.write(`\n## ${section.title}   (${section.command})\n`)
      for (const { caption, table } of section.tables) {
        if (caption) process.stdout.write(`\n${caption}\n`)
        process.stdout.write(`\n${textTable(table)}\n`)
      }
    }
    log(`${name} done in ${seconds.toFixed(0)} s`)
  }
  const checks = results.flatMap((r) => r.result.checks)
  if (checks.length > 0) {
    process.stdout.write('\n## Targets\n\n')
    process.stdout.write(
      `${textTable({
        header: ['figure', 'target', 'measured', 'met'],
        rows: checks.map((c) => [c.figure, c.target, c.measured, c.met ? 'yes' : 'NO']),
      })}\n`,
    )
  }
  const totalSeconds = (performance.now() - started) / 1000
  log(`all done in ${totalSeconds.toFixed(0)} s`)
  const complete = only === undefined && !values.quick
  if (complete || values.write) {
    const file = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url))
    writeFileSync(
      file,
      renderBenchmarks({ machine, results, totalSeconds, quick: values.quick, root }),
    )
    log(`wrote ${file}`)
  }
}

await main()
