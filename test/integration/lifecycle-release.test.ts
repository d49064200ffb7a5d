/**
 * Every release path — a capability removed from a manifest (Git push), a chat
 * `release`, `capbroker release` — against both sinks: the binding leaves the sink
 * (files removed; the key removed from the bundle secret), leaves the state, a
 * `capability.released` is emitted and audited; releasing again does nothing.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCatalog } from '../../broker/catalog/load.ts'
import { isWritable } from '../../broker/ports.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import { performChatWork } from '../../broker/triggers/chat-ops.ts'
import { handlePush } from '../../broker/triggers/git-trigger.ts'
import { buildEvent, EventTypes } from '../../events/index.ts'
import { createEmbeddedRuntime, type EmbeddedRuntime } from '../../server/runtime.ts'
import { runCli } from '../support/cli.ts'
import { MemoryManifests } from '../unit/triggers/memory-manifests.ts'

const CATALOG = `
version: 1
stores:
  local: { adapter: local }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
    branches: [main]
  staging:
    inject: { to: store, store: local, name: "bundles/{app}/{environment}" }
classes:
  - { type: secret, store: local, key: "apps/{app}/{name}" }
policies:
  - { apps: [checkout], environments: ["*"], types: [secret], keys: ["apps/checkout/*"] }
git:
  repos:
    acme/checkout: { app: checkout, webhookSecret: { store: local, key: github/webhook } }
`
const NAMES = ['a', 'b', 'c', 'd']
const SHA = (n: number) => String(n).repeat(40)

let dir: string
let runtime: EmbeddedRuntime
let n = 0

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-release-'))
  writeFileSync(join(dir, 'capbroker.yaml'), CATALOG)
  runtime = createEmbeddedRuntime({
    catalog: parseCatalog(CATALOG, 'capbroker.yaml'),
    home: join(dir, 'home'),
    cwd: dir,
  })
  const store = await runtime.stores.get('local')
  if (!isWritable(store)) throw new Error('writable')
  for (const name of NAMES)
    await store.write(`apps/checkout/${name}`, new SecretValue(`value-${name}`))
  for (const environment of ['dev', 'staging']) {
    const event = buildEvent(
      EventTypes.requested,
      { id: `req-${++n}`, source: '/apps/checkout', time: new Date().toISOString() },
      {
        app: 'checkout',
        environment,
        capabilities: NAMES.map((name) => ({ name, type: 'secret' })),
      },
    )
    expect((await runtime.broker.handle(event)).status).toBe('resolved')
  }
}, 30_000)
afterAll(async () => {
  await runtime.close()
  rmSync(dir, { recursive: true, force: true })
})

const file = (name: string) => join(dir, 'bindings', 'checkout', 'dev', name, 'value')
async function bundle() {
  const [outcome] = await (await runtime.stores.get('local')).read([
    { key: 'bundles/checkout/staging' },
  ])
  if (!outcome?.ok) throw new Error('no bundle')
  return { version: outcome.version, names: Object.keys(JSON.parse(outcome.value.reveal())).sort() }
}
const bound = async (environment: string) =>
  (await runtime.state.listBindings({ app: 'checkout', environment })).map((r) => r.name)
const released = (name: string) =>
  runtime.bus.events.filter((e) => e.type === EventTypes.released && e.data.name === name)
const audited = async (environment: string, name: string) =>
  (await runtime.state.listAudit({ app: 'checkout', environment })).filter(
    (e) => e.kind === 'released' && e.names.includes(name),
  )

/** Checks one path's effect on both environments, then that a second release is a no-op. */
async function expectReleased(name: string, again: () => Promise<unknown>) {
  expect(existsSync(file(name))).toBe(false)
  expect(await bound('dev')).not.toContain(name)
  expect(await bound('staging')).not.toContain(name)
  expect((await bundle()).names).not.toContain(name)
  const events = released(name).length
  const entries = (await audited('dev', name)).length + (await audited('staging', name)).length
  const version = (await bundle()).version
  expect(entries).toBe(2)
  await again()
  expect(released(name).length).toBe(events)
  expect((await audited('dev', name)).length + (await audited('staging', name)).length).toBe(
    entries,
  )
  expect((await bundle()).version).toBe(version)
}

describe('release paths', () => {
  it('a capability removed from the manifest in a push', async () => {
    const manifests = new MemoryManifests()
    manifests.put(
      SHA(1),
      'score.yaml',
      'capabilities:\n  - { name: a, type: secret }\n  - { name: b, type: secret }\n',
    )
    manifests.put(SHA(2), 'score.yaml', 'capabilities:\n  - { name: b, type: secret }\n')
    const push = (delivery: string) =>
      handlePush(
        {
          catalog: runtime.catalog,
          manifests: async () => manifests,
          dispatch: (event) => runtime.broker.handle(event),
          release: async (request) => {
            // The push names dev (branch main); the staging binding goes the same way.
            const dev = await runtime.broker.release(request)
            await runtime.broker.release({ ...request, environment: 'staging' })
            return dev
          },
          clock: () => new Date(),
          logger: { debug() {}, info() {}, warn() {}, error() {} },
        },
        {
          delivery,
          repository: {
            name: 'acme/checkout',
            config: runtime.catalog.document.git!.repos['acme/checkout']!,
          },
          push: {
            ref: 'refs/heads/main',
            before: SHA(1),
            after: SHA(2),
            repository: { full_name: 'acme/checkout' },
            commits: [{ modified: ['score.yaml'] }],
          },
        },
      )
    const outcome = await push('d-1')
    expect(outcome).toMatchObject({ kind: 'processed', released: ['a'] })
    expect(released('a')[0]?.data).toMatchObject({
      name: 'a',
      reason: `removed from score.yaml in ${SHA(2).slice(0, 7)}`,
    })
    await expectReleased('a', () => push('d-2'))
  })

  it('a chat release', async () => {
    const release = (environment: string) =>
      performChatWork(
        {
          handle: (event) => runtime.broker.handle(event),
          release: (request) => runtime.broker.release(request),
          listBindings: (target) => runtime.state.listBindings(target),
          logger: { debug() {}, info() {}, warn() {}, error() {} },
        },
        {
          kind: 'release',
          release: {
            app: 'checkout',
            environment,
            names: ['b'],
            reason: 'chat release by U123',
            request: { source: '/chatops/slack/T1', id: `slack-${environment}` },
          },
        },
      )
    expect((await release('dev')).text).toMatch(/released b from checkout\/dev/)
    await release('staging')
    const entry = (await audited('dev', 'b'))[0]
    expect(entry?.trigger).toEqual({ source: '/chatops/slack/T1', id: 'slack-dev' })
    await expectReleased('b', async () => {
      await release('dev')
      await release('staging')
    })
  })

  it('capbroker release', async () => {
    const cli = (environment: string) =>
      runCli(['release', 'c', '--app', 'checkout', '--env', environment, '--reason', 'retired'], {
        cwd: dir,
        env: { CAPBROKER_HOME: join(dir, 'home') },
      })
    for (const environment of ['dev', 'staging']) {
      const r = await cli(environment)
      expect(r.stderr).toBe('')
      expect(r.stdout).toBe(`released c from checkout/${environment}\n`)
    }
    const entry = (await audited('staging', 'c'))[0]
    expect(entry).toMatchObject({
      detail: 'retired',
      trigger: { source: expect.stringMatching(/^\/cli\//) },
    })
    await expectReleased('c', async () => {
      for (const environment of ['dev', 'staging']) {
        const r = await cli(environment)
        expect(r).toMatchObject({
          code: 0,
          stdout: `nothing to release: no such binding in checkout/${environment}\n`,
        })
      }
    })
    // What was not released is still there.
    expect(existsSync(file('d'))).toBe(true)
    expect((await bundle()).names).toEqual(['d'])
  })
})
