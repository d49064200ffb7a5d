/**
 * What the Azure adapter does on the wire beyond the shared suite: catalog keys land
 * under their mapped names and never meet under Key Vault's case folding, a deleted key
 * can be written again (it is purged, not left soft-deleted), Retry-After reaches the
 * broker with no SDK retry, and an untrusted certificate is a configuration error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AzureKeyVaultStore, toKeyVaultName } from '../../../adapters/azure-key-vault/index.ts'
import { InvalidConfigError, UnavailableError } from '../../../broker/errors.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { type HttpsFaultProxy, startHttpsFaultProxy } from '../harness-azure/https-fault-proxy.ts'
import {
  chooseAzurePeer,
  KEY_VAULT_TEST_API_VERSION,
  STATIC_TEST_CREDENTIAL,
  useLowkeyVault,
} from '../harness-azure/use-lowkey-vault.ts'
import { KeyVaultSeeder } from './fixtures.ts'

const peer = await chooseAzurePeer()
const vault = useLowkeyVault(peer)
const run = Math.random().toString(36).slice(2, 8)
let proxy: HttpsFaultProxy
let seeder: KeyVaultSeeder
let store: AzureKeyVaultStore

const options = (vaultUrl: string, ca?: string) => ({
  vaultUrl,
  credential: STATIC_TEST_CREDENTIAL,
  disableChallengeResourceVerification: true,
  serviceVersion: KEY_VAULT_TEST_API_VERSION,
  ...(ca === undefined ? {} : { ca }),
  requestTimeoutMs: 3000,
  deletePollIntervalMs: 50,
})

beforeAll(async () => {
  proxy = await startHttpsFaultProxy(vault.url, vault.ca)
  seeder = new KeyVaultSeeder(vault.url, vault.ca)
  store = new AzureKeyVaultStore(options(proxy.url, proxy.ca))
})

afterAll(async () => {
  await proxy?.close()
})

describe(`azure-key-vault on the wire (${peer.label})`, () => {
  it('keeps Foo and foo apart although Key Vault folds case, each under its mapped name', async () => {
    const upper = `apps/Checkout-${run}/Stripe.key`
    const lower = `apps/checkout-${run}/stripe.key`
    await store.write(upper, new SecretValue('upper-value'))
    await store.write(lower, new SecretValue('lower-value'))
    const [a, b] = await store.read([{ key: upper }, { key: lower }])
    expect(a?.ok && a.value.reveal()).toBe('upper-value')
    expect(b?.ok && b.value.reveal()).toBe('lower-value')
    expect(toKeyVaultName(lower)).toBe(`apps--checkout-2d${run}--stripe-2ekey`)
    const direct = await seeder.client.getSecret(toKeyVaultName(lower))
    expect(direct.value).toBe('lower-value')
    await Promise.all([store.delete(upper), store.delete(lower)])
  })

  it('writes a key again right after deleting it (the deleted name is purged)', async () => {
    const key = `recreated-${run}`
    await store.write(key, new SecretValue('first'))
    await store.delete(key)
    const again = await store.write(key, new SecretValue('second'))
    expect(again.changed).toBe(true)
    const [outcome] = await store.read([{ key }])
    expect(outcome?.ok && outcome.value.reveal()).toBe('second')
    await store.delete(key)
  })

  it('passes Retry-After on as retryAfterMs after exactly one request', async () => {
    const key = `throttled-${run}`
    await seeder.seed(key, 'v')
    proxy.inject({ status: 429, retryAfterSeconds: 7 })
    const before = proxy.count('GET')
    const error = await store.read([{ key }]).catch((e: unknown) => e)
    proxy.clearFaults()
    expect(error).toBeInstanceOf(UnavailableError)
    expect(error).toMatchObject({ retryAfterMs: 7000 })
    // The first request of a fresh client is the bearer challenge; ours is warm.
    expect(proxy.count('GET') - before).toBe(1)
    await seeder.remove(key)
  })

  it('refuses a vault whose certificate it was not told to trust, as a configuration error', async () => {
    const untrusting = new AzureKeyVaultStore(options(proxy.url))
    const error = await untrusting.read([{ key: 'any' }]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidConfigError)
    expect((error as Error).message).toContain('certificate')
    expect(await untrusting.health()).toMatchObject({ status: 'unavailable' })
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined()
  })
})
