import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromSecretId, toSecretId } from '../../../../adapters/gcp-secret-manager/index.ts'

/** Keys like the catalog makes them: segments of [A-Za-z0-9._-] joined by `/`. */
const catalogKey = fc
  .array(fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), { minLength: 1, maxLength: 5 })
  .map((segments) => segments.join('/'))

describe('GCP secret ids', () => {
  it.each([
    ['apps/checkout/stripe', 'apps__checkout__stripe'],
    ['rds/checkout-prod', 'rds__checkout-prod'],
    ['postgres/checkout', 'postgres__checkout'],
    ['certs/api.example.com', 'certs__api_2Eexample_2Ecom'],
    ['my_key', 'my_5Fkey'],
    ['a//b', 'a____b'],
    ['ümlaut', '_C3_BCmlaut'],
    ['CamelCase-1', 'CamelCase-1'],
  ])('maps %s to %s', (key, id) => {
    expect(toSecretId(key)).toBe(id)
    expect(fromSecretId(id)).toBe(key)
  })

  it('round-trips any string, with only the characters GCP allows', () => {
    fc.assert(
      fc.property(fc.oneof(catalogKey, fc.string({ unit: 'binary', maxLength: 40 })), (key) => {
        const id = toSecretId(key)
        expect(id).toMatch(/^[A-Za-z0-9_-]*$/)
        expect(fromSecretId(id)).toBe(key)
      }),
      { numRuns: 500 },
    )
  })

  it('never maps two different keys to one id', () => {
    fc.assert(
      fc.property(catalogKey, catalogKey, (a, b) => {
        fc.pre(a !== b)
        expect(toSecretId(a)).not.toBe(toSecretId(b))
      }),
      { numRuns: 500 },
    )
  })

  it.each([
    ['a trailing escape', 'abc_'],
    ['lowercase hex', 'a_2e'],
    ['an escaped plain character', 'a_41'],
    ['an escaped slash', 'a_2F'],
    ['a character GCP forbids', 'a.b'],
    ['bytes that are not UTF-8', '_FF'],
  ])('does not decode an id it would never produce: %s', (_label, id) => {
    expect(fromSecretId(id)).toBeUndefined()
  })
})
