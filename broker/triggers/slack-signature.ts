/**
 * Slack's request signing (v0): HMAC-SHA256 of `v0:<timestamp>:<raw body>` under the
 * app's signing secret, hex, prefixed `v0=`, compared in constant time. A timestamp more
 * than five minutes from the broker's clock is refused, so a captured request cannot be
 * replayed later.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { SecretValue } from '../secret-value.ts'

/** How far a request's timestamp may be from the broker's clock: five minutes. */
export const SLACK_MAX_SKEW_SECONDS = 300

/** The answer of {@link verifySlackSignature}: 401 unusable proof, 403 wrong proof. */
export type SlackVerification =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string }

const SIGNATURE = /^v0=[0-9a-f]{64}$/

/** `v0=<hex>` for a body, as Slack computes it. */
export function slackSignature(secret: SecretValue, timestamp: string, body: Buffer): string {
  const hmac = createHmac('sha256', secret.reveal())
  hmac.update(`v0:${timestamp}:`)
  hmac.update(body)
  return `v0=${hmac.digest('hex')}`
}

/** Checks the X-Slack-Request-Timestamp and X-Slack-Signature headers of a raw body. */
export function verifySlackSignature(input: {
  readonly secret: SecretValue
  readonly timestamp: string | undefined
  readonly signature: string | undefined
  readonly body: Buffer
  readonly now: Date
}): SlackVerification {
  const { timestamp, signature } = input
  if (!timestamp || !signature)
    return {
      ok: false,
      status: 401,
      reason:
        'the request is not signed: X-Slack-Request-Timestamp and X-Slack-Signature are required',
    }
  if (!/^[0-9]{1,12}$/.test(timestamp))
    return { ok: false, status: 401, reason: 'X-Slack-Request-Timestamp must be Unix seconds' }
  const skew = Math.abs(input.now.getTime() / 1000 - Number(timestamp))
  if (skew > SLACK_MAX_SKEW_SECONDS)
    return {
      ok: false,
      status: 401,
      reason: `the request timestamp is more than ${SLACK_MAX_SKEW_SECONDS / 60} minutes from now: a replayed request, or a wrong clock`,
    }
  if (!SIGNATURE.test(signature))
    return { ok: false, status: 401, reason: 'X-Slack-Signature must be v0= and 64 hex digits' }
  const expected = Buffer.from(slackSignature(input.secret, timestamp, input.body))
  if (!timingSafeEqual(expected, Buffer.from(signature)))
    return { ok: false, status: 403, reason: 'the Slack signature does not match the body' }
  return { ok: true }
}

/**
 * The requested event's id for a slash command: derived from its signature, so the
 * same signed request (a replay inside the window) names the same request.
 */
export function requestIdForSlack(timestamp: string, signature: string): string {
  return `slack-${createHash('sha256').update(`${timestamp}\n${signature}`).digest('hex').slice(0, 32)}`
}

/**
 * Remembers the signatures seen in the last window, so an exact replay inside it is
 * refused too. Bounded; per process (a second host has its own memory — the request
 * id derived from the signature keeps a replay idempotent there).
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>()
  readonly #windowMs: number
  readonly #max: number

  constructor(options: { windowMs?: number; maxEntries?: number } = {}) {
    this.#windowMs = options.windowMs ?? 2 * SLACK_MAX_SKEW_SECONDS * 1000
    this.#max = options.maxEntries ?? 10_000
  }

  /** True the first time a signature is presented; false for a replay. */
  firstSeen(signature: string, now: Date): boolean {
    const at = now.getTime()
    for (const [key, seenAt] of this.#seen) {
      if (at - seenAt <= this.#windowMs && this.#seen.size <= this.#max) break
      this.#seen.delete(key)
    }
    if (this.#seen.has(signature)) return false
    this.#seen.set(signature, at)
    return true
  }
}
