/**
 * At-least-once delivery on the embedded state store (SQLite): a redelivered request
 * (same source + id) is processed once — sequentially, concurrently on two connections
 * to one home, and concurrently from several processes — and a process killed between
 * injecting and recording leaves nothing a redelivery cannot finish: once the claim's
 * lease runs out the request is processed again, its bindings are right, exactly one
 * outcome is recorded and no extra binding version or bundle version is left behind.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalSecretStore } from '../../../adapters/local/index.ts'
import type { MemoryEventBus } from '../../../adapters/memory-bus/index.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { EventTypes, parseEvent } from '../../../events/index.ts'
import {
  AT_LEAST_ONCE_CATALOG,
  PG_PASSWORD,
  PG_SECRET,
  readBinding,
  requestedEvent,
  runChild,
  versionDirs,
} from '../../reliability/at-least-once.ts'
import { type Wired, wireBroker } from '../../reliability/wiring.ts'

let dir: string
let bindings: string
let first: Wired
let second: Wired

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-alo-'))
  bindings = join(dir, 'bindings')
  const store = new LocalSecretStore({ home: join(dir, 'home') })
  await store.write('postgres/checkout', new SecretValue(PG_SECRET))
  store.close()
  // Two runtimes on one home: two SQLite connections, two brokers with their own
  // in-process single-flight — only the state store can keep them from both working.
  first = wireBroker({ catalog: AT_LEAST_ONCE_CATALOG, cwd: dir })
  second = wireBroker({ catalog: AT_LEAST_ONCE_CATALOG, cwd: dir })
})

afterAll(async () => {
  await first?.close()
  await second?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** The request rows the state holds for a request: one, completed, is right. */
function requestRows(source: string, id: string) {
  const db = new DatabaseSync(join(dir, 'home', 'state.db'), { readOnly: true })
  try {
    return db
      .prepare('SELECT status, outcome FROM requests WHERE source = ? AND id = ?')
      .all(source, id) as { status: string; outcome: string | null }[]
  } finally {
    db.close()
  }
}

const requestIdOf = (event: { data: unknown }) =>
  (event.data as { request?: { id?: string } }).request?.id
const eventsOf = (wired: Wired) => (wired.bus as MemoryEventBus).events
const handle = (wired: Wired, id: string, name: string, environment = 'dev') => {
  const event = parseEvent(requestedEvent(id, name, environment))
  if (event.type !== EventTypes.requested) throw new Error('requested')
  return wired.broker.handle(event)
}

describe('duplicate deliveries on SQLite', () => {
  it('sequential: the redelivery returns the recorded outcome and injects nothing', async () => {
    const before = eventsOf(first).length
    const one = await handle(first, 'alo-seq', 'db-seq')
    const link = readBinding(bindings, 'checkout', 'dev', 'db-seq')
    const again = await handle(first, 'alo-seq', 'db-seq')
    const elsewhere = await handle(second, 'alo-seq', 'db-seq')
    expect([one.status, one.duplicate]).toEqual(['resolved', false])
    expect([again.duplicate, elsewhere.duplicate]).toEqual([true, true])
    expect(again.events.map((e) => e.id)).toEqual(one.events.map((e) => e.id))
    expect(readBinding(bindings, 'checkout', 'dev', 'db-seq')).toEqual(link)
    expect(versionDirs(bindings, 'checkout', 'dev', 'db-seq')).toHaveLength(1)
    expect(
      eventsOf(first)
        .slice(before)
        .map((e) => e.type),
    ).toEqual([EventTypes.resolved, EventTypes.injected])
    expect(eventsOf(second).filter((e) => requestIdOf(e) === 'alo-seq')).toEqual([])
    expect(requestRows('/apps/checkout', 'alo-seq').map((r) => r.status)).toEqual(['completed'])
  })

  it('concurrent, on two connections to one home: one run does the work', async () => {
    const runs = await Promise.all(
      Array.from({ length: 16 }, (_, i) => handle(i % 2 ? first : second, 'alo-conc', 'db-conc')),
    )
    const worked = runs.filter((r) => !r.duplicate)
    expect(worked).toHaveLength(1)
    expect(worked[0]?.status).toBe('resolved')
    // The others saw the work in progress or its recorded outcome — never a second run.
    for (const r of runs.filter((r) => r.duplicate))
      expect(['in-progress', 'resolved']).toContain(r.status)
    const published = [...eventsOf(first), ...eventsOf(second)].filter(
      (e) => requestIdOf(e) === 'alo-conc',
    )
    expect(published.map((e) => e.type).sort()).toEqual(
      [EventTypes.injected, EventTypes.resolved].sort(),
    )
    expect(versionDirs(bindings, 'checkout', 'dev', 'db-conc')).toHaveLength(1)
    expect(requestRows('/apps/checkout', 'alo-conc').map((r) => r.status)).toEqual(['completed'])
  })

  it('concurrent, from three processes: one run does the work', async () => {
    const event = requestedEvent('alo-procs', 'db-procs')
    const startAt = Date.now() + 1_500
    const runs = await Promise.all(
      [1, 2, 3].map(() => runChild({ cwd: dir, catalog: AT_LEAST_ONCE_CATALOG, event, startAt })),
    )
    for (const r of runs) expect(r.code, r.stderr).toBe(0)
    expect(runs.filter((r) => r.result?.duplicate === false)).toHaveLength(1)
    expect(
      runs
        .flatMap((r) => r.published)
        .map((e) => e.type)
        .sort(),
    ).toEqual([EventTypes.injected, EventTypes.resolved].sort())
    expect(versionDirs(bindings, 'checkout', 'dev', 'db-procs')).toHaveLength(1)
    expect(requestRows('/apps/checkout', 'alo-procs').map((r) => r.status)).toEqual(['completed'])
  })
})

describe('a crash between injecting and recording', () => {
  const LEASE_MS = 1_500

  it.each([
    ['as files (service-binding)', 'dev'],
    ['as a bundle secret (store)', 'bundled'],
  ])(
    '%s: safe on redelivery once the lease ran out',
    async (_sink, environment) => {
      const id = `alo-crash-${environment}`
      const event = requestedEvent(id, 'db-crash', environment)
      const config = { cwd: dir, catalog: AT_LEAST_ONCE_CATALOG, event, leaseMs: LEASE_MS }

      // 1. Killed at the moment it would record: the bindings are out, the events went.
      const crashed = await runChild({ ...config, crashAt: 'complete' })
      const leaseEnds = Date.now() + LEASE_MS
      expect([crashed.signal, crashed.result]).toEqual(['SIGKILL', undefined])
      expect(crashed.published.map((e) => e.type)).toEqual([
        EventTypes.resolved,
        EventTypes.injected,
      ])
      expect(requestRows('/apps/checkout', id).map((r) => r.status)).toEqual(['in-progress'])
      expect(await first.state.listBindings({ app: 'checkout', environment })).not.toContainEqual(
        expect.objectContaining({ name: 'db-crash' }),
      )

      // 2. Redelivered while the dead process's lease holds: not processed twice at once.
      // (In this process, so that it surely comes before the lease ends.)
      const before = eventsOf(first).length
      const early = await handle(first, id, 'db-crash', environment)
      expect([early.status, early.duplicate]).toEqual(['in-progress', true])
      expect(eventsOf(first).length).toBe(before)

      // 3. Redelivered after the lease: processed, with the same event ids as the crashed run.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, leaseEnds - Date.now() + 100)))
      const redelivered = await runChild(config)
      expect(redelivered.result).toMatchObject({ status: 'resolved', duplicate: false })
      expect(redelivered.published.map((e) => e.id)).toEqual(crashed.published.map((e) => e.id))

      // 4. And once more: the recorded outcome, nothing else.
      const again = await runChild(config)
      expect(again.result).toMatchObject({ status: 'resolved', duplicate: true })
      expect(again.published).toEqual([])

      const rows = requestRows('/apps/checkout', id)
      expect(rows.map((r) => r.status)).toEqual(['completed'])
      const recorded = JSON.parse(rows[0]?.outcome ?? '{}') as { events: { id: string }[] }
      expect(recorded.events.map((e) => e.id)).toEqual(crashed.published.map((e) => e.id))
      const [record] = (await first.state.listBindings({ app: 'checkout', environment })).filter(
        (b) => b.name === 'db-crash',
      )
      expect(record).toMatchObject({ key: 'postgres/checkout', version: '1', request: { id } })

      if (environment === 'dev') {
        expect(readBinding(bindings, 'checkout', 'dev', 'db-crash').entries).toEqual({
          host: 'db.internal',
          password: PG_PASSWORD,
          provider: 'local',
          type: 'postgres',
        })
        // The redelivery's version and the crashed run's, kept one swap for readers: no more.
        expect(versionDirs(bindings, 'checkout', 'dev', 'db-crash').length).toBeLessThanOrEqual(2)
      } else {
        const store = new LocalSecretStore({ home: join(dir, 'home') })
        try {
          const [current, second] = await store.read([
            { key: 'bundles/checkout/bundled' },
            { key: 'bundles/checkout/bundled', version: '2' },
          ])
          expect(current?.ok && current.version).toBe('1')
          expect(current?.ok && JSON.parse(current.value.reveal())).toEqual({
            'db-crash': {
              host: 'db.internal',
              password: PG_PASSWORD,
              provider: 'local',
              type: 'postgres',
            },
          })
          // The redelivery found the same bundle and wrote no second version.
          expect(second?.ok).toBe(false)
        } finally {
          store.close()
        }
      }
    },
    30_000,
  )
})
