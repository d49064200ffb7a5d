import { describe, expect, it } from 'vitest'
import { UnavailableError } from '../../../broker/errors.ts'
import type { RequestResult } from '../../../broker/pipeline.ts'
import type { ReleaseRequest } from '../../../broker/release.ts'
import { findRepository, type PushPayload } from '../../../broker/triggers/git-push.ts'
import { handlePush } from '../../../broker/triggers/git-trigger.ts'
import type { CloudEvent, EventTypes } from '../../../events/index.ts'
import { type PushExample, triggerCatalog } from './fixtures.ts'
import { MemoryManifests } from './memory-manifests.ts'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)
const ZERO = '0'.repeat(40)
const catalog = triggerCatalog()
const repository = findRepository(catalog, 'Codertocat/Hello-World')!

const SCORE = (resources: string) => `apiVersion: score.dev/v1b1
metadata: { name: checkout }
resources:
${resources}`

function setup() {
  const manifests = new MemoryManifests()
  const dispatched: CloudEvent<typeof EventTypes.requested>[] = []
  const released: ReleaseRequest[] = []
  const deps = {
    catalog,
    manifests: async () => manifests,
    dispatch: async (event: CloudEvent<typeof EventTypes.requested>): Promise<RequestResult> => {
      dispatched.push(event)
      return { status: 'resolved', duplicate: false, events: [], capabilities: [] }
    },
    release: async (request: ReleaseRequest) => {
      released.push(request)
      return { released: request.names === 'all' ? ['everything'] : [...request.names], events: [] }
    },
    clock: () => new Date('2025-01-01T00:00:00Z'),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  }
  const push = (extra: Partial<PushExample> = {}): PushPayload => ({
    ref: 'refs/heads/main',
    before: A,
    after: B,
    repository: {
      full_name: 'Codertocat/Hello-World',
      html_url: 'https://github.com/Codertocat/Hello-World',
    },
    commits: [{ added: [], modified: ['score.yaml'], removed: [] }],
    ...extra,
  })
  const run = (p: PushPayload, delivery = 'd-1') =>
    handlePush(deps, { delivery, repository, push: p })
  return { manifests, dispatched, released, push, run }
}

describe('a verified push', () => {
  it('emits one requested event for the new manifest, named by the delivery', async () => {
    const t = setup()
    t.manifests.put(A, 'score.yaml', SCORE('  db: { type: postgres }'))
    t.manifests.put(
      B,
      'score.yaml',
      SCORE('  db: { type: postgres }\n  orders-db: { type: postgres }'),
    )
    const outcome = await t.run(t.push())
    expect(t.dispatched).toHaveLength(1)
    const [event] = t.dispatched
    expect(event?.source).toBe('https://github.com/Codertocat/Hello-World')
    expect(event?.id).toBe('gh-d-1')
    expect(event?.data).toMatchObject({ app: 'checkout', environment: 'prod' })
    expect(Object.keys(event?.data.score?.resources ?? {})).toEqual(['db', 'orders-db'])
    expect(outcome).toMatchObject({ kind: 'processed', environment: 'prod', released: [] })
    expect(t.released).toEqual([])
  })

  it('releases the capabilities the push removed, with the same request identity', async () => {
    const t = setup()
    t.manifests.put(A, 'score.yaml', SCORE('  db: { type: postgres }\n  cache: { type: postgres }'))
    t.manifests.put(B, 'score.yaml', SCORE('  db: { type: postgres }'))
    await t.run(t.push())
    expect(t.released).toEqual([
      expect.objectContaining({
        app: 'checkout',
        environment: 'prod',
        names: ['cache'],
        request: { source: 'https://github.com/Codertocat/Hello-World', id: 'gh-d-1' },
      }),
    ])
  })

  it('falls back to capbroker/capabilities.yaml, and releases all of it when it is deleted', async () => {
    const t = setup()
    t.manifests.put(
      A,
      'capbroker/capabilities.yaml',
      'capabilities:\n  - { name: q, type: postgres }\n',
    )
    const outcome = await t.run(t.push({ commits: [{ removed: ['capbroker/capabilities.yaml'] }] }))
    expect(t.dispatched).toEqual([])
    expect(t.released[0]?.names).toEqual(['q'])
    expect(outcome).toMatchObject({ kind: 'processed', released: ['q'] })
  })

  it('a deleted branch releases everything of its environment without reading a manifest', async () => {
    const t = setup()
    await t.run(t.push({ deleted: true, after: ZERO, commits: [] }))
    expect(t.released).toEqual([
      expect.objectContaining({ names: 'all', environment: 'prod', reason: 'branch main deleted' }),
    ])
    expect(t.manifests.reads).toEqual([])
    expect(t.dispatched).toEqual([])
  })

  it('a new branch has nothing to release and reads only the new commit', async () => {
    const t = setup()
    t.manifests.put(B, 'score.yaml', SCORE('  db: { type: postgres }'))
    await t.run(t.push({ before: ZERO, created: true, ref: 'refs/heads/feature/x' }))
    expect(t.dispatched[0]?.data.environment).toBe('dev')
    expect(t.manifests.reads.map((r) => r.commit)).toEqual([B])
  })

  it.each([
    ['a tag', { ref: 'refs/tags/v1' }, /is not a branch/],
    ['an unmapped branch', { ref: 'refs/heads/release/1' }, /resolves for no environment/],
    [
      'a push that does not touch the manifest',
      { commits: [{ modified: ['README.md'] }] },
      /no commit of the push changed score.yaml or capbroker\/capabilities.yaml/,
    ],
  ])('%s is ignored without reading anything', async (_what, extra, reason) => {
    const t = setup()
    const outcome = await t.run(t.push(extra as Partial<PushExample>))
    expect(outcome.kind).toBe('ignored')
    expect(outcome.kind === 'ignored' && outcome.reason).toMatch(reason)
    expect(t.manifests.reads).toEqual([])
    expect(t.dispatched).toEqual([])
    expect(t.released).toEqual([])
  })

  it.each([
    ['not YAML', 'resources: [\n'],
    ['a bad capability type', 'capabilities:\n  - { name: db, type: Post Gres }\n'],
    [
      'a duplicate name',
      'capabilities:\n  - { name: db, type: postgres }\n  - { name: db, type: postgres }\n',
    ],
  ])('an invalid manifest (%s) emits and releases nothing', async (_what, text) => {
    const t = setup()
    t.manifests.put(A, 'score.yaml', SCORE('  gone: { type: postgres }'))
    t.manifests.put(B, 'score.yaml', text)
    const outcome = await t.run(t.push())
    expect(outcome.kind).toBe('invalid-manifest')
    expect(outcome.kind === 'invalid-manifest' && outcome.problems.length).toBeGreaterThan(0)
    expect(t.dispatched).toEqual([])
    expect(t.released).toEqual([])
  })

  it('a source fault rejects before anything is emitted', async () => {
    const t = setup()
    t.manifests.failure = new UnavailableError('GitHub answered 502')
    await expect(t.run(t.push())).rejects.toBeInstanceOf(UnavailableError)
    expect(t.dispatched).toEqual([])
    expect(t.released).toEqual([])
  })
})
