import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { GitHubContentsSource } from '../../../../adapters/github/contents-source.ts'
import {
  AccessDeniedError,
  InvalidConfigError,
  UnavailableError,
} from '../../../../broker/errors.ts'
import { SecretValue } from '../../../../broker/secret-value.ts'
import { ContentsApi } from './contents-api.ts'

const SHA = 'c0ffee'.padEnd(40, '0')
const TOKEN = 'canary-gh-token-unit-77'
const SCORE = `apiVersion: score.dev/v1b1\nmetadata: { name: checkout }\nresources:\n  orders-db: { type: postgres }\n  # ${'x'.repeat(200)}\n`

let api: ContentsApi
let source: GitHubContentsSource

beforeAll(async () => {
  api = await new ContentsApi('/api/v3').start()
  api.put('acme/checkout', SHA, 'score.yaml', SCORE)
  api.put('acme/checkout', SHA, 'capbroker/capabilities.yaml', 'capabilities: []\n')
  source = new GitHubContentsSource({ baseUrl: api.url, token: async () => new SecretValue(TOKEN) })
})
afterAll(() => api.stop())
beforeEach(() => {
  api.canned = undefined
  api.requests.length = 0
})

const read = (path: string, commit = SHA) =>
  source.read({ repository: 'acme/checkout', path, commit })

describe('GitHubContentsSource through @octokit/rest', () => {
  it('reads a file at a commit: base64 content decoded, token sent as authorization', async () => {
    expect(await read('score.yaml')).toBe(SCORE)
    const [request] = api.requests
    expect(request).toMatchObject({ method: 'GET', path: 'score.yaml', ref: SHA })
    expect(request?.headers.authorization).toBe(`token ${TOKEN}`)
    expect(request?.headers['user-agent']).toMatch(/^capbroker/)
  })

  it('reads a path with a folder, on an Enterprise base URL', async () => {
    expect(await read('capbroker/capabilities.yaml')).toBe('capabilities: []\n')
    expect(api.requests[0]?.url).toMatch(/^\/api\/v3\/repos\/acme\/checkout\/contents\//)
  })

  it('a file that does not exist at the commit is undefined', async () => {
    expect(await read('score.yaml', 'd'.repeat(40))).toBeUndefined()
  })

  it('a public repository needs no token', async () => {
    const anonymous = new GitHubContentsSource({ baseUrl: api.url })
    expect(
      await anonymous.read({ repository: 'acme/checkout', path: 'score.yaml', commit: SHA }),
    ).toBe(SCORE)
    expect(api.requests[0]?.headers.authorization).toBeUndefined()
  })

  it('a directory is not a manifest', async () => {
    await expect(read('capbroker')).rejects.toThrow(InvalidConfigError)
  })

  it.each([
    [401, {}, AccessDeniedError, /refused the token/],
    [403, {}, AccessDeniedError, /may not read this repository/],
    [403, { 'x-ratelimit-remaining': '0' }, UnavailableError, /rate limit/],
    [429, { 'retry-after': '30' }, UnavailableError, /rate limit/],
    [502, {}, UnavailableError, /answered 502/],
    [422, {}, InvalidConfigError, /answered 422/],
  ])('%i %j → %o', async (status, headers, type, message) => {
    api.canned = { status, headers, body: { message: `echo ${TOKEN}` } }
    const error = (await read('score.yaml').catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(type)
    expect(error.message).toMatch(message)
    expect(error.message).toContain('acme/checkout:score.yaml@c0ffee0')
    expect(error.message).not.toContain(TOKEN)
  })

  it('a file too large to inline is refused, not half-read', async () => {
    api.canned = {
      status: 200,
      body: { type: 'file', encoding: 'none', content: '', size: 2 * 1024 * 1024 },
    }
    await expect(read('score.yaml')).rejects.toThrow(/larger than 1048576 bytes/)
  })

  it('an unreachable API is Unavailable', async () => {
    const down = new GitHubContentsSource({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2_000 })
    await expect(down.read({ repository: 'a/b', path: 'score.yaml', commit: SHA })).rejects.toThrow(
      UnavailableError,
    )
  })
})
