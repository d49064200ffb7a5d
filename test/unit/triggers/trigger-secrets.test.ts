import { describe, expect, it } from 'vitest'
import {
  TriggerSecrets,
  triggerSecretReferences,
} from '../../../broker/triggers/trigger-secrets.ts'
import { MemoryStore } from '../../support/memory-store.ts'
import { triggerCatalog } from './fixtures.ts'

describe('TriggerSecrets', () => {
  it('reads a reference through the store lookup, cached for the TTL', async () => {
    const store = new MemoryStore({ 'github/webhook': 'canary-ts-61' })
    let now = 0
    const secrets = new TriggerSecrets({ stores: async () => store, now: () => now, ttlMs: 1_000 })
    const ref = { store: 'local', key: 'github/webhook' }
    expect((await secrets.read(ref, 'the webhook secret')).reveal()).toBe('canary-ts-61')
    await secrets.read(ref, 'the webhook secret')
    expect(store.calls).toHaveLength(1)
    now = 1_001
    store.put('github/webhook', 'rotated')
    expect((await secrets.read(ref, 'the webhook secret')).reveal()).toBe('rotated')
  })

  it('a missing secret names the store and key, keeps the code, and shows no value', async () => {
    const store = new MemoryStore({ other: 'canary-ts-62' })
    const secrets = new TriggerSecrets({ stores: async () => store, now: () => 0, ttlMs: 1_000 })
    const error = (await secrets
      .read({ store: 'local', key: 'slack/signing' }, 'the Slack signing secret')
      .catch((e: unknown) => e)) as Error
    expect(error).toMatchObject({ code: 'NOT_FOUND' })
    expect(error.message).toBe(
      'the Slack signing secret (store "local", key "slack/signing") cannot be read: secret "slack/signing" not found',
    )
    expect(error.message).not.toContain('canary')
  })
})

describe('triggerSecretReferences', () => {
  it('lists what each trigger function reads, for its IAM policy', () => {
    expect(triggerSecretReferences(triggerCatalog().document)).toEqual({
      github: [
        { store: 'local', key: 'github/webhook' },
        { store: 'local', key: 'github/token' },
        { store: 'local', key: 'git/legacy' },
      ],
      slack: [{ store: 'local', key: 'slack/signing' }],
    })
  })
})
