import { createSecretKey, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { parseCatalog } from '../../../broker/catalog/load.ts'
import { CatalogError } from '../../../broker/errors.ts'
import { bindingDigest, cachedDigestKey } from '../../../broker/lifecycle/digest.ts'
import {
  DEFAULT_REFRESH_INTERVAL_MS,
  isDue,
  refreshIntervalOf,
  sweepPeriodMs,
} from '../../../broker/lifecycle/schedule.ts'
import type { Binding } from '../../../broker/ports.ts'
import { SecretValue } from '../../../broker/secret-value.ts'

const target = { app: 'checkout', environment: 'dev' }
const binding = (entries: Record<string, string>, name = 'orders-db'): Binding => ({
  name,
  type: 'postgres',
  provider: 'local',
  entries: new Map(Object.entries(entries).map(([k, v]) => [k, new SecretValue(v)])),
  secretEntries: ['password'],
})
const key = createSecretKey(randomBytes(32))

describe('bindingDigest', () => {
  const db = { host: 'db', password: 'canary-pw-1' }

  it('is the same for the same values, whatever the entry order', () => {
    const reordered = binding({ password: 'canary-pw-1', host: 'db' })
    expect(bindingDigest(target, binding(db), key)).toBe(bindingDigest(target, reordered, key))
  })

  it('changes with any value, the key, the binding name and the target', () => {
    const base = bindingDigest(target, binding(db), key)
    expect(bindingDigest(target, binding({ ...db, password: 'canary-pw-2' }), key)).not.toBe(base)
    expect(bindingDigest(target, binding(db), createSecretKey(randomBytes(32)))).not.toBe(base)
    expect(bindingDigest(target, binding(db, 'other'), key)).not.toBe(base)
    expect(bindingDigest({ ...target, environment: 'prod' }, binding(db), key)).not.toBe(base)
  })

  it('is an HMAC-SHA256 in hex, and says nothing of the value', () => {
    const digest = bindingDigest(target, binding(db), key)
    expect(digest).toMatch(/^hmac-sha256:[0-9a-f]{64}$/)
    expect(digest).not.toContain('canary')
  })

  it('a cached key source loads once, and again after a failure', async () => {
    let calls = 0
    const source = cachedDigestKey(async () => {
      calls++
      if (calls === 1) throw new Error('not yet')
      return key
    })
    await expect(source()).rejects.toThrow('not yet')
    expect(await source()).toBe(key)
    expect(await source()).toBe(key)
    expect(calls).toBe(2)
  })
})

describe('refresh schedule', () => {
  it('a class refreshes hourly unless it says otherwise; 0 means never on a schedule', () => {
    expect(refreshIntervalOf({})).toBe(DEFAULT_REFRESH_INTERVAL_MS)
    expect(DEFAULT_REFRESH_INTERVAL_MS).toBe(3_600_000)
    expect(refreshIntervalOf({ refreshInterval: '30s' })).toBe(30_000)
    expect(refreshIntervalOf({ refreshInterval: 90 })).toBe(90_000)
    expect(refreshIntervalOf({ refreshInterval: 0 })).toBe(0)
  })

  it('a window is due when it holds a boundary of the interval, once across consecutive windows', () => {
    const hour = 3_600_000
    const t = Date.parse('2030-01-01T10:00:00Z')
    expect(isDue(hour, t - 60_000, t)).toBe(true)
    expect(isDue(hour, t, t + 60_000)).toBe(false)
    expect(isDue(hour, t - 120_000, t - 60_000)).toBe(false)
    let due = 0
    for (let from = t - hour; from < t + hour; from += 300_000)
      if (isDue(hour, from, from + 300_000)) due++
    expect(due).toBe(2)
    expect(isDue(0, t - hour, t)).toBe(false)
    expect(isDue(hour, t, t)).toBe(false)
  })

  it('the embedded sweep ticks at the shortest interval, at most a minute', () => {
    expect(sweepPeriodMs([{}])).toBe(60_000)
    expect(sweepPeriodMs([{}, { refreshInterval: '2s' }])).toBe(2_000)
    expect(sweepPeriodMs([{ refreshInterval: 0 }])).toBeUndefined()
    expect(sweepPeriodMs([{ refreshInterval: '1ms' }])).toBe(100)
  })

  it('the catalog takes refreshInterval per class and refuses a bad one', () => {
    const text = (value: string) => `version: 1
stores: { local: { adapter: local } }
environments: { dev: { inject: { to: service-binding, root: b } } }
classes:
  - { type: secret, store: local, key: "k/{name}", refreshInterval: ${value} }
`
    expect(parseCatalog(text('15m'), 'c.yaml').classes[0]?.refreshInterval).toBe('15m')
    expect(() => parseCatalog(text('soon'), 'c.yaml')).toThrow(CatalogError)
    expect(() => parseCatalog(text('-1'), 'c.yaml')).toThrow(/refreshInterval/)
  })
})
