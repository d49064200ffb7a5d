/**
 * Provider efficiency against a real peer: moto's Secrets Manager behind the counting
 * proxy, which counts requests per X-Amz-Target as they cross the wire. Ours is the
 * broker's read path as a host wires it (StoreSet → resilience → the Secrets Manager
 * adapter, under a SecretResolver). The naive reader is what middy's
 * secrets-manager middleware and Powertools' getSecret do: one GetSecretValue per
 * secret with the real SDK, and a per-key cache of the same TTL — the fair comparison,
 * since both libraries cache too. Both run in the same process, against the same moto.
 */

import { randomBytes } from 'node:crypto'
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import { defaultStoreRegistry } from '../../adapters/registry.ts'
import { StoreSet } from '../../adapters/store-set.ts'
import type { StoreConfig } from '../../broker/catalog/schema.ts'
import { type SecretReference, SecretResolver } from '../../broker/resolution/secret-resolver.ts'
import { startCountingProxy } from '../../test/emulators/harness/counting-proxy.ts'
import {
  AWS_TEST_CREDENTIALS,
  AWS_TEST_REGION,
  startMoto,
  useFakeAwsEnvironment,
} from '../../test/emulators/harness/moto.ts'
import type { Check, SuiteContext, SuiteResult } from '../lib/report.ts'
import { ms } from '../lib/stats.ts'

/** The secret counts the issue names. */
export const SECRET_COUNTS = [1, 20, 45, 200] as const
/** Concurrent requests for one secret in the single-flight test. */
export const CONCURRENT_MISSES = 100
const TTL_MS = 5 * 60_000

/** One GetSecretValue per secret, cached per key: middy's and Powertools' way. */
class NaiveReader {
  readonly #client: SecretsManagerClient
  readonly #cache = new Map<string, { value: string; expiresAt: number }>()
  constructor(endpoint: string) {
    this.#client = new SecretsManagerClient({
      region: AWS_TEST_REGION,
      endpoint,
      credentials: AWS_TEST_CREDENTIALS,
      maxAttempts: 1,
    })
  }
  async get(key: string): Promise<string> {
    const cached = this.#cache.get(key)
    if (cached && cached.expiresAt > Date.now()) return cached.value
    const answer = await this.#client.send(new GetSecretValueCommand({ SecretId: key }))
    const value = answer.SecretString ?? ''
    this.#cache.set(key, { value, expiresAt: Date.now() + TTL_MS })
    return value
  }
  getAll(keys: readonly string[]): Promise<string[]> {
    return Promise.all(keys.map((key) => this.get(key)))
  }
  destroy(): void {
    this.#client.destroy()
  }
}

interface Row {
  readonly n: number
  readonly oursCold: number
  readonly oursWarm: number
  readonly naiveCold: number
  readonly naiveWarm: number
  readonly oursColdMs: number
  readonly naiveColdMs: number
}

/** Runs the wire-call comparison and the single-flight test against moto. */
export async function providerSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const restoreEnv = useFakeAwsEnvironment()
  ctx.log('provider: starting moto (installing it first if needed)')
  const moto = await startMoto()
  const proxy = await startCountingProxy(moto.endpoint)
  const prefix = `bench-${randomBytes(4).toString('hex')}`
  const configs = new Map<string, StoreConfig>([
    ['aws', { adapter: 'aws-secrets-manager', region: AWS_TEST_REGION, endpoint: proxy.url }],
  ])
  const stores = new StoreSet(configs, defaultStoreRegistry, { home: '', cwd: ctx.root })
  const seeder = new SecretsManagerClient({
    region: AWS_TEST_REGION,
    endpoint: moto.endpoint,
    credentials: AWS_TEST_CREDENTIALS,
  })
  const naive = new NaiveReader(proxy.url)
  const rows: Row[] = []
  let singleFlight = { ours: 0, naive: 0, oursResolved: 0 }
  try {
    // Every row reads secrets of its own, so no row is warmed by an earlier one; the
    // last key warms connections, SDK code paths and moto itself.
    const total = SECRET_COUNTS.reduce((sum, n) => sum + n, 0) + 1
    const keys = Array.from({ length: total }, (_, i) => `${prefix}/secret-${i}`)
    for (let i = 0; i < keys.length; i += 25) {
      await Promise.all(
        keys.slice(i, i + 25).map((key, j) =>
          seeder.send(
            new CreateSecretCommand({
              Name: key,
              SecretString: JSON.stringify({ password: `bench-${i + j}` }),
            }),
          ),
        ),
      )
    }
    await naive.get(keys[total - 1] as string)
    await (await stores.get('aws')).read([{ key: keys[total - 1] as string }])

    let offset = 0
    for (const n of SECRET_COUNTS) {
      const slice = keys.slice(offset, offset + n)
      offset += n
      const refs: SecretReference[] = slice.map((key) => ({ store: 'aws', key, ttlMs: TTL_MS }))
      const resolver = new SecretResolver({ stores: (name) => stores.get(name), now: Date.now })
      const wire = async (work: () => Promise<unknown>) => {
        proxy.resetCounts()
        const t0 = performance.now()
        await work()
        return { calls: proxy.count(), ms: performance.now() - t0 }
      }
      const oursCold = await wire(async () => {
        const read = await resolver.resolve(refs)
        const ok = [...read.values()].filter((r) => r.ok).length
        if (ok !== n) throw new Error(`ours: ${ok} of ${n} secrets read`)
      })
      const oursWarm = await wire(() => resolver.resolve(refs))
      const fresh = new NaiveReader(proxy.url)
      const naiveCold = await wire(async () => {
        const values = await fresh.getAll(slice)
        if (values.filter(Boolean).length !== n) throw new Error('naive: a secret was not read')
      })
      const naiveWarm = await wire(() => fresh.getAll(slice))
      fresh.destroy()
      rows.push({
        n,
        oursCold: oursCold.calls,
        oursWarm: oursWarm.calls,
        naiveCold: naiveCold.calls,
        naiveWarm: naiveWarm.calls,
        oursColdMs: oursCold.ms,
        naiveColdMs: naiveCold.ms,
      })
      ctx.log(`provider: N=${n} ours ${oursCold.calls} calls, naive ${naiveCold.calls}`)
    }

    // Single-flight: 100 requests for one uncached secret, all at once.
    const key = keys[0] as string
    const resolver = new SecretResolver({ stores: (name) => stores.get(name), now: Date.now })
    proxy.resetCounts()
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT_MISSES }, () =>
        resolver.resolve([{ store: 'aws', key, ttlMs: TTL_MS }]),
      ),
    )
    const ours = proxy.count()
    const oursResolved = answers.filter((a) => [...a.values()][0]?.ok).length
    const fresh = new NaiveReader(proxy.url)
    proxy.resetCounts()
    await Promise.all(Array.from({ length: CONCURRENT_MISSES }, () => fresh.get(key)))
    singleFlight = { ours, naive: proxy.count(), oursResolved }
    fresh.destroy()
  } finally {
    naive.destroy()
    seeder.destroy()
    await stores.close()
    await proxy.close()
    await moto.stop()
    restoreEnv()
  }
  return report(rows, singleFlight)
}

function report(
  rows: Row[],
  singleFlight: { ours: number; naive: number; oursResolved: number },
): SuiteResult {
  const title = 'Provider efficiency: wire calls against moto'
  const checks: Check[] = rows.map((r) => ({
    figure: `wire calls for N = ${r.n} secrets, cold`,
    target: `⌈N/20⌉ = ${Math.ceil(r.n / 20)}`,
    measured: `${r.oursCold} (naive: ${r.naiveCold})`,
    met: r.oursCold <= Math.ceil(r.n / 20),
    section: title,
  }))
  checks.push({
    figure: `single-flight: ${CONCURRENT_MISSES} concurrent misses for one secret`,
    target: '1 call',
    measured: `${singleFlight.ours} (naive: ${singleFlight.naive})`,
    met: singleFlight.ours === 1 && singleFlight.oursResolved === CONCURRENT_MISSES,
    section: title,
  })
  return {
    checks,
    sections: [
      {
        title,
        what: [
          'Requests counted on the wire by a proxy in front of moto (`X-Amz-Target` per request). **ours**: a SecretResolver over the store set a host builds (the Secrets Manager adapter wrapped in timeouts, retries and the breaker): `BatchGetSecretValue` for up to 20 ids per call, one cache entry per reference, single-flight. **naive**: what middy’s secrets-manager middleware and Powertools’ `getSecret` do — one `GetSecretValue` per secret with the real SDK v3 client, all in parallel, with a per-key cache of the same 5-minute TTL (both libraries cache, so warm is 0 for both).',
          '**cold**: an empty cache; **warm**: the same secrets again at once. Each row reads secrets no earlier row read. Times are against moto on loopback, so they show the shape (one round trip vs many), not AWS latency.',
        ].join('\n\n'),
        tables: [
          {
            table: {
              header: [
                'N secrets',
                'ours cold',
                'ours warm',
                'naive cold',
                'naive warm',
                'ours cold ms',
                'naive cold ms',
              ],
              rows: rows.map((r) => [
                String(r.n),
                String(r.oursCold),
                String(r.oursWarm),
                String(r.naiveCold),
                String(r.naiveWarm),
                ms(r.oursColdMs),
                ms(r.naiveColdMs),
              ]),
            },
          },
          {
            caption: `Single-flight: ${CONCURRENT_MISSES} concurrent requests for one uncached secret`,
            table: {
              header: ['reader', 'calls on the wire', 'answered'],
              rows: [
                [
                  'ours',
                  String(singleFlight.ours),
                  `${singleFlight.oursResolved} / ${CONCURRENT_MISSES}`,
                ],
                [
                  'naive (per-key cache, no single-flight)',
                  String(singleFlight.naive),
                  `${CONCURRENT_MISSES} / ${CONCURRENT_MISSES}`,
                ],
              ],
            },
          },
        ],
        command: 'npm run bench -- --only provider',
      },
    ],
  }
}
