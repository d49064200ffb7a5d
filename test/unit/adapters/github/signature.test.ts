import { sign } from '@octokit/webhooks-methods'
import { describe, expect, it } from 'vitest'
import { verifyGitHubSignature } from '../../../../adapters/github/signature.ts'
import { SecretValue } from '../../../../broker/secret-value.ts'
import { GITHUB_EXAMPLE } from '../../triggers/fixtures.ts'

const secret = new SecretValue(GITHUB_EXAMPLE.secret)

describe('X-Hub-Signature-256', () => {
  it("accepts GitHub's published test values", async () => {
    expect(
      await verifyGitHubSignature(secret, GITHUB_EXAMPLE.payload, GITHUB_EXAMPLE.signature),
    ).toEqual({ ok: true })
    expect(await sign(GITHUB_EXAMPLE.secret, GITHUB_EXAMPLE.payload)).toBe(GITHUB_EXAMPLE.signature)
  })

  it('a changed body, a changed signature or another secret is a 403', async () => {
    expect(
      await verifyGitHubSignature(secret, 'Hello, World?', GITHUB_EXAMPLE.signature),
    ).toMatchObject({ ok: false, status: 403 })
    const flipped = `${GITHUB_EXAMPLE.signature.slice(0, -1)}8`
    expect(await verifyGitHubSignature(secret, GITHUB_EXAMPLE.payload, flipped)).toMatchObject({
      ok: false,
      status: 403,
    })
    expect(
      await verifyGitHubSignature(
        new SecretValue('x'),
        GITHUB_EXAMPLE.payload,
        GITHUB_EXAMPLE.signature,
      ),
    ).toMatchObject({ ok: false, status: 403 })
  })

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['the old SHA-1 header', 'sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59'],
    ['truncated', 'sha256=757107ea'],
    ['upper case', GITHUB_EXAMPLE.signature.toUpperCase()],
  ])('%s is a 401', async (_what, header) => {
    expect(await verifyGitHubSignature(secret, GITHUB_EXAMPLE.payload, header)).toMatchObject({
      ok: false,
      status: 401,
    })
  })
})
