/**
 * `X-Hub-Signature-256`: HMAC-SHA256 of the raw body under the webhook secret, checked
 * with GitHub's own implementation (@octokit/webhooks-methods, constant-time).
 */
import { verify } from '@octokit/webhooks-methods'
import type { SecretValue } from '../../broker/secret-value.ts'

/** 401: no usable signature; 403: a signature that does not match. */
export type GitHubVerification =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string }

const SIGNATURE = /^sha256=[0-9a-f]{64}$/

/** True when `header` looks like a signature at all (checked before any secret is read). */
export function isSignatureHeader(header: string | undefined): header is string {
  return header !== undefined && SIGNATURE.test(header)
}

/** Checks a delivery's signature against the repository's webhook secret. */
export async function verifyGitHubSignature(
  secret: SecretValue,
  body: string,
  header: string | undefined,
): Promise<GitHubVerification> {
  if (header === undefined || header === '')
    return {
      ok: false,
      status: 401,
      reason: 'the delivery is not signed: set a secret on the webhook (X-Hub-Signature-256)',
    }
  if (!isSignatureHeader(header))
    return {
      ok: false,
      status: 401,
      reason: 'X-Hub-Signature-256 must be sha256= and 64 hex digits',
    }
  if (body === '')
    return { ok: false, status: 403, reason: 'the signature does not match the body' }
  const valid = await verify(secret.reveal(), body, header)
  return valid
    ? { ok: true }
    : {
        ok: false,
        status: 403,
        reason: 'the signature does not match the body (wrong secret, or the body was changed)',
      }
}
