import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { examples, type PushExample } from '../../triggers/fixtures.ts'

const ZERO = '0'.repeat(40)

/** A real git repository in a folder, committed to with git itself. */
export class GitRepo {
  readonly dir: string

  constructor(dir: string) {
    this.dir = dir
    mkdirSync(dir, { recursive: true })
    this.git('init', '--quiet', '--initial-branch=main')
    this.git('config', 'user.name', 'Test')
    this.git('config', 'user.email', 'test@example.com')
    this.git('config', 'commit.gpgsign', 'false')
  }

  /** Runs git in the repository and returns its output, trimmed. */
  git(...args: string[]): string {
    return execFileSync('git', ['-C', this.dir, ...args], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
    }).trim()
  }

  write(path: string, text: string): this {
    mkdirSync(dirname(join(this.dir, path)), { recursive: true })
    writeFileSync(join(this.dir, path), text)
    return this
  }

  remove(path: string): this {
    rmSync(join(this.dir, path))
    return this
  }

  /** Commits everything and returns the new commit id. */
  commit(message: string): string {
    this.git('add', '--all')
    this.git('commit', '--quiet', '--allow-empty', '-m', message)
    return this.head()
  }

  head(ref = 'HEAD'): string {
    return this.git('rev-parse', ref)
  }

  /** What a commit added, modified and removed, as GitHub lists it in a push. */
  changes(sha: string): { added: string[]; modified: string[]; removed: string[] } {
    const out = { added: [] as string[], modified: [] as string[], removed: [] as string[] }
    const lines = this.git('diff-tree', '--no-commit-id', '--root', '-r', '--name-status', sha)
    for (const line of lines.split('\n').filter(Boolean)) {
      const [status, path] = line.split('\t') as [string, string]
      if (status === 'A') out.added.push(path)
      else if (status === 'D') out.removed.push(path)
      else out.modified.push(path)
    }
    return out
  }

  /**
   * The push payload GitHub would send for `before..after` on a branch, built on one of
   * GitHub's published examples (@octokit/webhooks-examples) with this repository's
   * commits, so the broker reads the real shape.
   */
  pushPayload(options: {
    before: string
    after: string
    branch?: string
    repository: string
    deleted?: boolean
  }) {
    const template = examples<PushExample & Record<string, unknown>>('push').find(
      (p) => p.ref === 'refs/heads/master',
    )
    if (!template) throw new Error('the examples have a branch push')
    const range =
      options.before === ZERO ? [options.after] : [`${options.before}..${options.after}`]
    const shas = options.deleted
      ? []
      : this.git('rev-list', '--reverse', ...range)
          .split('\n')
          .filter(Boolean)
    const commits = shas.map((id) => ({
      id,
      tree_id: this.git('rev-parse', `${id}^{tree}`),
      distinct: true,
      message: this.git('log', '-1', '--format=%s', id),
      timestamp: this.git('log', '-1', '--format=%cI', id),
      url: `https://github.com/${options.repository}/commit/${id}`,
      author: { name: 'Test', email: 'test@example.com', username: 'test' },
      committer: { name: 'Test', email: 'test@example.com', username: 'test' },
      ...this.changes(id),
    }))
    const [owner, name] = options.repository.split('/') as [string, string]
    return {
      ...template,
      ref: `refs/heads/${options.branch ?? 'main'}`,
      before: options.before,
      after: options.deleted ? ZERO : options.after,
      created: options.before === ZERO,
      deleted: options.deleted === true,
      forced: false,
      compare: `https://github.com/${options.repository}/compare/${options.before.slice(0, 12)}...${options.after.slice(0, 12)}`,
      commits,
      head_commit: commits.at(-1) ?? null,
      repository: {
        ...(template.repository as object),
        name,
        full_name: options.repository,
        html_url: `https://github.com/${options.repository}`,
        owner: {
          ...(template.repository as unknown as { owner: object }).owner,
          login: owner,
          name: owner,
        },
      },
    }
  }
}
