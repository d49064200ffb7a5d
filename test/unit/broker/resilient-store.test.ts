import { describe, expect, it } from 'vitest'
import {
  AccessDeniedError,
  isWritable,
  type ReadOutcome,
  type SecretLocator,
  SecretValue,
  UnavailableError,
  withResilience,
} from '../../../broker/index.ts'
import { MemoryStore } from '../../support/memory-store.ts'

/** A real in-memory store that fails on purpose: whole calls, or single keys. */
class FlakyStore extends MemoryStore {
  failCalls = 0
  failWith: Error = new UnavailableError('throttled')
  throttleKeysOnce = new Set<string>()
  inFlight = 0
  maxInFlight = 0
  override async read(
    locators: readonly SecretLocator[],
    options?: { signal?: AbortSignal },
  ): Promise<ReadOutcome[]> {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      const outcomes = await super.read(locators, options)
      if (this.failCalls > 0) {
        this.failCalls--
        throw this.failWith
      }
      return outcomes.map((o) => {
        if (!this.throttleKeysOnce.delete(o.key)) return o
        return {
          ok: false,
          key: o.key,
          error: new UnavailableError(`throttled reading "${o.key}"`, { retryAfterMs: 7 }),
        }
      })
    } finally {
      this.inFlight--
    }
  }
}

function setup(options = {}) {
  const store = new FlakyStore({ a: 'A', b: 'B' })
  let now = 0
  const sleeps: number[] = []
  const env = {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms)
      now += ms
    },
    random: () => 0.5,
  }
  const wrapped = withResilience(store, 'flaky', { timeoutMs: 50, ...options }, env)
  return { store, wrapped, sleeps, advance: (ms: number) => (now += ms) }
}

describe('withResilience', () => {
  it('retries a retryable failure with exponential backoff and full jitter', async () => {
    const { store, wrapped, sleeps } = setup({ retries: 2, backoffBaseMs: 100, backoffCapMs: 1000 })
    store.failCalls = 2
    const [a] = await wrapped.read([{ key: 'a' }])
    expect(a?.ok).toBe(true)
    expect(store.calls).toHaveLength(3)
    expect(sleeps).toEqual([50, 100]) // random 0.5 × min(cap, base·2^n)
  })

  it('gives up after the retries, keeping the cause', async () => {
    const { store, wrapped } = setup({ retries: 1 })
    store.failCalls = 5
    const error = await wrapped.read([{ key: 'a' }]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnavailableError)
    expect(store.calls).toHaveLength(2)
  })

  it('does not retry what retrying cannot fix', async () => {
    const { store, wrapped } = setup()
    store.failCalls = 1
    store.failWith = new AccessDeniedError('no access to store')
    await expect(wrapped.read([{ key: 'a' }])).rejects.toBeInstanceOf(AccessDeniedError)
    expect(store.calls).toHaveLength(1)
  })

  it('times out a hung call as Unavailable', async () => {
    const { store, wrapped } = setup({ retries: 0, timeoutMs: 20 })
    store.delayMs = 500
    await expect(wrapped.read([{ key: 'a' }])).rejects.toThrow(
      /store "flaky" did not answer within 20 ms/,
    )
  })

  it('retries only the keys that were throttled, honouring Retry-After', async () => {
    const { store, wrapped, sleeps } = setup({ retries: 2, backoffBaseMs: 1 })
    store.throttleKeysOnce.add('b')
    const outcomes = await wrapped.read([{ key: 'a' }, { key: 'b' }, { key: 'missing' }])
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false])
    expect(store.calls).toEqual([[{ key: 'a' }, { key: 'b' }, { key: 'missing' }], [{ key: 'b' }]])
    expect(sleeps).toEqual([7])
  })

  it('opens the circuit after consecutive failures, fails fast, then tries once again', async () => {
    const { store, wrapped, advance } = setup({ retries: 0, failureThreshold: 3, openMs: 10_000 })
    store.failCalls = 3
    for (let i = 0; i < 3; i++)
      await expect(wrapped.read([{ key: 'a' }])).rejects.toThrow('throttled')
    expect(wrapped.circuit().state).toBe('open')
    await expect(wrapped.read([{ key: 'a' }])).rejects.toThrow(
      /store "flaky" is failing; not calling it until/,
    )
    expect(store.calls).toHaveLength(3)
    advance(10_001)
    expect(wrapped.circuit().state).toBe('half-open')
    expect((await wrapped.read([{ key: 'a' }]))[0]?.ok).toBe(true)
    expect(wrapped.circuit()).toEqual({ state: 'closed', consecutiveFailures: 0 })
  })

  it('a failed trial call opens the circuit again at once', async () => {
    const { store, wrapped, advance } = setup({ retries: 0, failureThreshold: 1, openMs: 1000 })
    store.failCalls = 2
    await expect(wrapped.read([{ key: 'a' }])).rejects.toThrow()
    advance(1001)
    await expect(wrapped.read([{ key: 'a' }])).rejects.toThrow('throttled')
    expect(wrapped.circuit().state).toBe('open')
  })

  it('bounds concurrent calls per store', async () => {
    const { store, wrapped } = setup({ concurrency: 3, timeoutMs: 1000 })
    store.delayMs = 5
    await Promise.all(Array.from({ length: 20 }, () => wrapped.read([{ key: 'a' }])))
    expect(store.maxInFlight).toBe(3)
    expect(store.calls).toHaveLength(20)
  })

  it("honours the caller's abort and does not retry it", async () => {
    const { store, wrapped } = setup({ retries: 3, timeoutMs: 1000 })
    store.delayMs = 50
    const controller = new AbortController()
    const pending = wrapped.read([{ key: 'a' }], { signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toHaveProperty('name', 'AbortError')
    await expect(
      wrapped.read([{ key: 'a' }], { signal: AbortSignal.abort() }),
    ).rejects.toHaveProperty('name', 'AbortError')
    expect(store.calls).toHaveLength(1)
  })

  it('keeps optional abilities: a writable store stays writable', async () => {
    const writable = {
      provider: 'w',
      read: async () => [],
      health: async () => ({ status: 'ready' as const }),
      written: [] as string[],
      async write(key: string, _value: SecretValue) {
        this.written.push(key)
        return { version: '1', changed: true }
      },
      async delete() {},
    }
    const wrapped = withResilience(writable, 'w')
    expect(isWritable(wrapped)).toBe(true)
    await wrapped.write('k', new SecretValue('v'))
    expect(writable.written).toEqual(['k'])
  })

  it('reports health as unavailable rather than throwing', async () => {
    const { store, wrapped } = setup({ timeoutMs: 10 })
    store.health = () => new Promise(() => {})
    expect(await wrapped.health()).toEqual({
      status: 'unavailable',
      message: 'store "flaky" did not answer within 10 ms',
    })
  })
})

describe('withResilience, aborts', () => {
  it('an abort during the trial call of a half-open circuit does not leave it stuck open', async () => {
    const store = new FlakyStore({ a: 'A' })
    let now = 0
    const env = {
      now: () => now,
      // Without a signal a backoff ends at once; with one it lasts until the abort.
      sleep: (_ms: number, signal?: AbortSignal) =>
        signal
          ? new Promise<void>((_, reject) =>
              signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
            )
          : Promise.resolve(),
      random: () => 0.5,
    }
    const wrapped = withResilience(
      store,
      'aws',
      { retries: 1, failureThreshold: 1, openMs: 1000 },
      env,
    )
    store.failCalls = 2
    await expect(wrapped.read([{ key: 'a' }])).rejects.toThrow('throttled')
    expect(wrapped.circuit().state).toBe('open')
    now = 2000
    store.failCalls = 1
    const controller = new AbortController()
    const trial = wrapped.read([{ key: 'a' }], { signal: controller.signal })
    await new Promise((r) => setTimeout(r, 10))
    controller.abort()
    await expect(trial).rejects.toHaveProperty('name', 'AbortError')
    now = 100_000
    expect((await wrapped.read([{ key: 'a' }]))[0]?.ok).toBe(true)
  })
})
