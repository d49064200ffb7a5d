/**
 * Fault handling around any SecretStore, in one place instead of in every adapter:
 * a per-call timeout, retries with exponential backoff and full jitter on retryable
 * failures only, a circuit breaker that fails fast while a store is down, and a bound
 * on concurrent calls per store. Clock, sleep and randomness are injected.
 */
import { isRetryable, UnavailableError } from '../errors.ts'
import type {
  CallOptions,
  ListableSecretStore,
  ReadOutcome,
  SecretLocator,
  SecretStore,
  StoreHealth,
  WritableSecretStore,
  WriteOptions,
} from '../ports.ts'
import type { SecretValue } from '../secret-value.ts'

/** How hard to try, and when to stop trying. */
export interface ResilienceOptions {
  /** Per attempt. Default 3 000 ms. */
  readonly timeoutMs?: number
  /** Retries after the first attempt, on retryable failures only. Default 2. */
  readonly retries?: number
  /** Backoff: a random delay up to min(cap, base · 2^attempt). Defaults 100 / 2 000 ms. */
  readonly backoffBaseMs?: number
  readonly backoffCapMs?: number
  /** Consecutive failed calls that open the circuit. Default 5. */
  readonly failureThreshold?: number
  /** How long an open circuit fails fast before one trial call. Default 30 s. */
  readonly openMs?: number
  /** Calls in flight at once; the rest wait their turn. Default 16. */
  readonly concurrency?: number
}

/** Time and chance, injected so tests are exact. */
export interface ResilienceEnvironment {
  readonly now: () => number
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  readonly random: () => number
}

/** The circuit as `/healthz` shows it. */
export interface CircuitState {
  readonly state: 'closed' | 'open' | 'half-open'
  readonly consecutiveFailures: number
  readonly openUntil?: string
}

/** A store wrapped with {@link withResilience}: the inner store's abilities plus its circuit. */
export type ResilientStore<S extends SecretStore> = S & { circuit(): CircuitState }

const DEFAULTS = {
  timeoutMs: 3_000,
  retries: 2,
  backoffBaseMs: 100,
  backoffCapMs: 2_000,
  failureThreshold: 5,
  openMs: 30_000,
  concurrency: 16,
}

/** Sleeps, or rejects as soon as the signal aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** The real clock, timers and Math.random. */
export const systemResilienceEnvironment: ResilienceEnvironment = {
  now: () => Date.now(),
  sleep: abortableSleep,
  random: Math.random,
}

class Gate {
  #active = 0
  readonly #waiting: (() => void)[] = []
  readonly #limit: number
  constructor(limit: number) {
    this.#limit = limit
  }
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit)
      await new Promise<void>((resolve) => this.#waiting.push(resolve))
    this.#active++
    try {
      return await work()
    } finally {
      this.#active--
      this.#waiting.shift()?.()
    }
  }
}

/**
 * Wraps a store. `name` is the catalog store name, used in messages. Optional
 * abilities of the inner store (write, delete, list) are kept and wrapped alike.
 */
export function withResilience<S extends SecretStore>(
  store: S,
  name: string,
  options: ResilienceOptions = {},
  env: ResilienceEnvironment = systemResilienceEnvironment,
): ResilientStore<S> {
  const o = { ...DEFAULTS, ...options }
  const gate = new Gate(o.concurrency)
  let failures = 0
  let openUntil = 0
  let trialRunning = false

  const circuit = (): CircuitState => {
    const now = env.now()
    if (openUntil === 0) return { state: 'closed', consecutiveFailures: failures }
    return {
      state: now < openUntil ? 'open' : 'half-open',
      consecutiveFailures: failures,
      openUntil: new Date(openUntil).toISOString(),
    }
  }

  const admit = () => {
    const state = circuit().state
    if (state === 'closed') return false
    if (state === 'open' || trialRunning) {
      throw new UnavailableError(
        `store "${name}" is failing; not calling it until ${new Date(openUntil).toISOString()}`,
      )
    }
    trialRunning = true
    return true
  }

  const settle = (ok: boolean, trial: boolean) => {
    if (ok) {
      failures = 0
      openUntil = 0
      return
    }
    failures++
    if (trial || failures >= o.failureThreshold) openUntil = env.now() + o.openMs
  }

  /** One attempt with its own deadline, tied to the caller's signal. */
  const attempt = async <T>(
    call: (signal: AbortSignal) => Promise<T>,
    caller?: AbortSignal,
  ): Promise<T> => {
    const controller = new AbortController()
    const onAbort = () => controller.abort(caller?.reason)
    caller?.addEventListener('abort', onAbort, { once: true })
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new UnavailableError(
          `store "${name}" did not answer within ${o.timeoutMs} ms`,
        )
        controller.abort(error)
        reject(error)
      }, o.timeoutMs)
    })
    try {
      return await Promise.race([call(controller.signal), deadline])
    } finally {
      clearTimeout(timer)
      caller?.removeEventListener('abort', onAbort)
    }
  }

  // A provider's Retry-After is honoured, but never beyond the cap: a request must end.
  const backoff = (n: number, retryAfterMs?: number) =>
    Math.min(
      o.backoffCapMs,
      Math.max(
        retryAfterMs ?? 0,
        env.random() * Math.min(o.backoffCapMs, o.backoffBaseMs * 2 ** n),
      ),
    )

  /** Runs a whole-store call with retries; `retryable` also sees partial results. */
  const guarded = <T>(
    call: (signal: AbortSignal) => Promise<T>,
    caller?: AbortSignal,
    partial?: (result: T) => number | undefined,
  ): Promise<T> =>
    gate.run(async () => {
      caller?.throwIfAborted()
      const trial = admit()
      try {
        let last: unknown
        for (let n = 0; n <= o.retries; n++) {
          if (n > 0)
            await env.sleep(backoff(n - 1, (last as UnavailableError)?.retryAfterMs), caller)
          try {
            const result = await attempt(call, caller)
            const retryAfter = partial?.(result)
            if (retryAfter !== undefined && n < o.retries) {
              last = new UnavailableError(`store "${name}": some keys were throttled`, {
                retryAfterMs: retryAfter,
              })
              continue
            }
            settle(true, trial)
            return result
          } catch (error) {
            if (caller?.aborted) throw error
            last = error
            if (!isRetryable(error)) break
          }
        }
        settle(!isRetryable(last), trial)
        throw last
      } finally {
        // However the call ended — an abort during a backoff included — the trial is over.
        if (trial) trialRunning = false
      }
    })

  const read = async (
    locators: readonly SecretLocator[],
    options?: CallOptions,
  ): Promise<ReadOutcome[]> => {
    // Retry the keys that failed with a retryable error; keep what already succeeded.
    let results: ReadOutcome[] = []
    const pending = () =>
      locators
        .map((_, i) => i)
        .filter(
          (i) => results[i] === undefined || (!results[i]?.ok && isRetryable(results[i]?.error)),
        )
    return guarded(
      async (signal) => {
        const todo = results.length === 0 ? locators.map((_, i) => i) : pending()
        const answered = await store.read(
          todo.map((i) => locators[i] as SecretLocator),
          { signal },
        )
        const next = [...results]
        todo.forEach((index, k) => {
          next[index] = answered[k] as ReadOutcome
        })
        results = next
        return results
      },
      options?.signal,
      (outcomes) => {
        const throttled = outcomes.filter((r) => !r.ok && isRetryable(r.error))
        if (throttled.length === 0) return undefined
        return Math.max(
          0,
          ...throttled.map((r) =>
            !r.ok && r.error instanceof UnavailableError ? (r.error.retryAfterMs ?? 0) : 0,
          ),
        )
      },
    )
  }

  const wrapped: Record<string, unknown> = {
    provider: store.provider,
    read,
    health: async (options?: CallOptions): Promise<StoreHealth> => {
      // An open circuit is what callers meet: say so, even when the store would answer
      // a health check by now (the next trial call will tell).
      const now = circuit()
      if (now.state === 'open') {
        return {
          status: 'unavailable',
          message: `store "${name}" is failing (${now.consecutiveFailures} failed calls in a row); circuit open until ${now.openUntil}`,
        }
      }
      return attempt((signal) => store.health({ signal }), options?.signal).catch(
        (error: unknown): StoreHealth => ({
          status: 'unavailable',
          message:
            error instanceof UnavailableError
              ? error.message
              : `health check failed (${(error as Error).name})`,
        }),
      )
    },
    circuit,
  }
  const inner = store as unknown as Partial<WritableSecretStore & ListableSecretStore> & {
    close?: () => unknown
  }
  const { write, delete: remove, list, close } = inner
  if (write) {
    wrapped.write = (key: string, value: SecretValue, options?: WriteOptions) =>
      guarded((signal) => write.call(store, key, value, { ...options, signal }), options?.signal)
    wrapped.conditionalWrites = inner.conditionalWrites === true
  }
  if (remove) {
    wrapped.delete = (key: string, options?: CallOptions) =>
      guarded((signal) => remove.call(store, key, { signal }), options?.signal)
  }
  if (list)
    wrapped.list = (options?: CallOptions) =>
      guarded((signal) => list.call(store, { signal }), options?.signal)
  if (close) wrapped.close = () => close.call(store)
  return wrapped as unknown as ResilientStore<S>
}
