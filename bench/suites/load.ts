/**
 * The load run of issue 7: a sustained run against the embedded runtime with duplicate
 * deliveries and provider faults, then the state read back to prove that every accepted
 * request has exactly one recorded outcome.
 *
 * - 5 % of sends are duplicates (same source and id): half of an id still in flight
 *   (a concurrent redelivery), half of one already answered (a sequential one).
 * - 2 % of the local store's reads fail with UnavailableError (a bench-only registry,
 *   inside the store's timeouts, retries and breaker — see lib/faulty-registry.ts).
 * - An answer marked `retryable` is sent again, as an at-least-once bus would.
 * - The cache TTL is 0, so every capability of every request reads the store and meets
 *   the faults; requests ask for 1–3 capabilities from 16 apps.
 */

import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { seededRandom } from '../lib/faulty-registry.ts'
import { type LoadRequest, runLoad } from '../lib/http-load.ts'
import type { Check, SuiteContext, SuiteResult } from '../lib/report.ts'
import { startBenchServer } from '../lib/server-handle.ts'
import { count, type LatencySummary, ms, summarize } from '../lib/stats.ts'
import { benchApp, createBenchWorkspace, requestedEvent } from '../lib/workspace.ts'
import { CONCURRENCY } from './pipeline-cases.ts'

/** The figures. */
export const DUPLICATE_RATE = 0.05
export const FAULT_RATE = 0.02
const HEADERS = { 'content-type': 'application/cloudevents+json' }

interface Answer {
  readonly id: string
  readonly status: 'resolved' | 'failed' | 'denied' | 'in-progress'
  readonly duplicate: boolean
  readonly retryable?: boolean
}

/** What the state store holds for one request. */
interface Recorded {
  readonly status: string
  readonly outcomes: number
}

/** Every request row of the state database: `[source, id]` JSON → its record. */
function readState(home: string): Map<string, Recorded> {
  const db = new DatabaseSync(join(home, 'state.db'), { readOnly: true })
  try {
    const rows = db.prepare('SELECT source, id, status, outcome FROM requests').all() as {
      source: string
      id: string
      status: string
      outcome: string | null
    }[]
    const outcomeTypes = /\.capability\.(resolved|failed|denied)\.v1$/
    return new Map(
      rows.map((row) => {
        const events = (
          JSON.parse(row.outcome ?? '{"events":[]}') as { events: { type: string }[] }
        ).events
        return [
          JSON.stringify([row.source, row.id]),
          { status: row.status, outcomes: events.filter((e) => outcomeTypes.test(e.type)).length },
        ]
      }),
    )
  } finally {
    db.close()
  }
}

/**
 * The same traffic without faults or duplicates, for a short while: what the tail of the
 * load run owes to the faults (and the retries' backoff) rather than to the pipeline.
 */
async function baseline(seconds: number): Promise<{ perSecond: number; latency: LatencySummary }> {
  const ws = await createBenchWorkspace('store')
  const server = await startBenchServer({ catalogPath: ws.catalogPath, home: ws.home, cwd: ws.dir })
  try {
    const random = seededRandom(42)
    const run = await runLoad({
      url: server.url,
      concurrency: CONCURRENCY,
      durationMs: seconds * 1000,
      next: (index) => ({
        method: 'POST',
        path: '/events?wait=true',
        headers: HEADERS,
        body: requestedEvent(
          `baseline-${index}`,
          'cold',
          1 + Math.floor(random() * 3),
          benchApp(index),
        ),
      }),
    })
    return { perSecond: (run.sent / run.elapsedMs) * 1000, latency: summarize(run.latenciesMs) }
  } finally {
    await server.stop()
    ws.remove()
  }
}

/** Runs the sustained load and checks exactly-once recording. */
export async function loadSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const seconds = ctx.quick ? 8 : 60
  const calm = await baseline(ctx.quick ? 3 : 10)
  const ws = await createBenchWorkspace('store')
  const server = await startBenchServer({
    catalogPath: ws.catalogPath,
    home: ws.home,
    cwd: ws.dir,
    faultRate: FAULT_RATE,
    faultSeed: 7,
    trackOutcomes: true,
  })
  const random = seededRandom(42)
  const bodies = new Map<string, string>()
  const inFlight = new Set<string>()
  const answered: string[] = []
  const firstAnswer = new Map<string, Answer>()
  /** The last answer per id: after redeliveries, the outcome that stands. */
  const lastAnswer = new Map<string, Answer>()
  /** Answers per id that said "not a duplicate": exactly one, unless it was retried. */
  const originals = new Map<string, number>()
  const retried = new Set<string>()
  let duplicatesSent = 0
  let concurrentDuplicates = 0
  let redeliveries = 0
  let duplicateMismatches = 0
  let notMarkedDuplicate = 0
  const rssSamples: number[] = []
  const sampler = setInterval(() => {
    void server.stats().then((s) => rssSamples.push(s.rssBytes))
  }, 1000)

  const send = (id: string): LoadRequest => {
    inFlight.add(id)
    return {
      method: 'POST',
      path: '/events?wait=true',
      headers: HEADERS,
      body: bodies.get(id) as string,
    }
  }
  let result: Awaited<ReturnType<typeof runLoad>>
  try {
    result = await runLoad({
      url: server.url,
      concurrency: CONCURRENCY,
      durationMs: seconds * 1000,
      next(index) {
        const pick = random()
        if (pick < DUPLICATE_RATE && answered.length > 0) {
          duplicatesSent++
          const live = [...inFlight]
          if (pick < DUPLICATE_RATE / 2 && live.length > 0) {
            concurrentDuplicates++
            return send(live[Math.floor(random() * live.length)] as string)
          }
          return send(answered[Math.floor(random() * answered.length)] as string)
        }
        const id = `load-${index}`
        const capabilities = 1 + Math.floor(random() * 3)
        bodies.set(id, requestedEvent(id, 'cold', capabilities, benchApp(index)))
        return send(id)
      },
      onAnswer(_index, sent, answer) {
        const id = (JSON.parse(sent.body as string) as { id: string }).id
        inFlight.delete(id)
        if (answer.status !== 200) return
        const body = JSON.parse(answer.body) as Answer
        // Two sends of one id in flight together: the server decides which is the
        // original, so the first answer back may be the duplicate's.
        if (!body.duplicate) originals.set(id, (originals.get(id) ?? 0) + 1)
        lastAnswer.set(id, body)
        const first = firstAnswer.get(id)
        if (!first) {
          firstAnswer.set(id, body)
          answered.push(id)
        } else if (!retried.has(id) && body.status !== first.status) {
          duplicateMismatches++
        }
        if (body.retryable) {
          // The bus redelivers a request whose failure was transient.
          redeliveries++
          retried.add(id)
          inFlight.add(id)
          return sent
        }
      },
    })
  } finally {
    clearInterval(sampler)
  }
  const stopped = await server.stop()
  const state = readState(ws.home)
  ws.remove()

  // Exactly once: every accepted request is recorded once, as completed, with one outcome.
  const accepted = [...firstAnswer.keys()]
  const source = (id: string) => JSON.parse(bodies.get(id) as string).source as string
  const keyOf = (id: string) => JSON.stringify([source(id), id])
  let missing = 0
  let notCompleted = 0
  let wrongOutcomeCount = 0
  let publishedTwice = 0
  for (const id of accepted) {
    const recorded = state.get(keyOf(id))
    if (!recorded) missing++
    else if (recorded.status !== 'completed') notCompleted++
    else if (recorded.outcomes !== 1) wrongOutcomeCount++
    // A request is published once, plus once per transient attempt the bus redelivered.
    const published = stopped.outcomes[keyOf(id)] ?? 0
    if (!retried.has(id) && published !== 1) publishedTwice++
    if (!retried.has(id) && originals.get(id) !== 1) notMarkedDuplicate++
  }
  const extraRows = state.size - accepted.length
  const latency = summarize(result.latenciesMs)
  const throughput = (result.sent / result.elapsedMs) * 1000
  const peakRss = stopped.stats.maxRssBytes
  const faults = stopped.stats.faults
  const statuses = [...lastAnswer.values()].reduce<Record<string, number>>((acc, a) => {
    acc[a.status] = (acc[a.status] ?? 0) + 1
    return acc
  }, {})
  const exactlyOnce =
    missing === 0 &&
    notCompleted === 0 &&
    wrongOutcomeCount === 0 &&
    publishedTwice === 0 &&
    extraRows === 0 &&
    notMarkedDuplicate === 0 &&
    duplicateMismatches === 0 &&
    result.errors === 0
  ctx.log(
    `load: ${count(result.sent)} sends, ${count(accepted.length)} requests, exactly once: ${exactlyOnce}`,
  )
  const title = 'Load run: sustained, with duplicates and provider faults'
  const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`
  const checks: Check[] = [
    {
      figure: 'load run: every accepted request has exactly one recorded outcome',
      target: 'yes',
      measured: exactlyOnce ? `yes (${count(accepted.length)} of ${count(accepted.length)})` : 'NO',
      met: exactlyOnce,
      section: title,
    },
  ]
  return {
    checks,
    sections: [
      {
        title,
        what: [
          `After a ${ctx.quick ? 3 : 10} s baseline of the same traffic without faults or duplicates (a fresh server), ${seconds} s against the embedded runtime (its own process, bundle sink in the local store), ${CONCURRENCY} requests in flight, \`POST /events?wait=true\`. Each new request asks for 1–3 capabilities from one of 16 apps; the cache TTL is 0, so every capability reads the store. **${DUPLICATE_RATE * 100} %** of sends repeat an earlier request's source and id (half while it is still in flight, half after its answer). **${FAULT_RATE * 100} %** of the local store's reads fail with UnavailableError (a bench-only store registry; the fault meets the broker's retries, backoff and breaker as a provider's would). An answer marked \`retryable\` is sent again, as the bus would redeliver it.`,
          'Afterwards the state database is read back: every accepted request must have exactly one row, completed, whose recorded outcome holds exactly one outcome event; no row may exist for anything else; every repeat must have been answered as a duplicate with the original status; and the bus must have carried exactly one outcome event per request (plus one per transient attempt that was redelivered). RSS is sampled every second; the peak is the server process’s getrusage maximum. The server keeps the last 10,000 events in memory (its bus) and, for this check, a count per request, so RSS levels off rather than staying flat.',
        ].join('\n\n'),
        tables: [
          {
            table: {
              header: ['figure', 'value'],
              rows: [
                ['sends (incl. duplicates and redeliveries)', count(result.sent)],
                ['throughput', `${count(throughput)} req/s`],
                [
                  'latency p50 / p90 / p99 / max',
                  `${ms(latency.p50)} / ${ms(latency.p90)} / ${ms(latency.p99)} / ${ms(latency.max)} ms`,
                ],
                [
                  'the same traffic for a while without faults or duplicates: req/s; p50 / p90 / p99',
                  `${count(calm.perSecond)} req/s; ${ms(calm.latency.p50)} / ${ms(calm.latency.p90)} / ${ms(calm.latency.p99)} ms`,
                ],
                ['distinct requests accepted', count(accepted.length)],
                [
                  'outcomes (after redeliveries)',
                  Object.entries(statuses)
                    .map(([k, v]) => `${k} ${count(v)}`)
                    .join(', '),
                ],
                [
                  'duplicates sent (concurrent)',
                  `${count(duplicatesSent)} (${count(concurrentDuplicates)})`,
                ],
                [
                  'store reads / injected faults',
                  `${count(faults.reads)} / ${count(faults.faults)} (${((faults.faults / Math.max(1, faults.reads)) * 100).toFixed(2)} %)`,
                ],
                ['redeliveries of retryable outcomes', count(redeliveries)],
                ['transport errors', count(result.errors)],
                [
                  'RSS of the server at ¼, ½, ¾ and the end of the run; peak',
                  `${[0.25, 0.5, 0.75, 1]
                    .map((q) =>
                      mib(rssSamples[Math.max(0, Math.ceil(q * rssSamples.length) - 1)] ?? 0),
                    )
                    .join(', ')}; peak ${mib(peakRss)}`,
                ],
                [
                  'requests without a record / not completed / ≠ 1 outcome',
                  `${missing} / ${notCompleted} / ${wrongOutcomeCount}`,
                ],
                ['records nobody asked for', String(extraRows)],
                [
                  'requests processed ≠ once (answers not marked duplicate) / repeats with another status',
                  `${notMarkedDuplicate} / ${duplicateMismatches}`,
                ],
                ['requests published more than once', String(publishedTwice)],
                ['exactly one recorded outcome per accepted request', exactlyOnce ? 'yes' : 'NO'],
              ],
            },
          },
        ],
        command: 'npm run bench -- --only load',
      },
    ],
  }
}
