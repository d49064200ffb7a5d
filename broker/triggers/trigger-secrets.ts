/**
 * The triggers' own secrets — webhook secrets, Slack signing secrets, API tokens — read
 * through the same store lookup (and the same batching, cache and single-flight) as
 * capability secrets. A value comes back as a SecretValue; errors name the store and
 * key, never the value.
 */
import type { CatalogDocument, StoreReference } from '../catalog/schema.ts'
import { BrokerError } from '../errors.ts'
import { referenceId, SecretResolver, type StoreLookup } from '../resolution/secret-resolver.ts'
import type { SecretValue } from '../secret-value.ts'

/** Options of {@link TriggerSecrets}. */
export interface TriggerSecretsOptions {
  readonly stores: StoreLookup
  /** Milliseconds since the epoch (injected: tests control expiry). */
  readonly now: () => number
  /** How long a value is served from memory; a rotated secret is picked up after this. */
  readonly ttlMs: number
}

/** Reads trigger secrets from their stores. */
export class TriggerSecrets {
  readonly #resolver: SecretResolver
  readonly #ttlMs: number

  constructor(options: TriggerSecretsOptions) {
    this.#resolver = new SecretResolver({ stores: options.stores, now: options.now })
    this.#ttlMs = options.ttlMs
  }

  /**
   * The value at `ref`. `what` names it in an error ("the webhook secret of acme/shop").
   * Rejects with a BrokerError that keeps the store's code (NOT_FOUND, UNAVAILABLE, …).
   */
  async read(ref: StoreReference, what: string): Promise<SecretValue> {
    const reference = { store: ref.store, key: ref.key, ttlMs: this.#ttlMs }
    const outcome = (await this.#resolver.resolve([reference])).get(referenceId(reference))
    if (outcome?.ok) return outcome.value
    const error = outcome?.error
    throw new BrokerError(
      error?.code ?? 'INTERNAL',
      `${what} (store "${ref.store}", key "${ref.key}") cannot be read: ${error?.message ?? 'no result'}`,
      { cause: error, retryable: error?.retryable ?? false },
    )
  }

  /** Drops every cached value (after an operator rotated a secret). */
  forget(): void {
    this.#resolver.invalidate()
  }
}

/** The store references each trigger function reads (for deriving its IAM policy). */
export interface TriggerSecretReferences {
  /** Webhook secrets and API tokens of `git.repos` (the `github` function). */
  readonly github: readonly StoreReference[]
  /** The Slack signing secret (the `slack` function). */
  readonly slack: readonly StoreReference[]
}

/** Every trigger secret a catalog names, per function, without duplicates. */
export function triggerSecretReferences(document: CatalogDocument): TriggerSecretReferences {
  const unique = (refs: (StoreReference | undefined)[]) => {
    const seen = new Map<string, StoreReference>()
    for (const ref of refs) if (ref) seen.set(`${ref.store}\u0000${ref.key}`, ref)
    return [...seen.values()]
  }
  const repos = Object.values(document.git?.repos ?? {})
  return {
    github: unique(repos.flatMap((r) => [r.webhookSecret, r.token])),
    slack: unique([document.chatops?.slack?.signingSecret]),
  }
}
