import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalGitSource } from '../../../../adapters/local-git/git-source.ts'
import { InvalidConfigError, NotFoundError } from '../../../../broker/errors.ts'
import { GitRepo } from './git-repo.ts'

let dir: string
let repo: GitRepo
let first: string
let second: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-git-'))
  repo = new GitRepo(join(dir, 'work'))
  first = repo
    .write('score.yaml', 'resources:\n  db: { type: postgres }\n')
    .write('docs/readme.md', 'ünïcode\n')
    .commit('first')
  second = repo
    .write('score.yaml', 'resources:\n  cache: { type: redis }\n')
    .remove('docs/readme.md')
    .commit('second')
  // A bare clone, as a self-hosted server keeps it.
  new GitRepo(join(dir, 'unused')).git(
    'clone',
    '--quiet',
    '--bare',
    repo.dir,
    join(dir, 'server.git'),
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const at = (source: LocalGitSource, path: string, commit: string) =>
  source.read({ repository: 'acme/checkout', path, commit })

describe('LocalGitSource (git show on a clone)', () => {
  it('reads a file as it was at each commit', async () => {
    const source = new LocalGitSource({ clone: repo.dir })
    expect(await at(source, 'score.yaml', first)).toBe('resources:\n  db: { type: postgres }\n')
    expect(await at(source, 'score.yaml', second)).toBe('resources:\n  cache: { type: redis }\n')
    expect(await at(source, 'docs/readme.md', first)).toBe('ünïcode\n')
  })

  it('reads from a bare repository too', async () => {
    const source = new LocalGitSource({ clone: join(dir, 'server.git') })
    expect(await at(source, 'score.yaml', second)).toMatch(/cache/)
  })

  it('a file missing at a commit is undefined; a folder is not a manifest', async () => {
    const source = new LocalGitSource({ clone: repo.dir })
    expect(await at(source, 'docs/readme.md', second)).toBeUndefined()
    expect(await at(source, 'capbroker/capabilities.yaml', second)).toBeUndefined()
    await expect(at(source, 'docs', first)).rejects.toThrow(InvalidConfigError)
  })

  it('a commit the clone does not have is NotFound, naming the clone', async () => {
    const source = new LocalGitSource({ clone: repo.dir })
    await expect(at(source, 'score.yaml', 'e'.repeat(40))).rejects.toThrow(NotFoundError)
    await expect(at(source, 'score.yaml', 'e'.repeat(40))).rejects.toThrow(
      /commit not found in the clone/,
    )
  })

  it.each([
    ['an abbreviated commit', 'score.yaml', 'HEAD'],
    ['an option as a commit', 'score.yaml', '--output=/tmp/x'],
    ['a path that climbs out', '../secrets', 'f'.repeat(40)],
    ['a path that looks like an option', '--help', 'f'.repeat(40)],
  ])('%s is refused before git runs', async (_what, path, commit) => {
    const source = new LocalGitSource({ clone: repo.dir, git: '/nonexistent/git' })
    await expect(at(source, path, commit)).rejects.toThrow(InvalidConfigError)
  })

  it('a clone that does not exist says so', async () => {
    const source = new LocalGitSource({ clone: join(dir, 'nowhere') })
    await expect(at(source, 'score.yaml', first)).rejects.toThrow(/nowhere is not a git repository/)
  })
})
