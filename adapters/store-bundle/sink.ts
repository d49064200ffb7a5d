/**
 * The `store` sink: all of an app's bindings in one environment as one JSON secret
 * `{ "<name>": { "type", "provider", "<entry>": "…" } }` in a writable store, written
 * only when a value changed (the store's `write` makes no version for an equal value).
 */
import { InvalidSecretError } from '../../broker/errors.ts'
import type {
  Binding,
  BindingSink,
  BindingTarget,
  CallOptions,
  InjectionReceipt,
  WritableSecretStore,
} from '../../broker/ports.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import { renderTemplate } from '../../broker/template.ts'

/** Options of {@link StoreBundleSink}. */
export interface StoreBundleSinkOptions {
  readonly store: WritableSecretStore
  /** The bundle secret's name, a template with `{app}` and `{environment}`. */
  readonly name: string
}

type Bundle = Record<string, Record<string, string>>

/** Writes bindings as one bundle secret per app and environment. */
export class StoreBundleSink implements BindingSink {
  readonly kind = 'store'
  readonly #options: StoreBundleSinkOptions
  // Read-modify-write of one bundle must not interleave within this process.
  readonly #queues = new Map<string, Promise<unknown>>()

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
    return this.#serialize(name, async () => {
      const bundle = await this.#read(name, options)
      for (const binding of bindings) {
        const entry: Record<string, string> = { type: binding.type, provider: binding.provider }
        for (const [key, value] of binding.entries) entry[key] = value.reveal()
        bundle[binding.name] = entry
      }
      const { version } = await this.#options.store.write(name, serialize(bundle), options)
      return {
        sink: this.kind,
        location: name,
        version,
        bindings: bindings.map((b) => ({ name: b.name })),
      }
    })
  }

  remove(target: BindingTarget, names: readonly string[], options?: CallOptions): Promise<void> {
    const name = this.secretName(target)
    return this.#serialize(name, async () => {
      const bundle = await this.#read(name, options)
      if (!names.some((n) => Object.hasOwn(bundle, n))) return
      for (const n of names) delete bundle[n]
      await this.#options.store.write(name, serialize(bundle), options)
    })
  }

  async #read(name: string, options?: CallOptions): Promise<Bundle> {
    const [outcome] = await this.#options.store.read([{ key: name }], options)
    if (!outcome || (!outcome.ok && outcome.error.code === 'NOT_FOUND')) return Object.create(null)
    if (!outcome.ok) throw outcome.error
    let parsed: unknown
    try {
      parsed = JSON.parse(outcome.value.reveal())
    } catch {
      parsed = undefined
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new InvalidSecretError(
        `bundle secret "${name}" is not a JSON object; refusing to overwrite it`,
      )
    }
    return Object.assign(Object.create(null), parsed) as Bundle
  }

  #serialize<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(name) ?? Promise.resolve()
    const next = previous.then(work, work)
    const settled = next.catch(() => {})
    this.#queues.set(name, settled)
    void settled.then(() => {
      if (this.#queues.get(name) === settled) this.#queues.delete(name)
    })
    return next
  }
}

/** Stable key order, so an unchanged bundle serializes to the same text and is not rewritten. */
function serialize(bundle: Bundle): SecretValue {
  const sorted: Bundle = {}
  for (const name of Object.keys(bundle).sort()) {
    const entry = bundle[name] as Record<string, string>
    sorted[name] = Object.fromEntries(
      Object.keys(entry)
        .sort()
        .map((k) => [k, entry[k] as string]),
    )
  }
  return new SecretValue(JSON.stringify(sorted))
}
