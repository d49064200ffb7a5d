/**
 * Constructing a Key Vault store (and failing its config) must not load the Azure SDK;
 * the first call does, and `@azure/identity` only when no credential was given. Checked
 * in a fresh Node process whose module resolution is recorded.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const adapter = join(import.meta.dirname, '../../../../adapters/azure-key-vault/index.ts')

const probe = `
import { registerHooks } from 'node:module'
const seen = []
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r } })
const loaded = (name) => seen.some((url) => url.includes(name))
const { AzureKeyVaultStore } = await import(process.argv[1])
let badConfig = ''
try { new AzureKeyVaultStore({ vaultUrl: 'http://plain' }) } catch (error) { badConfig = error.name }
const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 60000 }) }
const store = new AzureKeyVaultStore({ vaultUrl: 'https://127.0.0.1:1', credential, requestTimeoutMs: 500 })
const afterConstruct = loaded('@azure/keyvault-secrets')
const health = await store.health()
console.log(JSON.stringify({
  badConfig, afterConstruct, afterCall: loaded('@azure/keyvault-secrets'),
  identity: loaded('@azure/identity'), health: health.status,
}))
`

describe('Azure adapter loading', () => {
  it('loads the SDK on the first call, and no identity library when given a credential', () => {
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', probe, adapter], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(JSON.parse(output.trim().split('\n').at(-1)!)).toEqual({
      badConfig: 'InvalidConfigError',
      afterConstruct: false,
      afterCall: true,
      identity: false,
      health: 'unavailable',
    })
  })
})
