/**
 * The ports: what the pure core needs from the outside world. Adapters implement them;
 * optional abilities (writing, deleting) are separate interfaces, discovered, not forced.
 */
import type { AnyCloudEvent } from '../events/index.ts'
import type { BrokerError } from './errors.ts'
import type { SecretValue } from './secret-value.ts'

/** Where to read one secret inside a store; `version` pins one, absent means the newest. */
export interface SecretLocator {
  readonly key: string
  readonly version?: string
}

/** Per-key result of {@link SecretStore.read}: one missing key does not fail the batch. */
export type ReadOutcome =
  | {
      readonly ok: true
      readonly key: string
      readonly version: string
      readonly value: SecretValue
    }
  | { readonly ok: false; readonly key: string; readonly error: BrokerError }

/** Options every store call takes. */
export interface CallOptions {
  readonly signal?: AbortSignal
}

/** What a store's health check reports (shown on `/healthz`). */
export interface StoreHealth {
  readonly status: 'ready' | 'unavailable'
  readonly message?: string
}

/**
 * A secret provider. `read` is batched: it returns one outcome per locator, in the same
 * order. It rejects (with a BrokerError) only when the whole store failed — unreachable,
 * bad credentials, aborted — and then every locator of the call failed alike.
 */
export interface SecretStore {
  /** The adapter kind, reported as `provider` in outcomes (`local`, `aws-secrets-manager`, …). */
  readonly provider: string
  read(locators: readonly SecretLocator[], options?: CallOptions): Promise<ReadOutcome[]>
  health(options?: CallOptions): Promise<StoreHealth>
}

/** The result of a write: the version now current, and whether the write made a new one. */
export interface WriteOutcome {
  readonly version: string
  readonly changed: boolean
}

/** Options of {@link WritableSecretStore.write}. */
export interface WriteOptions extends CallOptions {
  /**
   * Compare-and-write, for stores with `conditionalWrites`: write only when the newest
   * version is still this one (`null`: only when the key does not exist), else throw
   * ConflictError. Read-modify-write of a shared secret (the bundle) needs it.
   */
  readonly ifVersion?: string | null
}

/** A store the broker may write to (the bundle sink, `capbroker secrets put`). */
export interface WritableSecretStore extends SecretStore {
  /** True when `write` honours {@link WriteOptions.ifVersion}. */
  readonly conditionalWrites?: boolean
  /** Writes a new version, unless the newest version already holds this value. */
  write(key: string, value: SecretValue, options?: WriteOptions): Promise<WriteOutcome>
  /** Deletes the key and all its versions; deleting a missing key is not an error. */
  delete(key: string, options?: CallOptions): Promise<void>
}

/** A store that can list its keys (the local store, for `capbroker secrets list`). */
export interface ListableSecretStore extends SecretStore {
  list(options?: CallOptions): Promise<{ key: string; version: string; updatedAt: string }[]>
}

/** True when the store implements {@link WritableSecretStore}. */
export function isWritable(store: SecretStore): store is WritableSecretStore {
  const s = store as Partial<WritableSecretStore>
  return typeof s.write === 'function' && typeof s.delete === 'function'
}

/** True when the store implements {@link ListableSecretStore}. */
export function isListable(store: SecretStore): store is ListableSecretStore {
  return typeof (store as Partial<ListableSecretStore>).list === 'function'
}

/** Whose context a binding goes into. */
export interface BindingTarget {
  readonly app: string
  readonly environment: string
}

/**
 * One capability's binding: the Service Binding entries, every value a SecretValue.
 * `type` and `provider` are written as entries by every sink.
 */
export interface Binding {
  readonly name: string
  readonly type: string
  readonly provider: string
  readonly entries: ReadonlyMap<string, SecretValue>
  readonly secretEntries: readonly string[]
}

/** Where a sink put the bindings: a directory, or a secret name and its version. */
export interface InjectionReceipt {
  readonly sink: string
  readonly location: string
  readonly version?: string
  readonly bindings: readonly { readonly name: string; readonly path?: string }[]
}

/** Puts bindings into an application's context, and takes them out again. */
export interface BindingSink {
  readonly kind: string
  inject(
    target: BindingTarget,
    bindings: readonly Binding[],
    options?: CallOptions,
  ): Promise<InjectionReceipt>
  remove(target: BindingTarget, names: readonly string[], options?: CallOptions): Promise<void>
}

/** Publishes CloudEvents (outcomes, injections) to whoever listens. */
export interface EventBus {
  publish(events: readonly AnyCloudEvent[], options?: CallOptions): Promise<void>
}

/** A request's identity for idempotency: CloudEvents `source` + `id`. */
export interface RequestKey {
  readonly source: string
  readonly id: string
}

/** What was decided for a request, as recorded: the outcome events, names only. */
export interface RecordedOutcome {
  readonly events: readonly AnyCloudEvent[]
  readonly completedAt: string
}

/** The answer to {@link StateStore.claim}. */
export type Claim =
  | { readonly status: 'claimed' }
  | { readonly status: 'completed'; readonly outcome: RecordedOutcome }
  | { readonly status: 'in-progress' }

/** What state keeps per injected binding: metadata only, never a value. */
export interface BindingRecord {
  readonly app: string
  readonly environment: string
  readonly name: string
  readonly type: string
  readonly provider: string
  readonly store: string
  readonly key: string
  readonly version: string
  readonly entries: readonly string[]
  readonly secretEntries: readonly string[]
  readonly sink: string
  readonly location: string
  readonly injectedAt: string
  readonly request: RequestKey
  /** The `class` the capability asked for, if any: a refresh picks the same catalog class. */
  readonly class?: string
  /**
   * HMAC-SHA256 (hex) of the injected entries under the host's digest key: tells a
   * refresh whether the values changed without keeping them. Absent when the host had
   * no key; a refresh then compares versions only.
   */
  readonly digest?: string
  /** Absent means `ready`; see {@link BindingStatus}. */
  readonly status?: BindingStatus
  /** Since when the source could not be read (status `stale`). */
  readonly staleSince?: string
  /** Why the binding is `stale` or `failed`: a code and a message naming keys, never values. */
  readonly failure?: { readonly code: string; readonly message: string }
  /** When a refresh last re-injected a changed value. */
  readonly lastRotatedAt?: string
}

/**
 * A binding's health. `ready`: what is injected is what the source holds as of the
 * last check. `stale`: the source could not be read since `staleSince`; the old
 * binding is still served. `failed`: the source changed but could not be bound or
 * re-injected (or the catalog no longer serves it); the old binding is still served.
 */
export type BindingStatus = 'ready' | 'stale' | 'failed'

/**
 * Bindings, request outcomes and idempotency keys. `claim` is atomic: of concurrent
 * claims for one key exactly one gets `claimed`; a claim whose lease ran out (its
 * process died) can be claimed again.
 */
export interface StateStore {
  claim(key: RequestKey, options: { now: Date; leaseMs: number }): Promise<Claim>
  /** Records the outcome and the bindings together, and ends the claim. */
  complete(
    key: RequestKey,
    outcome: RecordedOutcome,
    bindings: readonly BindingRecord[],
    options: { now: Date; ttlMs: number },
  ): Promise<void>
  /** Drops an unfinished claim so that a redelivery is processed again. */
  abandon(key: RequestKey): Promise<void>
  listBindings(target: BindingTarget): Promise<BindingRecord[]>
  removeBindings(target: BindingTarget, names: readonly string[]): Promise<void>
  close(): Promise<void>
}

/** Which bindings {@link LifecycleState.findBindings} returns. */
export type BindingQuery =
  /** Every binding, or one app's, or one environment's, or one app's in one environment. */
  | { readonly app?: string; readonly environment?: string; readonly source?: undefined }
  /** The bindings whose source is exactly this store and key. */
  | { readonly source: { readonly store: string; readonly key: string } }

/** The answer of {@link LifecycleState.updateBinding}. */
export type BindingUpdate =
  | 'updated'
  /** The binding was released meanwhile: nothing was written. */
  | 'missing'
  /** Someone re-injected it meanwhile (its `injectedAt` moved): nothing was written. */
  | 'changed'

/**
 * One line of an app's history in an environment: an event the broker published (or
 * received), what it concerned and who or what triggered it. Names only, never values.
 */
export interface AuditEntry {
  readonly app: string
  readonly environment: string
  /** When it happened (ISO 8601). */
  readonly time: string
  /** The event id, or a derived id for entries that are not events (status changes). */
  readonly id: string
  /** `requested`, `resolved`, `failed`, `denied`, `injected`, `rotated`, `released`, `stale`, `recovered`, `refresh-failed`. */
  readonly kind: string
  /** The capability names it concerned. */
  readonly names: readonly string[]
  /** Who or what triggered it: the request's source and id, the schedule, the provider's change event. */
  readonly trigger: RequestKey
  /** A short account: versions, a reason code, why a release happened. Never a value. */
  readonly detail?: string
}

/**
 * What the lifecycle (refresh, rotation, audit) needs from the state besides
 * {@link StateStore}: finding bindings across apps, updating one binding without
 * resurrecting a released one, and the audit log. A separate ability, so a state
 * store that only records requests still works for the pipeline.
 */
export interface LifecycleState {
  findBindings(query: BindingQuery): Promise<BindingRecord[]>
  /**
   * Replaces a binding's record, only if it still exists and its `injectedAt` is still
   * `expectedInjectedAt` (compare-and-write against a concurrent request or release).
   */
  updateBinding(record: BindingRecord, expectedInjectedAt: string): Promise<BindingUpdate>
  appendAudit(entries: readonly AuditEntry[]): Promise<void>
  /** The newest `limit` entries (default 100), oldest first. */
  listAudit(target: BindingTarget, options?: { limit?: number }): Promise<AuditEntry[]>
}

/** True when the state store also keeps the lifecycle ({@link LifecycleState}). */
export function hasLifecycle(state: StateStore): state is StateStore & LifecycleState {
  const s = state as Partial<LifecycleState>
  return (
    typeof s.findBindings === 'function' &&
    typeof s.updateBinding === 'function' &&
    typeof s.appendAudit === 'function' &&
    typeof s.listAudit === 'function'
  )
}

/** Where a manifest is: a repository (`owner/name`), a path in it, a commit. */
export interface ManifestLocation {
  readonly repository: string
  readonly path: string
  /** The full commit id (40 or 64 hex digits). */
  readonly commit: string
}

/**
 * Reads an app's manifest at a commit (the Git push trigger): the GitHub contents API,
 * or a local clone. Resolves `undefined` when the file does not exist at that commit;
 * rejects with a BrokerError (`AccessDenied` for a refused token, `Unavailable` for
 * throttling, 5xx and timeouts, `InvalidConfig` for a file it cannot read as text).
 */
export interface ManifestSource {
  /** `github` or `local-git`, for logs. */
  readonly kind: string
  read(location: ManifestLocation, options?: CallOptions): Promise<string | undefined>
}

/**
 * A chat message: plain `text` (notifications, screen readers) and Block Kit `blocks`.
 * Names, statuses and reasons only — never a secret value.
 */
export interface ChatMessage {
  readonly text: string
  readonly blocks: readonly Readonly<Record<string, unknown>>[]
  /** `ephemeral`: only the person who typed the command sees it. */
  readonly visibility: 'ephemeral' | 'in_channel'
}

/** Where to answer a chat command later (Slack's `response_url`), already validated. */
export interface ChatReplyTarget {
  readonly url: string
}

/** Answers a chat command after the acknowledgement (the outcome of the work it asked for). */
export interface ChatResponder {
  respond(target: ChatReplyTarget, message: ChatMessage, options?: CallOptions): Promise<void>
}

/** Structured logging; fields are names and numbers, never values. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
}

/**
 * A lock across processes, by name: read-modify-write of a shared secret (a bundle) in
 * a store that has no compare-and-write of its own.
 */
export interface Mutex {
  /** Runs `work` while holding `name`; waits its turn, and gives up with UnavailableError. */
  run<T>(name: string, work: () => Promise<T>): Promise<T>
}

/** A state store that can also lend a {@link Mutex} (the DynamoDB table on AWS). */
export interface LockingState {
  mutex(): Mutex
}

/** True when the state store can lend a {@link Mutex}. */
export function hasMutex(state: StateStore): state is StateStore & LockingState {
  return typeof (state as Partial<LockingState>).mutex === 'function'
}
