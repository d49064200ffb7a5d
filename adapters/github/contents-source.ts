/**
 * ManifestSource over the GitHub contents API (`GET /repos/{owner}/{repo}/contents/{path}?ref=`)
 * through @octokit/rest: github.com, or GitHub Enterprise with its API `baseUrl`.
 * The token is read from its store on each call (cached there), never kept in a field.
 */
import { Octokit } from '@octokit/rest'
import { InvalidConfigError } from '../../broker/errors.ts'
import type { CallOptions, ManifestLocation, ManifestSource } from '../../broker/ports.ts'
import type { SecretValue } from '../../broker/secret-value.ts'
import { mapGitHubError } from './errors.ts'

/** Manifests are small; the contents API stops inlining files at 1 MiB anyway. */
export const MAX_MANIFEST_BYTES = 1024 * 1024

/** Options of {@link GitHubContentsSource}. */
export interface GitHubContentsSourceOptions {
  /** The API root; default https://api.github.com. */
  readonly baseUrl?: string
  /** The API token, read when needed; absent for public repositories. */
  readonly token?: () => Promise<SecretValue>
  readonly userAgent?: string
  /** Per request; default 10 s. */
  readonly timeoutMs?: number
}

/** The documented shape of a file in the contents API. */
interface ContentFile {
  readonly type?: string
  readonly encoding?: string
  readonly content?: string
  readonly size?: number
}

const silent = { debug() {}, info() {}, warn() {}, error() {} }

/** Reads manifests through the GitHub contents API. */
export class GitHubContentsSource implements ManifestSource {
  readonly kind = 'github'
  readonly #options: GitHubContentsSourceOptions

  constructor(options: GitHubContentsSourceOptions = {}) {
    this.#options = options
  }

  async read(location: ManifestLocation, options?: CallOptions): Promise<string | undefined> {
    const what = `${location.repository}:${location.path}@${location.commit.slice(0, 7)}`
    const [owner, repo] = location.repository.split('/') as [string, string]
    const token = this.#options.token ? (await this.#options.token()).reveal() : undefined
    const octokit = new Octokit({
      ...(token === undefined ? {} : { auth: token }),
      ...(this.#options.baseUrl === undefined ? {} : { baseUrl: this.#options.baseUrl }),
      userAgent: this.#options.userAgent ?? 'capbroker',
      log: silent,
    })
    const signal = AbortSignal.any([
      AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      ...(options?.signal ? [options.signal] : []),
    ])
    let data: unknown
    try {
      ;({ data } = await octokit.rest.repos.getContent({
        owner,
        repo,
        path: location.path,
        ref: location.commit,
        request: { signal },
      }))
    } catch (error) {
      // The contents API answers 404 for a path that does not exist at the ref.
      if (
        (error as { status?: number }).status === 404 &&
        (error as { response?: unknown }).response
      )
        return undefined
      throw mapGitHubError(error, `reading ${what}`)
    }
    return decodeFile(data, what)
  }
}

/** The text of a contents API file response; a directory or a symlink is not a manifest. */
export function decodeFile(data: unknown, what: string): string {
  const file = data as ContentFile
  if (Array.isArray(data) || file?.type !== 'file')
    throw new InvalidConfigError(
      `${what} is not a file (${Array.isArray(data) ? 'dir' : String(file?.type)})`,
    )
  if (
    (file.size ?? 0) > MAX_MANIFEST_BYTES ||
    file.encoding !== 'base64' ||
    typeof file.content !== 'string'
  )
    throw new InvalidConfigError(
      `${what} is larger than ${MAX_MANIFEST_BYTES} bytes or not inlined`,
    )
  const bytes = Buffer.from(file.content, 'base64')
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (error) {
    throw new InvalidConfigError(`${what} is not UTF-8 text`, { cause: error })
  }
}
