/**
 * ManifestSource over a local clone (self-hosted repositories): `git show <sha>:<path>`
 * run with execFile — an argument list, no shell — so nothing in a path or commit id
 * is ever interpreted by a shell.
 */
import { execFile } from 'node:child_process'
import { InvalidConfigError, NotFoundError, UnavailableError } from '../../broker/errors.ts'
import type { CallOptions, ManifestLocation, ManifestSource } from '../../broker/ports.ts'

/** Manifests are small; a bigger blob is refused rather than buffered. */
export const MAX_MANIFEST_BYTES = 1024 * 1024
const COMMIT = /^([0-9a-f]{40}|[0-9a-f]{64})$/

/** Options of {@link LocalGitSource}. */
export interface LocalGitSourceOptions {
  /** The clone (a working tree or a bare repository) the pushes land in. */
  readonly clone: string
  /** The git executable; default `git` on PATH. */
  readonly git?: string
  /** Per command; default 10 s. */
  readonly timeoutMs?: number
}

interface GitRun {
  readonly code: number
  readonly stdout: Buffer
}

/** Reads manifests from a clone with git itself. */
export class LocalGitSource implements ManifestSource {
  readonly kind = 'local-git'
  readonly #options: LocalGitSourceOptions

  constructor(options: LocalGitSourceOptions) {
    this.#options = options
  }

  #git(args: readonly string[], signal?: AbortSignal): Promise<GitRun> {
    return new Promise((resolve, reject) => {
      execFile(
        this.#options.git ?? 'git',
        ['-C', this.#options.clone, ...args],
        {
          encoding: 'buffer',
          maxBuffer: MAX_MANIFEST_BYTES,
          timeout: this.#options.timeoutMs ?? 10_000,
          windowsHide: true,
          // A fixed locale and no prompt: git never waits for a terminal.
          env: { ...process.env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' },
          ...(signal ? { signal } : {}),
        },
        (error, stdout) => {
          if (!error) return resolve({ code: 0, stdout })
          const failure = error as NodeJS.ErrnoException & { code?: unknown; killed?: boolean }
          if (typeof failure.code === 'number') return resolve({ code: failure.code, stdout })
          reject(error)
        },
      )
    })
  }

  async read(location: ManifestLocation, options?: CallOptions): Promise<string | undefined> {
    const what = `${location.repository}:${location.path}@${location.commit.slice(0, 7)}`
    if (!COMMIT.test(location.commit)) throw new InvalidConfigError(`${what}: not a full commit id`)
    if (location.path.startsWith('-') || location.path.split('/').includes('..'))
      throw new InvalidConfigError(`${what}: not a path inside the repository`)
    try {
      const commit = await this.#git(
        ['rev-parse', '--verify', '--quiet', `${location.commit}^{commit}`],
        options?.signal,
      )
      // 128 is git's fatal exit: no repository there at all.
      if (commit.code === 128)
        throw new InvalidConfigError(`${what}: ${this.#options.clone} is not a git repository`)
      if (commit.code !== 0)
        throw new NotFoundError(
          `${what}: commit not found in the clone at ${this.#options.clone} (is it the repository the pushes land in?)`,
        )
      const type = await this.#git(
        ['cat-file', '-t', `${location.commit}:${location.path}`],
        options?.signal,
      )
      if (type.code !== 0) return undefined
      if (type.stdout.toString().trim() !== 'blob')
        throw new InvalidConfigError(`${what} is not a file`)
      const shown = await this.#git(
        ['show', '--no-textconv', `${location.commit}:${location.path}`],
        options?.signal,
      )
      if (shown.code !== 0)
        throw new UnavailableError(`${what}: git show failed (exit ${shown.code})`)
      return new TextDecoder('utf-8', { fatal: true }).decode(shown.stdout)
    } catch (error) {
      if (
        error instanceof NotFoundError ||
        error instanceof InvalidConfigError ||
        error instanceof UnavailableError
      )
        throw error
      const failure = error as NodeJS.ErrnoException
      if (failure.code === 'ENOENT')
        throw new InvalidConfigError(
          `${what}: git is not installed, or the clone ${this.#options.clone} does not exist`,
          { cause: error },
        )
      if (failure.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
        throw new InvalidConfigError(`${what} is larger than ${MAX_MANIFEST_BYTES} bytes`, {
          cause: error,
        })
      if (failure instanceof TypeError)
        throw new InvalidConfigError(`${what} is not UTF-8 text`, { cause: error })
      throw new UnavailableError(`${what}: git failed (${failure.name})`, { cause: error })
    }
  }
}
