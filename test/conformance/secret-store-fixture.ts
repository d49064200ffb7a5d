/**
 * What a store supplies to the SecretStore conformance suite: its fixture, the only
 * per-store code. See `secret-store.ts` for the cases.
 */
import type { SecretStore } from '../../broker/ports.ts'

/**
 * The provider faults the suite knows how to check: `throttling` (HTTP 429, a
 * throttling exception, a database lock held too long) and `server-error` (5xx).
 */
export type FaultKind = 'throttling' | 'server-error'

/**
 * A way to make a provider fail at the wire (or, for an embedded store, at its file).
 * The fault must last until stopped, not for one request: SDKs retry on their own, and
 * the suite checks what the adapter reports once they give up.
 */
export interface FaultHook {
  /** Which calls the fault reaches (a WAL database's readers never wait for a lock). */
  readonly calls: readonly ('read' | 'write')[]
  /** Starts failing the provider's calls; resolves to the function that stops it. */
  inject(): Promise<() => Promise<void>>
}

/** Everything the suite needs from one store; the only per-store code. */
export interface SecretStoreFixture<S extends SecretStore = SecretStore> {
  /** Builds the store under test (once per suite). */
  create(): S | Promise<S>
  /** Releases it (close a database, destroy a client). */
  dispose?(store: S): void | Promise<void>
  /** Writes a new version through the provider's own means; resolves to its version id. */
  seed(key: string, value: string): Promise<string>
  /** Deletes a key and its versions through the provider's own means; a missing key is fine. */
  remove(key: string): Promise<void>
  /** A version id of the provider's own format that no seeded key has. */
  readonly unknownVersion: string
  /** Whether the store implements WritableSecretStore (then the writer cases run). */
  readonly writable: boolean
  /** Fault hooks where the provider can be made to fail; a missing kind is skipped. */
  readonly faults?: Partial<Record<FaultKind, FaultHook>>
  /** Why faults are missing; shown in the skipped cases' names. */
  readonly faultsSkipReason?: string
  /** A misconfigured store: construction or its first read must give InvalidConfigError. */
  badConfig(): SecretStore | Promise<SecretStore>
}
