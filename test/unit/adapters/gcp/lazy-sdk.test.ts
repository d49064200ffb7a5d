/**
 * The GCP SDK costs 150–200 ms to load: constructing a store (and failing its config)
 * must not load it; the first call does. Checked in a fresh Node process whose module
 * resolution is recorded, so nothing this test runner loaded earlier can hide it.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const adapter = join(import.meta.dirname, '../../../../adapters/gcp-secret-manager/index.ts')

const probe = `
import { registerHooks } from 'node:module'
const seen = []
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r } })
const loaded = () => seen.some((url) => url.includes('@google-cloud/secret-manager') || url.includes('google-gax'))
const { GcpSecretManagerStore } = await import(process.argv[1])
let badConfig = ''
try { new GcpSecretManagerStore({ project: 'NOT VALID' }) } catch (error) { badConfig = error.name }
const store = new GcpSecretManagerStore({ project: 'acme-prod', endpoint: '127.0.0.1:1', insecure: true, requestTimeoutMs: 500 })
const afterConstruct = loaded()
const health = await store.health()
console.log(JSON.stringify({ badConfig, afterConstruct, afterCall: loaded(), health: health.status }))
await store.close()
`

describe('GCP adapter loading', () => {
  it('loads the SDK on the first call, not when a store is constructed', () => {
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', probe, adapter], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(JSON.parse(output.trim().split('\n').at(-1)!)).toEqual({
      badConfig: 'InvalidConfigError',
      afterConstruct: false,
      afterCall: true,
      health: 'unavailable',
    })
  })
})
