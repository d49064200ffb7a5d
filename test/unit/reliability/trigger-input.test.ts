/**
 * Hostile manifests and chat commands at the trigger core: whatever a repository holds
 * or a user types, the answer is a clear refusal (invalid-manifest, a usage message),
 * never a thrown TypeError that the HTTP edge turns into a 500.
 */
import { describe, expect, it } from 'vitest'
import type { RequestResult } from '../../../broker/pipeline.ts'
import type { ReleaseRequest } from '../../../broker/release.ts'
import { acceptSlashCommand } from '../../../broker/triggers/chat-ops.ts'
import { findRepository, type PushPayload } from '../../../broker/triggers/git-push.ts'
import { handlePush } from '../../../broker/triggers/git-trigger.ts'
import type { CloudEvent, EventTypes } from '../../../events/index.ts'
import { triggerCatalog } from '../triggers/fixtures.ts'
import { MemoryManifests } from '../triggers/memory-manifests.ts'

const BEFORE = 'a'.repeat(40)
const AFTER = 'b'.repeat(40)
const catalog = triggerCatalog()
const repository = findRepository(catalog, 'Codertocat/Hello-World')!

function push(): PushPayload {
  return {
    ref: 'refs/heads/main',
    before: BEFORE,
    after: AFTER,
    repository: {
      full_name: 'Codertocat/Hello-World',
      html_url: 'https://github.com/Codertocat/Hello-World',
    },
    commits: [{ added: [], modified: ['score.yaml'], removed: [] }],
  }
}

async function pushWith(before: string | undefined, after: string | undefined) {
  const manifests = new MemoryManifests()
  if (before !== undefined) manifests.put(BEFORE, 'score.yaml', before)
  if (after !== undefined) manifests.put(AFTER, 'score.yaml', after)
  const dispatched: CloudEvent<typeof EventTypes.requested>[] = []
  const released: ReleaseRequest[] = []
  const outcome = await handlePush(
    {
      catalog,
      manifests: async () => manifests,
      dispatch: async (event): Promise<RequestResult> => {
        dispatched.push(event)
        return { status: 'resolved', duplicate: false, events: [], capabilities: [] }
      },
      release: async (request) => {
        released.push(request)
        return { released: request.names === 'all' ? [] : [...request.names], events: [] }
      },
      clock: () => new Date('2025-01-01T00:00:00Z'),
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    },
    { delivery: 'd-1', repository, push: push() },
  )
  return { outcome, dispatched, released }
}

const GOOD = 'capabilities:\n  - { name: db, type: postgres }\n'

describe('a push whose manifest is hostile', () => {
  it.each([
    ['a list of scalars', 'capabilities: [null, 1, "x"]\n', /capabilities\[0\]: must be a mapping/],
    [
      'Score resources that are not mappings',
      'apiVersion: score.dev/v1b1\nmetadata: { name: a }\nresources: { db: null }\n',
      /score.resources.db: must be a mapping/,
    ],
    [
      'a Score workload whose resources are a list',
      'apiVersion: score.dev/v1b1\nmetadata: { name: a }\nresources: [1]\n',
      /score.resources: must be a mapping/,
    ],
    [
      'a resource without a type',
      'apiVersion: score.dev/v1b1\nmetadata: { name: a }\nresources: { db: {} }\n',
      /score.resources.db.type: must match/,
    ],
    [
      '10 000 capabilities',
      `capabilities:\n${'  - { name: db, type: secret }\n'.repeat(10_000)}`,
      /at most 100/,
    ],
  ])(
    'after the push, %s: invalid-manifest, nothing dispatched or released',
    async (_what, text, problem) => {
      const { outcome, dispatched, released } = await pushWith(GOOD, text)
      expect(outcome.kind).toBe('invalid-manifest')
      const problems = outcome.kind === 'invalid-manifest' ? outcome.problems : []
      expect(problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toMatch(problem)
      expect([dispatched, released]).toEqual([[], []])
    },
  )

  it.each([
    ['a list of scalars', 'capabilities: [null, 1, { name: old, type: secret }]\n', ['old']],
    [
      'names that are not strings',
      'capabilities: [{ name: 7 }, { name: [x] }, { name: old }]\n',
      ['old'],
    ],
    [
      'Score resources that are a string',
      'apiVersion: score.dev/v1b1\nmetadata: { name: a }\nresources: abc\n',
      [],
    ],
  ])(
    'before the push, %s: the new manifest is requested, and only named entries are released',
    async (_what, text, expected) => {
      const { outcome, dispatched, released } = await pushWith(text, GOOD)
      expect(outcome.kind).toBe('processed')
      expect(dispatched).toHaveLength(1)
      expect(released.flatMap((r) => (r.names === 'all' ? ['all'] : r.names))).toEqual(expected)
    },
  )
})

describe('a slash command the request contract refuses', () => {
  const slack = catalog.document.chatops?.slack
  if (!slack) throw new Error('the trigger catalog configures Slack')
  const [user, apps] = Object.entries(slack.users)[0] ?? ['', []]
  const accept = (text: string) =>
    acceptSlashCommand(
      slack,
      {
        team: slack.teams[0] as string,
        user,
        command: '/capability',
        text: `${text} --app ${apps[0]}`,
      },
      'slack-1',
      new Date('2025-01-01T00:00:00Z'),
    )

  it.each([
    [
      'a __proto__ parameter',
      'request db postgres __proto__=x',
      /params.__proto__: is not an allowed property name/,
    ],
    [
      '33 parameters',
      `request db postgres ${Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(' ')}`,
      /params: must not have more than 32 properties/,
    ],
  ])('%s: a usage answer, no work', (_what, text, message) => {
    const accepted = accept(text)
    expect(accepted.verdict).toBe('usage')
    expect(accepted.work).toBeUndefined()
    expect(accepted.ack.text).toMatch(message)
  })

  it('a constructor parameter is just a name', () => {
    const accepted = accept('request db postgres constructor=x')
    expect(accepted.verdict).toBe('accepted')
    const work = accepted.work
    expect(work?.kind === 'request' && work.event.data.capabilities?.[0]?.params).toEqual({
      constructor: 'x',
    })
  })
})
