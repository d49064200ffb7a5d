/**
 * The `store` sink: all of an app's bindings in one environment as one JSON secret
 * `{ "<name>": { "type", "provider", "<entry>": "…" } }` in a writable store, written
 * only when a value changed (the store's `write` makes no version for an equal value).
 *
 * The bundle is read, merged and written back. Within a process one bundle is updated
 * at a time; across processes (the CLI and the server, several Lambdas) a store with
 * `conditionalWrites` makes the write conditional on the version read, and a conflict
 * starts the read-merge-write again; for a store without it (Secrets Manager) the host
 * passes a `lock` (a lease in the DynamoDB state table) that the whole update runs under.
 */
import { ConflictError, InvalidSecretError, UnavailableError } from '../../broker/errors.ts'
import type {
  Binding,
  BindingSink,
  BindingTarget,
  CallOptions,
  InjectionReceipt,
  Mutex,
  WritableSecretStore,
} from '../../broker/ports.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import { renderTemplate } from '../../broker/template.ts'
import { KeyedQueue } from '../keyed-queue.ts'

/** Options of {@link StoreBundleSink}. */
export interface StoreBundleSinkOptions {
  readonly store: WritableSecretStore
  /** The bundle secret's name, a template with `{app}` and `{environment}`. */
  readonly name: string
  /** Read-merge-write rounds before giving up on a bundle that keeps changing. Default 5. */
  readonly attempts?: number
  /**
   * A lock across processes, for a store without compare-and-write (Secrets Manager):
   * the whole read-merge-write of one bundle runs under it.
   */
  readonly lock?: Mutex
}

type Bundle = Record<string, Record<string, string>>

/** Writes bindings as one bundle secret per app and environment. */
export class StoreBundleSink implements BindingSink {
  readonly kind = 'store'
  readonly #options: StoreBundleSinkOptions
  readonly #queue = new KeyedQueue()

  constructor(options: StoreBundleSinkOptions) {
    this.#options = options
  }

  /** The bundle secret name for a target. */
  secretName(target: BindingTarget): string {
    return renderTemplate(this.#options.name, target)
  }

  inject(
    target: BindingTarget,
    bindings: readonly Binding[],
    options?: CallOptions,
  ): Promise<InjectionReceipt> {
    const name = this.secretName(target)
    return this.#update(name, options, (bundle) => {
      for (const binding of bindings) {
        const entry: Record<string, string> = { type: binding.type, provider: binding.provider }
        for (const [key, value] of binding.entries) entry[key] = value.reveal()
        bundle[binding.name] = entry
      }
      return true
    }).then((version) => ({
      sink: this.kind,
      location: name,
      ...(version === undefined ? {} : { version }),
      bindings: bindings.map((b) => ({ name: b.name })),
    }))
  }

  async remove(
    target: BindingTarget,
    names: readonly string[],
    options?: CallOptions,
  ): Promise<void> {
    await this.#update(this.secretName(target), options, (bundle) => {
      if (!names.some((n) => Object.hasOwn(bundle, n))) return false
      for (const n of names) delete bundle[n]
      return true
    })
  }

  /** Read, change (`change` returns false for "nothing to write"), write; again on conflict. */
  #update(name: string, options: CallOptions | undefined, change: (bundle: Bundle) => boolean) {
    const { store } = this.#options
    const { lock } = this.#options
    const update = async (): Promise<string | undefined> => {
      const attempts = this.#options.attempts ?? 5
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const { bundle, version } = await this.#read(name, options)
        if (!change(bundle)) return version
        const condition = store.conditionalWrites ? { ifVersion: version ?? null } : {}
        try {
          const written = await store.write(name, serialize(bundle), { ...options, ...condition })
          return written.version
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error
        }
      }
      throw new UnavailableError(
        `bundle secret "${name}" kept changing; gave up after ${attempts} attempts`,
      )
    }
    return this.#queue.run(name, () => (lock ? lock.run(`bundle:${name}`, update) : update()))
  }

  async #read(name: string, options?: CallOptions): Promise<{ bundle: Bundle; version?: string }> {
    const [outcome] = await this.#options.store.read([{ key: name }], options)
    if (!outcome || (!outcome.ok && outcome.error.code === 'NOT_FOUND')) {
      return { bundle: Object.create(null) }
    }
    if (!outcome.ok) throw outcome.error
    let parsed: unknown
    try {
      parsed = JSON.parse(outcome.value.reveal())
    } catch {
      parsed = undefined
    }
    if (!isObject(parsed)) {
      throw new InvalidSecretError(
        `bundle secret "${name}" is not a JSON object; refusing to overwrite it`,
      )
    }
    // Someone else's entry we cannot carry over unchanged (null, a string) is theirs to
    // fix: rewriting it would mangle it, dropping it would lose it.
    if (!Object.values(parsed).every(isObject)) {
      throw new InvalidSecretError(
        `bundle secret "${name}" has an entry that is not a JSON object; refusing to overwrite it`,
      )
    }
    return {
      bundle: Object.assign(Object.create(null), parsed) as Bundle,
      version: outcome.version,
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * Stable key order, so an unchanged bundle serializes to the same text and is not
 * rewritten. Null-prototype objects: a `__proto__` key read from the bundle stays a key.
 */
function serialize(bundle: Bundle): SecretValue {
  const sorted: Bundle = Object.create(null)
  for (const name of Object.keys(bundle).sort()) {
    const entry = bundle[name] as Record<string, string>
    const copy: Record<string, string> = Object.create(null)
    for (const k of Object.keys(entry).sort()) copy[k] = entry[k] as string
    sorted[name] = copy
  }
  return new SecretValue(JSON.stringify(sorted))
}
