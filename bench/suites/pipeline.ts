/**
 * The pipeline end to end: `POST /events?wait=true` against the embedded runtime (what
 * `capbroker serve` runs, in a process of its own), and the same work through the core
 * alone — `Broker.handle` in this process, no HTTP. Every request has a new id, so each
 * one is claimed, resolved, injected, published and recorded; nothing is a duplicate.
 *
 * Warm: the catalog caches secrets for 5 minutes and the first request filled the
 * cache. Cold: the class has `cacheTtl: 0`, so every capability of every request is
 * read from the local store (SQLite + AES-GCM) — a cache miss per capability per
 * request, with the store's pages and the process itself warm; not a new process.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { CoreRunConfig, CoreRunResult } from '../lib/core-process.ts'
import { runLoad } from '../lib/http-load.ts'
import { fileSystemOf } from '../lib/machine.ts'
import type { Check, Section, SuiteContext, SuiteResult } from '../lib/report.ts'
import { startBenchServer } from '../lib/server-handle.ts'
import { count, type LatencySummary, ms, summarize } from '../lib/stats.ts'
import { type BenchSink, benchApp, createBenchWorkspace, requestedEvent } from '../lib/workspace.ts'
import { CASES, CONCURRENCY, type PipelineCase } from './pipeline-cases.ts'

interface Measured {
  readonly path: 'http' | 'core'
  readonly sink: BenchSink
  readonly caseOf: PipelineCase
  readonly perSecond: number
  readonly latency: LatencySummary
  readonly failures: number
  /** CPU time of the serving process per request (HTTP only): what one core can do. */
  readonly cpuMsPerRequest?: number
}

const HEADERS = { 'content-type': 'application/cloudevents+json' }

async function overHttp(ctx: SuiteContext, sink: BenchSink, seconds: number): Promise<Measured[]> {
  const ws = await createBenchWorkspace(sink)
  const server = await startBenchServer({ catalogPath: ws.catalogPath, home: ws.home, cwd: ws.dir })
  const results: Measured[] = []
  try {
    let n = 0
    for (const c of CASES) {
      const load = (durationMs: number) =>
        runLoad({
          url: server.url,
          concurrency: CONCURRENCY,
          durationMs,
          next: () => ({
            method: 'POST',
            path: '/events?wait=true',
            headers: HEADERS,
            body: requestedEvent(`http-${sink}-${n}`, c.environment, c.capabilities, benchApp(n++)),
          }),
        })
      await load(Math.min(1000, seconds * 250)) // JIT, caches, SQLite pages
      const before = await server.stats()
      const run = await load(seconds * 1000)
      const after = await server.stats()
      const failures =
        run.errors + [...run.statuses].filter(([s]) => s !== 200).reduce((a, [, k]) => a + k, 0)
      results.push({
        path: 'http',
        sink,
        caseOf: c,
        perSecond: (run.sent / run.elapsedMs) * 1000,
        latency: summarize(run.latenciesMs),
        failures,
        cpuMsPerRequest: (after.cpuMicros - before.cpuMicros) / 1000 / Math.max(1, run.sent),
      })
      ctx.log(`pipeline http ${sink} ${c.label}: ${count(results.at(-1)?.perSecond ?? 0)} req/s`)
    }
  } finally {
    await server.stop()
    ws.remove()
  }
  return results
}

const CORE_SCRIPT = fileURLToPath(new URL('../lib/core-process.ts', import.meta.url))

/** One core run in a fresh process (see lib/core-process.ts). */
function coreRun(config: CoreRunConfig): Promise<CoreRunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(CORE_SCRIPT, [JSON.stringify(config)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [],
    })
    child.once('message', (result) => resolve(result as CoreRunResult))
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`core benchmark process exited (${code})`))
    })
  })
}

async function inProcess(ctx: SuiteContext, sink: BenchSink, seconds: number): Promise<Measured[]> {
  const results: Measured[] = []
  for (const c of CASES) {
    const ws = await createBenchWorkspace(sink)
    try {
      const run = await coreRun({
        catalogPath: ws.catalogPath,
        home: ws.home,
        cwd: ws.dir,
        environment: c.environment,
        capabilities: c.capabilities,
        concurrency: CONCURRENCY,
        warmupMs: Math.min(1000, seconds * 250),
        durationMs: seconds * 1000,
      })
      results.push({ path: 'core', sink, caseOf: c, ...run })
      ctx.log(`pipeline core ${sink} ${c.label}: ${count(run.perSecond)} req/s`)
    } finally {
      ws.remove()
    }
  }
  return results
}

/** Runs both paths on both sinks. */
export async function pipelineSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const seconds = ctx.quick ? 1 : 5
  const measured: Measured[] = []
  for (const sink of ['store', 'service-binding'] as const) {
    measured.push(...(await overHttp(ctx, sink, seconds)))
    measured.push(...(await inProcess(ctx, sink, ctx.quick ? 1 : 3)))
  }
  const title = 'Pipeline: the embedded runtime over HTTP, and the core alone'
  const row = (m: Measured) => [
    m.path === 'http' ? 'HTTP' : 'core',
    m.sink,
    m.caseOf.label,
    count(m.perSecond),
    ms(m.latency.p50),
    ms(m.latency.p99),
    m.cpuMsPerRequest === undefined ? '–' : ms(m.cpuMsPerRequest),
    m.cpuMsPerRequest === undefined ? '–' : count(1000 / m.cpuMsPerRequest),
    count(m.latency.count),
    String(m.failures),
  ]
  // The target, for both sinks: the store sink, and service-binding (the embedded default).
  const checks: Check[] = []
  for (const sink of ['store', 'service-binding'] as const) {
    const headline = measured.find(
      (m) =>
        m.path === 'http' &&
        m.sink === sink &&
        m.caseOf.environment === 'warm' &&
        m.caseOf.capabilities === 1,
    )
    if (!headline) continue
    const figure = `embedded runtime, ${sink} sink, 1 capability, warm cache`
    checks.push({
      figure: `${figure}: throughput`,
      target: '≥ 2,000 req/s',
      measured: `${count(headline.perSecond)} req/s`,
      met: headline.perSecond >= 2000,
      section: title,
    })
    checks.push({
      figure: `${figure}: p99`,
      target: '≤ 10 ms',
      measured: `${ms(headline.latency.p99)} ms`,
      met: headline.latency.p99 <= 10,
      section: title,
    })
  }
  const section: Section = {
    title,
    what: [
      `\`POST /events?wait=true\` with a structured CloudEvent asking for 1 or 10 \`secret\` capabilities (JSON secrets of five entries each), ${CONCURRENCY} requests in flight over keep-alive connections (closed loop), against the embedded runtime in a process of its own — the catalog loader, SQLite state, the local store and the JSON request log at \`info\` of \`capbroker serve\`. Each request has a new id, so each runs the whole pipeline: claim, plan, read, inject, publish, record. **core** is \`Broker.handle\` on the same runtime in a fresh process of its own, ${CONCURRENCY} in flight, no HTTP: the event is parsed from the same JSON, so what is missing is the HTTP server, the response and its log line.`,
      `**warm**: a 5-minute cache that the warm-up filled. **cold**: \`cacheTtl: 0\` — every capability is read from the local store on every request (a miss each time; the store's pages and the process are warm, it is not a fresh process).`,
      `**CPU ms/req** is the CPU time (user + system) the serving process (the server, or the core process) spent per request during the run, and **one core, req/s** its inverse: what the server could serve with a core to itself — the machine has two, shared with the load generator, so the measured req/s is lower.\n\n**store** injects into one bundle secret per app and environment in the local store (written only when a value changed); **service-binding** writes the binding files (the embedded default). A binding whose files would not change is left as it is; the requests here re-deliver the same values, so after the warm-up these rows measure that check (read the published files, compare), not the write path — which writes and fsyncs every file and directory of a changed binding and publishes it by a symlink swap, bound by the disk's fsync latency. Bindings land on ${fileSystemOf(process.env.TMPDIR ?? '/tmp')}. ${seconds} s per row after a warm-up.`,
    ].join('\n\n'),
    tables: [
      {
        table: {
          header: [
            'path',
            'sink',
            'request',
            'req/s',
            'p50 ms',
            'p99 ms',
            'CPU ms/req',
            'one core, req/s',
            'requests',
            'not resolved',
          ],
          rows: measured.map(row),
        },
      },
    ],
    command: 'npm run bench -- --only pipeline',
  }
  return { sections: [section], checks }
}
