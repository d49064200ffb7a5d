import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromKeyVaultName, toKeyVaultName } from '../../../../adapters/azure-key-vault/index.ts'

/** Keys like the catalog makes them: segments of [A-Za-z0-9._-] joined by `/`. */
const catalogKey = fc
  .array(fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), { minLength: 1, maxLength: 5 })
  .map((segments) => segments.join('/'))

describe('Key Vault secret names', () => {
  it.each([
    ['apps/checkout/stripe', 'apps--checkout--stripe'],
    ['rds/checkout-prod', 'rds--checkout-2dprod'],
    ['certs/api.example.com', 'certs--api-2eexample-2ecom'],
    ['my_key', 'my-5fkey'],
    ['Foo', '-46oo'],
    ['foo', 'foo'],
    ['ümlaut', '-c3-bcmlaut'],
  ])('maps %s to %s', (key, name) => {
    expect(toKeyVaultName(key)).toBe(name)
    expect(fromKeyVaultName(name)).toBe(key)
  })

  it('round-trips any string, with only lowercase letters, digits and -', () => {
    fc.assert(
      fc.property(fc.oneof(catalogKey, fc.string({ unit: 'binary', maxLength: 40 })), (key) => {
        const name = toKeyVaultName(key)
        expect(name).toMatch(/^[a-z0-9-]*$/)
        expect(fromKeyVaultName(name)).toBe(key)
        // Key Vault may hand a name back in another case: it is the same secret.
        expect(fromKeyVaultName(name.toUpperCase())).toBe(key)
      }),
      { numRuns: 500 },
    )
  })

  it('keeps keys that differ only in case apart under case folding', () => {
    fc.assert(
      fc.property(catalogKey, (key) => {
        const flipped = [...key]
          .map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()))
          .join('')
        fc.pre(flipped !== key)
        expect(toKeyVaultName(key).toLowerCase()).not.toBe(toKeyVaultName(flipped).toLowerCase())
      }),
      { numRuns: 500 },
    )
  })

  it('never maps two different keys to names Key Vault would treat as one', () => {
    fc.assert(
      fc.property(catalogKey, catalogKey, (a, b) => {
        fc.pre(a !== b)
        expect(toKeyVaultName(a).toLowerCase()).not.toBe(toKeyVaultName(b).toLowerCase())
      }),
      { numRuns: 500 },
    )
  })

  it.each([
    ['a trailing escape', 'abc-'],
    ['an escaped plain character', 'a-61'],
    ['an escaped slash', 'a-2f'],
    ['a character Key Vault forbids', 'a_b'],
    ['bytes that are not UTF-8', '-ff'],
  ])('does not decode a name it would never produce: %s', (_label, name) => {
    expect(fromKeyVaultName(name)).toBeUndefined()
  })
})
