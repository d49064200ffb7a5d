/**
 * The circuit breaker shows in a store's health (and so in `/healthz`): while it is
 * open, the store is reported unavailable — even if the provider would answer a health
 * check by now — because that is what every caller meets: a fast failure.
 */
import { describe, expect, it } from 'vitest'
import { UnavailableError } from '../../../broker/errors.ts'
import { withResilience } from '../../../broker/resolution/resilient-store.ts'
import { MemoryStore } from '../../support/memory-store.ts'

function setup() {
  const store = new MemoryStore({ k: 'v' })
  let now = Date.parse('2025-01-01T00:00:00Z')
  const env = { now: () => now, sleep: async () => {}, random: () => 0 }
  const wrapped = withResilience(
    store,
    'vault',
    { failureThreshold: 2, openMs: 30_000, retries: 0 },
    env,
  )
  return { store, wrapped, advance: (ms: number) => (now += ms) }
}

describe('a store’s health and its circuit', () => {
  it('is unavailable while the circuit is open, though the store itself is up again', async () => {
    const { store, wrapped, advance } = setup()
    store.down = true
    for (let i = 0; i < 2; i++) await wrapped.read([{ key: 'k' }]).catch(() => {})
    store.down = false
    expect(await store.health()).toEqual({ status: 'ready' })
    expect(await wrapped.health()).toEqual({
      status: 'unavailable',
      message:
        'store "vault" is failing (2 failed calls in a row); circuit open until 2025-01-01T00:00:30.000Z',
    })
    // Callers meet the same: a fast failure that names the same moment.
    const error = await wrapped.read([{ key: 'k' }]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnavailableError)
    expect((error as Error).message).toMatch(/not calling it until 2025-01-01T00:00:30.000Z/)

    // Half-open: the health check asks the store again, and a trial call closes the circuit.
    advance(30_000)
    expect(await wrapped.health()).toEqual({ status: 'ready' })
    expect((await wrapped.read([{ key: 'k' }]))[0]?.ok).toBe(true)
    expect(wrapped.circuit().state).toBe('closed')
  })

  it('asks the store while the circuit is closed', async () => {
    const { store, wrapped } = setup()
    store.down = true
    expect(await wrapped.health()).toEqual({ status: 'unavailable', message: 'down' })
    expect(store.calls).toEqual([]) // a health check is not a read, and opens nothing
    expect(wrapped.circuit().state).toBe('closed')
  })
})
