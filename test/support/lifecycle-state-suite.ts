/**
 * The cases every LifecycleState must pass (SQLite in the unit suite, DynamoDB against
 * moto): bindings across apps and by source, compare-and-write of one binding, and the
 * audit log's order and limit. Each implementation supplies only how to open a fresh
 * store and a unique app name.
 */
import { describe, expect, it } from 'vitest'
import type {
  AuditEntry,
  BindingRecord,
  LifecycleState,
  RecordedOutcome,
  RequestKey,
  StateStore,
} from '../../broker/ports.ts'

/** A state store with the lifecycle ability. */
export type LifecycleStore = StateStore & LifecycleState

const T0 = '2030-01-01T00:00:00.000Z'
const request: RequestKey = { source: '/apps/test', id: 'req-1' }
const outcome: RecordedOutcome = { events: [], completedAt: T0 }

/** A binding record of `app` in `environment`. */
export function lifecycleRecord(
  app: string,
  environment: string,
  name: string,
  overrides: Partial<BindingRecord> = {},
): BindingRecord {
  return {
    app,
    environment,
    name,
    type: 'secret',
    provider: 'local',
    store: 'local',
    key: `apps/${app}/${name}`,
    version: '1',
    entries: ['type', 'provider', 'value'],
    secretEntries: ['value'],
    sink: 'service-binding',
    location: `/b/${app}/${environment}`,
    injectedAt: T0,
    request,
    ...overrides,
  }
}

function audit(app: string, i: number, time: string): AuditEntry {
  return {
    app,
    environment: 'dev',
    time,
    id: `evt-${i}`,
    kind: i % 2 === 0 ? 'resolved' : 'rotated',
    names: ['stripe'],
    trigger: { source: '/test', id: `t-${i}` },
    detail: `entry ${i}`,
  }
}

/** Registers the suite. `open` gives a store; `unique` a name no other test uses. */
export function describeLifecycleState(
  name: string,
  open: () => LifecycleStore,
  unique: (prefix: string) => string,
): void {
  async function seed(store: LifecycleStore, records: BindingRecord[]) {
    await store.complete({ source: '/test', id: unique('req') }, outcome, records, {
      now: new Date(T0),
      ttlMs: 60_000,
    })
  }

  describe(`${name}: lifecycle state`, () => {
    it('finds bindings across apps and environments, by app, by environment and by source', async () => {
      const store = open()
      const a = unique('app-a')
      const b = unique('app-b')
      const shared = { store: 'aws', key: unique('shared/key') }
      await seed(store, [lifecycleRecord(a, 'dev', 'x', shared), lifecycleRecord(a, 'prod', 'y')])
      await seed(store, [lifecycleRecord(b, 'dev', 'z', shared)])
      const all = (await store.findBindings({})).filter((r) => r.app === a || r.app === b)
      expect(all.map((r) => `${r.app}/${r.environment}/${r.name}`).sort()).toEqual(
        [`${a}/dev/x`, `${a}/prod/y`, `${b}/dev/z`].sort(),
      )
      expect((await store.findBindings({ app: a })).map((r) => r.name).sort()).toEqual(['x', 'y'])
      expect(
        (await store.findBindings({ app: a, environment: 'prod' })).map((r) => r.name),
      ).toEqual(['y'])
      const bySource = await store.findBindings({ source: shared })
      expect(bySource.map((r) => `${r.app}/${r.name}`).sort()).toEqual([`${a}/x`, `${b}/z`].sort())
      expect(await store.findBindings({ source: { store: 'aws', key: unique('none') } })).toEqual(
        [],
      )
    })

    it('a binding re-pointed to another key or released is no longer found by its old source', async () => {
      const store = open()
      const app = unique('app')
      const old = { store: 'aws', key: unique('old') }
      await seed(store, [
        lifecycleRecord(app, 'dev', 'x', old),
        lifecycleRecord(app, 'dev', 'y', old),
      ])
      await seed(store, [lifecycleRecord(app, 'dev', 'x', { store: 'aws', key: unique('new') })])
      expect((await store.findBindings({ source: old })).map((r) => r.name)).toEqual(['y'])
      await store.removeBindings({ app, environment: 'dev' }, ['y'])
      expect(await store.findBindings({ source: old })).toEqual([])
    })

    it('updates a binding only while it is there with the injectedAt read', async () => {
      const store = open()
      const app = unique('app')
      const record = lifecycleRecord(app, 'dev', 'x')
      await seed(store, [record])
      const stale = {
        ...record,
        status: 'stale' as const,
        staleSince: T0,
        failure: { code: 'NOT_FOUND', message: 'gone' },
      }
      expect(await store.updateBinding(stale, T0)).toBe('updated')
      expect(await store.listBindings({ app, environment: 'dev' })).toEqual([stale])
      const rotated = {
        ...record,
        version: '2',
        injectedAt: '2030-01-02T00:00:00.000Z',
        digest: 'hmac-sha256:ab',
        lastRotatedAt: '2030-01-02T00:00:00.000Z',
      }
      expect(await store.updateBinding(rotated, 'not what was read')).toBe('changed')
      expect(await store.updateBinding(rotated, T0)).toBe('updated')
      expect(await store.listBindings({ app, environment: 'dev' })).toEqual([rotated])
      await store.removeBindings({ app, environment: 'dev' }, ['x'])
      expect(await store.updateBinding(rotated, rotated.injectedAt)).toBe('missing')
      expect(await store.listBindings({ app, environment: 'dev' })).toEqual([])
    })

    it('keeps the audit log in order and returns the newest entries', async () => {
      const store = open()
      const app = unique('app')
      const entries = Array.from({ length: 5 }, (_, i) =>
        audit(app, i, `2030-01-01T00:00:0${i}.000Z`),
      )
      await store.appendAudit(entries.slice(0, 3))
      await store.appendAudit(entries.slice(3))
      // Two entries of one moment stay in the order appended.
      const same = [
        audit(app, 6, '2030-01-01T00:00:09.000Z'),
        audit(app, 7, '2030-01-01T00:00:09.000Z'),
      ]
      await store.appendAudit(same)
      expect(await store.listAudit({ app, environment: 'dev' })).toEqual([...entries, ...same])
      expect(await store.listAudit({ app, environment: 'dev' }, { limit: 3 })).toEqual([
        entries[4],
        ...same,
      ])
      expect(await store.listAudit({ app, environment: 'prod' })).toEqual([])
      await store.appendAudit([])
    })
  })
}
