/**
 * What a warm cache hit costs: `SecretResolver.resolve([ref])` for a reference that is
 * cached, one lookup per call, each call timed on its own (process.hrtime), awaited as
 * the pipeline awaits it. The store behind it is in memory and never called once the
 * cache is warm, so only the resolver is measured.
 */
import type { ReadOutcome, SecretLocator, SecretStore } from '../../broker/ports.ts'
import { type SecretReference, SecretResolver } from '../../broker/resolution/secret-resolver.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import type { SuiteContext, SuiteResult } from '../lib/report.ts'
import { count, summarize } from '../lib/stats.ts'

/** The target of the issue: a warm hit at p99. */
export const CACHE_HIT_P99_TARGET_MS = 0.05

/** How many distinct references are cached (a realistic working set, not one hot key). */
const WORKING_SET = 1_000

const memoryStore: SecretStore = {
  provider: 'memory',
  async read(locators: readonly SecretLocator[]): Promise<ReadOutcome[]> {
    return locators.map((l) => ({
      ok: true,
      key: l.key,
      version: '1',
      value: new SecretValue(`value of ${l.key}`),
    }))
  },
  async health() {
    return { status: 'ready' }
  },
}

/** Measures per-lookup latency of warm hits. */
export async function cacheSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const lookups = ctx.quick ? 50_000 : 500_000
  const resolver = new SecretResolver({ stores: async () => memoryStore, now: Date.now })
  const refs: SecretReference[] = Array.from({ length: WORKING_SET }, (_, i) => ({
    store: 'memory',
    key: `apps/bench/secret-${i}`,
    ttlMs: 3_600_000,
  }))
  await resolver.resolve(refs)
  const readsBefore = resolver.stats.reads
  // Warm-up: let V8 optimise the lookup path before it is timed.
  for (let i = 0; i < 50_000; i++)
    await resolver.resolve([refs[i % WORKING_SET] as SecretReference])
  const samples = new Float64Array(lookups)
  for (let i = 0; i < lookups; i++) {
    const ref = refs[(i * 7919) % WORKING_SET] as SecretReference
    const t0 = process.hrtime.bigint()
    await resolver.resolve([ref])
    samples[i] = Number(process.hrtime.bigint() - t0) / 1e6
  }
  if (resolver.stats.reads !== readsBefore) throw new Error('a warm lookup reached the store')
  const s = summarize(samples)
  const us = (msValue: number) => `${(msValue * 1000).toFixed(2)} µs`
  ctx.log(`cache: p50 ${us(s.p50)}, p99 ${us(s.p99)}`)
  const title = 'Cache hit cost'
  return {
    checks: [
      {
        figure: 'warm cache hit, per lookup, p99',
        target: `≤ ${CACHE_HIT_P99_TARGET_MS} ms`,
        measured: `${(s.p99).toFixed(4)} ms (${us(s.p99)})`,
        met: s.p99 <= CACHE_HIT_P99_TARGET_MS,
        section: title,
      },
    ],
    sections: [
      {
        title,
        what: `${count(lookups)} lookups of one cached reference each (\`await resolver.resolve([ref])\`, a working set of ${count(WORKING_SET)} references), each timed on its own with \`process.hrtime.bigint()\` after a warm-up of 50,000. The time includes the \`await\`: what the pipeline pays per capability on a hit.`,
        tables: [
          {
            table: {
              header: ['lookups', 'p50', 'p90', 'p99', 'max', 'mean'],
              rows: [[count(s.count), us(s.p50), us(s.p90), us(s.p99), us(s.max), us(s.mean)]],
            },
          },
        ],
        command: 'npm run bench -- --only cache',
      },
    ],
  }
}
