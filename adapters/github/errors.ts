/**
 * GitHub API failures mapped to the broker's errors, in this one place. Messages name
 * the repository and path; never the token, and never GitHub's own message (it may
 * quote request details).
 */
import {
  AccessDeniedError,
  type BrokerError,
  InvalidConfigError,
  UnavailableError,
} from '../../broker/errors.ts'

/** The parts of an Octokit RequestError this mapping reads. */
interface GitHubFailure {
  readonly name?: string
  readonly status?: number
  readonly response?: { readonly headers?: Record<string, string | number | undefined> }
}

/** Maps anything the GitHub client threw to a BrokerError. `what` says what was being read. */
export function mapGitHubError(error: unknown, what: string): BrokerError {
  const failure = (error ?? {}) as GitHubFailure
  if (failure.name === 'AbortError')
    return new UnavailableError(`${what}: aborted`, { cause: error })
  const status = failure.status
  const headers = failure.response?.headers ?? {}
  if (failure.response === undefined || status === undefined)
    return new UnavailableError(`${what}: GitHub could not be reached`, { cause: error })
  const retryAfter = Number(headers['retry-after'])
  const rateLimited =
    status === 429 || (status === 403 && String(headers['x-ratelimit-remaining']) === '0')
  if (rateLimited)
    return new UnavailableError(`${what}: GitHub rate limit reached`, {
      cause: error,
      ...(Number.isFinite(retryAfter) ? { retryAfterMs: retryAfter * 1000 } : {}),
    })
  if (status === 401)
    return new AccessDeniedError(`${what}: GitHub refused the token (401): check git.repos token`, {
      cause: error,
    })
  if (status === 403)
    return new AccessDeniedError(`${what}: the token may not read this repository (403)`, {
      cause: error,
    })
  if (status >= 500)
    return new UnavailableError(`${what}: GitHub answered ${status}`, { cause: error })
  return new InvalidConfigError(`${what}: GitHub answered ${status}`, { cause: error })
}
