import { describe, expect, it } from 'vitest'
import { SecretValue } from '../../../broker/secret-value.ts'
import {
  ReplayGuard,
  requestIdForSlack,
  slackSignature,
  verifySlackSignature,
} from '../../../broker/triggers/slack-signature.ts'
import { SLACK_EXAMPLE } from './fixtures.ts'

const secret = new SecretValue(SLACK_EXAMPLE.secret)
const at = (seconds: number) => new Date(seconds * 1000)
const verify = (overrides: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) =>
  verifySlackSignature({
    secret,
    timestamp: SLACK_EXAMPLE.timestamp,
    signature: SLACK_EXAMPLE.signature,
    body: Buffer.from(SLACK_EXAMPLE.body),
    now: at(Number(SLACK_EXAMPLE.timestamp)),
    ...overrides,
  })

describe("Slack's published signing example", () => {
  it('computes the published signature', () => {
    expect(slackSignature(secret, SLACK_EXAMPLE.timestamp, Buffer.from(SLACK_EXAMPLE.body))).toBe(
      SLACK_EXAMPLE.signature,
    )
  })

  it('verifies at the moment it was sent, and up to 5 minutes either side', () => {
    expect(verify()).toEqual({ ok: true })
    expect(verify({ now: at(1531420618 + 300) })).toEqual({ ok: true })
    expect(verify({ now: at(1531420618 - 300) })).toEqual({ ok: true })
  })

  it('a replay more than 5 minutes later is refused (401)', () => {
    expect(verify({ now: at(1531420618 + 301) })).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringMatching(/more than 5 minutes/),
    })
    expect(verify({ now: at(1531420618 - 301) })).toMatchObject({ ok: false, status: 401 })
  })

  it('a tampered body, timestamp or secret does not match (403)', () => {
    const body = Buffer.from(SLACK_EXAMPLE.body.replace('text=', 'text=request%20x%20y'))
    expect(verify({ body })).toMatchObject({ ok: false, status: 403 })
    expect(verify({ timestamp: '1531420619', now: at(1531420619) })).toMatchObject({
      ok: false,
      status: 403,
    })
    expect(verify({ secret: new SecretValue('another-secret') })).toMatchObject({
      ok: false,
      status: 403,
    })
  })

  it.each([
    ['no timestamp', { timestamp: undefined }],
    ['no signature', { signature: undefined }],
    ['a timestamp that is not seconds', { timestamp: '2018-07-12T18:36:58Z' }],
    [
      'a signature of another scheme',
      { signature: 'v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' },
    ],
    ['a short signature', { signature: 'v0=a2114d57' }],
  ])('%s is refused as unsigned (401)', (_what, overrides) => {
    expect(verify(overrides)).toMatchObject({ ok: false, status: 401 })
  })
})

describe('replays inside the window', () => {
  it('the same signature is refused the second time, until the window has passed', () => {
    const guard = new ReplayGuard({ windowMs: 600_000 })
    expect(guard.firstSeen('v0=1', at(1000))).toBe(true)
    expect(guard.firstSeen('v0=2', at(1001))).toBe(true)
    expect(guard.firstSeen('v0=1', at(1500))).toBe(false)
    expect(guard.firstSeen('v0=1', at(1000 + 601))).toBe(true)
  })

  it('stays bounded', () => {
    const guard = new ReplayGuard({ windowMs: 600_000, maxEntries: 3 })
    for (let i = 0; i < 10; i++) guard.firstSeen(`v0=${i}`, at(1000))
    // The oldest were dropped to stay within the bound: only the newest are remembered.
    expect(guard.firstSeen('v0=9', at(1000))).toBe(false)
    expect(guard.firstSeen('v0=0', at(1000))).toBe(true)
  })

  it('a request id follows the signature, so a replay names the same request', () => {
    const id = requestIdForSlack(SLACK_EXAMPLE.timestamp, SLACK_EXAMPLE.signature)
    expect(id).toMatch(/^slack-[0-9a-f]{32}$/)
    expect(requestIdForSlack(SLACK_EXAMPLE.timestamp, SLACK_EXAMPLE.signature)).toBe(id)
    expect(requestIdForSlack('1531420619', SLACK_EXAMPLE.signature)).not.toBe(id)
  })
})
