/**
 * A writable in-memory SecretStore standing in for Secrets Manager in host tests: the
 * bundle sink reads, then writes only a changed value, as the real adapter does.
 */
import { NotFoundError } from '../../../broker/errors.ts'
import type {
  ReadOutcome,
  SecretLocator,
  StoreHealth,
  WritableSecretStore,
  WriteOutcome,
} from '../../../broker/ports.ts'
import { SecretValue } from '../../../broker/secret-value.ts'

/** Versions per key, newest last; version ids are "1", "2", … */
export class WritableMemoryStore implements WritableSecretStore {
  readonly provider = 'memory'
  readonly #versions = new Map<string, string[]>()

  constructor(seed: Record<string, string> = {}) {
    for (const [key, value] of Object.entries(seed)) this.#versions.set(key, [value])
  }

  /** The newest value of a key, for assertions. */
  current(key: string): string | undefined {
    return this.#versions.get(key)?.at(-1)
  }

  async read(locators: readonly SecretLocator[]): Promise<ReadOutcome[]> {
    return locators.map((l): ReadOutcome => {
      const list = this.#versions.get(l.key) ?? []
      const index = l.version === undefined ? list.length - 1 : Number(l.version) - 1
      const value = list[index]
      if (value === undefined)
        return { ok: false, key: l.key, error: new NotFoundError(`secret "${l.key}" not found`) }
      return { ok: true, key: l.key, version: String(index + 1), value: new SecretValue(value) }
    })
  }

  async write(key: string, value: SecretValue): Promise<WriteOutcome> {
    const list = this.#versions.get(key) ?? []
    if (list.at(-1) === value.reveal()) return { version: String(list.length), changed: false }
    list.push(value.reveal())
    this.#versions.set(key, list)
    return { version: String(list.length), changed: true }
  }

  async delete(key: string): Promise<void> {
    this.#versions.delete(key)
  }

  async health(): Promise<StoreHealth> {
    return { status: 'ready' }
  }
}
