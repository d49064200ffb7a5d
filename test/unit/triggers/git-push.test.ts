import { describe, expect, it } from 'vitest'
import {
  branchOf,
  capabilityNames,
  checkPush,
  DEFAULT_MANIFEST_PATHS,
  environmentForBranch,
  findRepository,
  MAX_LISTED_COMMITS,
  manifestPaths,
  removedCapabilities,
  repositoryUrl,
  touchesManifest,
} from '../../../broker/triggers/git-push.ts'
import { examples, type PushExample, triggerCatalog } from './fixtures.ts'

const pushes = examples('push')
const catalog = triggerCatalog()
const branchPush = () => {
  const push = pushes.find((p) => p.ref === 'refs/heads/master')
  if (!push) throw new Error('the examples have a push to master')
  return push
}

describe("GitHub's published push payloads", () => {
  it.each(pushes.map((p, i) => [i, p.ref, p] as const))(
    'example %i (%s) has everything the broker reads',
    (_i, _ref, push) => {
      expect(checkPush(push)).toEqual([])
    },
  )

  it('a tag push is not a branch', () => {
    const tag = pushes.find((p) => p.ref.startsWith('refs/tags/'))
    expect(tag && branchOf(tag.ref)).toBeUndefined()
  })

  it('names the repository by its page', () => {
    expect(repositoryUrl(branchPush())).toBe('https://github.com/Codertocat/Hello-World')
  })

  it('a push that only adds README.md does not touch the manifest', () => {
    expect(touchesManifest(branchPush(), DEFAULT_MANIFEST_PATHS)).toBe(false)
    expect(touchesManifest(branchPush(), ['README.md'])).toBe(true)
  })

  it('refuses a payload without the fields the broker needs, naming them', () => {
    const { after: _after, ...rest } = branchPush()
    const broken = { ...rest, repository: { full_name: 'no slash' } }
    expect(checkPush(broken).map((p) => p.path)).toEqual(
      expect.arrayContaining(['after', 'repository.full_name']),
    )
  })
})

describe('branch → environment', () => {
  it.each([
    ['main', 'prod'],
    ['master', 'prod'],
    ['develop', 'dev'],
    ['feature/login', 'dev'],
    ['feature/a/b', undefined],
    ['release/1.0', undefined],
  ])('%s → %s', (branch, environment) => {
    expect(environmentForBranch(catalog, branch)).toBe(environment)
  })

  it('reads the branch out of a ref, slashes included', () => {
    expect(branchOf('refs/heads/feature/login')).toBe('feature/login')
    expect(branchOf('refs/heads/')).toBeUndefined()
  })
})

describe('which pushes touch the manifest', () => {
  const push = (commits: PushExample['commits'], extra: Partial<PushExample> = {}) => ({
    ...branchPush(),
    head_commit: null,
    commits,
    ...extra,
  })

  it.each([
    ['added', { added: ['score.yaml'] }],
    ['modified', { modified: ['capbroker/capabilities.yaml'] }],
    ['removed', { removed: ['score.yaml'] }],
  ])('a commit that %s it does', (_how, commit) => {
    expect(touchesManifest(push([{}, commit]), DEFAULT_MANIFEST_PATHS)).toBe(true)
  })

  it('a file of the same name in a folder does not', () => {
    expect(touchesManifest(push([{ modified: ['docs/score.yaml'] }]), DEFAULT_MANIFEST_PATHS)).toBe(
      false,
    )
  })

  it('a forced push, or one with more commits than GitHub lists, is assumed to', () => {
    expect(touchesManifest(push([], { forced: true }), DEFAULT_MANIFEST_PATHS)).toBe(true)
    const many = Array.from({ length: MAX_LISTED_COMMITS }, () => ({ modified: ['x'] }))
    expect(touchesManifest(push(many), DEFAULT_MANIFEST_PATHS)).toBe(true)
  })

  it('a configured manifest path replaces the defaults', () => {
    const legacy = findRepository(catalog, 'acme/legacy')
    expect(legacy && manifestPaths(legacy.config)).toEqual(['deploy/capabilities.yaml'])
  })
})

describe('repositories', () => {
  it('are found whatever the case GitHub sends', () => {
    expect(findRepository(catalog, 'codertocat/hello-world')?.config.app).toBe('checkout')
    expect(findRepository(catalog, 'acme/unknown')).toBeUndefined()
  })
})

describe('what a manifest change removes', () => {
  const list = (...names: string[]) => ({
    capabilities: names.map((name) => ({ name, type: 'postgres' })),
  })
  const score = (...names: string[]) => ({
    score: {
      apiVersion: 'score.dev/v1b1',
      metadata: { name: 'w' },
      resources: Object.fromEntries(names.map((n) => [n, { type: 'postgres' }])),
    },
  })

  it('names in the old manifest and not in the new', () => {
    expect(removedCapabilities(list('a', 'b', 'c'), list('b'))).toEqual(['a', 'c'])
    expect(removedCapabilities(score('db', 'cache'), score('db'))).toEqual(['cache'])
    expect(removedCapabilities(list('a'), score('a'))).toEqual([])
  })

  it('everything when the manifest is gone, nothing when it is new', () => {
    expect(removedCapabilities(score('db'), undefined)).toEqual(['db'])
    expect(removedCapabilities(undefined, list('a'))).toEqual([])
    expect(capabilityNames(undefined)).toEqual([])
  })
})
