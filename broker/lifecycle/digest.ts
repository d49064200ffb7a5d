/**
 * The keyed digest of a binding: how a refresh tells whether the values it would inject
 * differ from the ones injected, without the state ever holding a value. An HMAC, not a
 * plain hash: whoever reads the state (a DynamoDB export, a copied `state.db`) cannot
 * test guesses of a short password against it without the host's key.
 */
import type { KeyObject } from 'node:crypto'
import { nodeCrypto } from '../builtins.ts'
import type { Binding, BindingTarget } from '../ports.ts'

/** The HMAC key: 32 random bytes the host keeps apart from the state. */
export type DigestKey = KeyObject | Uint8Array

/**
 * Gives the host's digest key. Async and supplied by the host: the embedded runtime
 * reads `<home>/digest.key`, a Lambda function a Secrets Manager secret.
 */
export type DigestKeySource = () => Promise<DigestKey>

/** Bumped if the canonical form below ever changes, so old digests read as "changed" once. */
const FORMAT = 'capbroker-binding-digest-v1'

/**
 * HMAC-SHA256 over the binding's canonical form: where it goes (app, environment,
 * name — so two bindings with equal values do not show as equal in the state), its
 * type and provider, and every entry sorted by name.
 */
export function bindingDigest(target: BindingTarget, binding: Binding, key: DigestKey): string {
  const entries = [...binding.entries]
    .map(([name, value]) => [name, value.reveal()] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const canonical = JSON.stringify([
    FORMAT,
    target.app,
    target.environment,
    binding.name,
    binding.type,
    binding.provider,
    entries,
  ])
  return `hmac-sha256:${nodeCrypto().createHmac('sha256', key).update(canonical).digest('hex')}`
}

/**
 * Loads the key once and keeps it; a failed load is tried again on the next call (the
 * secret may be readable a moment later). `undefined` when the host has none.
 */
export function cachedDigestKey(load: DigestKeySource): DigestKeySource {
  let pending: Promise<DigestKey> | undefined
  return function digestKey() {
    pending ??= load().catch((error: unknown) => {
      pending = undefined
      throw error
    })
    return pending
  }
}
