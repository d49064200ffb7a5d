import { NotFoundError, UnavailableError } from '../../broker/errors.ts'
import type {
  CallOptions,
  ReadOutcome,
  SecretLocator,
  SecretStore,
  StoreHealth,
} from '../../broker/ports.ts'
import { SecretValue } from '../../broker/secret-value.ts'

/**
 * A small in-memory SecretStore for broker unit tests: versions, a read-call log, an
 * optional delay (to hold reads in flight) and a switch that makes the store unreachable.
 */
export class MemoryStore implements SecretStore {
  readonly provider = 'memory'
  readonly calls: SecretLocator[][] = []
  readonly #versions = new Map<string, string[]>()
  delayMs = 0
  down = false

  constructor(seed: Record<string, string> = {}) {
    for (const [key, value] of Object.entries(seed)) this.put(key, value)
  }

  /** Adds a version and returns its id ("1", "2", …). */
  put(key: string, value: string): string {
    const list = this.#versions.get(key) ?? []
    list.push(value)
    this.#versions.set(key, list)
    return String(list.length)
  }

  async read(locators: readonly SecretLocator[], options?: CallOptions): Promise<ReadOutcome[]> {
    this.calls.push([...locators])
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs))
    options?.signal?.throwIfAborted()
    if (this.down) throw new UnavailableError('memory store is down')
    return locators.map((l): ReadOutcome => {
      const list = this.#versions.get(l.key)
      const index = l.version === undefined ? (list?.length ?? 0) - 1 : Number(l.version) - 1
      const value = list?.[index]
      if (value === undefined)
        return { ok: false, key: l.key, error: new NotFoundError(`secret "${l.key}" not found`) }
      return { ok: true, key: l.key, version: String(index + 1), value: new SecretValue(value) }
    })
  }

  async health(): Promise<StoreHealth> {
    return this.down ? { status: 'unavailable', message: 'down' } : { status: 'ready' }
  }
}
