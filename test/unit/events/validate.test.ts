import { describe, expect, it } from 'vitest'
import * as schemas from '../../../events/data.ts'
import { pointerSegments, readablePath, validate } from '../../../events/index.ts'
import { checkedSchema } from '../../support/checked-schema.ts'

const CapabilityRequest = checkedSchema(schemas.CapabilityRequest)
const CapabilityOutcome = checkedSchema(schemas.CapabilityOutcome)
const ResolvedCapability = checkedSchema(schemas.ResolvedCapability)

describe('readablePath', () => {
  it.each([
    ['', '', ''],
    ['', 'data', 'data'],
    ['/capabilities/0/type', 'data', 'data.capabilities[0].type'],
    ['/0/name', '', '[0].name'],
    ['/capabilities/12', '', 'capabilities[12]'],
    ['/params/my-key', '', 'params.my-key'],
    // Keys that would read as nesting or need quotes are quoted, not run together.
    ['/params/a.b', '', 'params["a.b"]'],
    ['/params/my key', '', 'params["my key"]'],
    ['/params/say "hi"', '', 'params["say \\"hi\\""]'],
    ['/params/', '', 'params[""]'],
    // RFC 6901 escapes: ~1 is "/", ~0 is "~", and "~01" is the literal "~1" (not "/").
    ['/params/a~1b', '', 'params["a/b"]'],
    ['/params/a~0b', '', 'params["a~b"]'],
    ['/params/~01', '', 'params["~1"]'],
    ['/resources/0a', '', 'resources["0a"]'],
  ])('%j with prefix %j reads %s', (pointer, prefix, expected) => {
    expect(readablePath(pointer, prefix)).toBe(expected)
  })
})

describe('pointerSegments', () => {
  it('unescapes in RFC 6901 order and turns indexes into numbers', () => {
    expect(pointerSegments('')).toEqual([])
    expect(pointerSegments('/capabilities/0/params/a~1b')).toEqual([
      'capabilities',
      0,
      'params',
      'a/b',
    ])
    expect(pointerSegments('/~01/~0')).toEqual(['~1', '~'])
  })
})

const request = { name: 'db', type: 'postgres' }

describe('validate', () => {
  it('returns nothing for a valid value', () => {
    expect(
      validate(CapabilityRequest, { ...request, params: { key: 'x', n: 1, on: true } }),
    ).toEqual([])
  })

  it('names a missing property at its own path', () => {
    expect(validate(CapabilityRequest, { name: 'db' }, 'data')).toEqual([
      expect.objectContaining({ path: 'data.type', message: 'is required' }),
    ])
  })

  it('names unknown properties without the noise of additionalProperties', () => {
    expect(validate(CapabilityRequest, { ...request, parms: 1 })).toEqual([
      expect.objectContaining({ path: '', message: 'unknown property "parms"' }),
    ])
  })

  it('says what a union of types expects once, joined by "or"', () => {
    expect(validate(CapabilityRequest, { ...request, params: { key: [] } })).toEqual([
      expect.objectContaining({
        path: 'params.key',
        message: 'must be string or number or boolean',
      }),
    ])
  })

  it('says what a union of literals expects once, joined by "or"', () => {
    const outcome = { ...request, status: 'pending' }
    expect(validate(CapabilityOutcome, outcome)).toEqual([
      expect.objectContaining({
        path: 'status',
        message: 'must be "ready" or "failed" or "denied"',
      }),
    ])
  })

  it('keeps a branch constraint apart from the other branches', () => {
    const problems = validate(CapabilityRequest, { ...request, params: { key: 'x'.repeat(1025) } })
    expect(problems.map((p) => p.message)).toEqual([
      'must not have more than 1024 characters',
      'must be number or boolean',
    ])
  })

  it('does not join two constraints that must both hold', () => {
    // `status` of a resolved capability is a string *and* "ready": not a union.
    const problems = validate(ResolvedCapability, { ...request, status: 5 }).filter(
      (p) => p.path === 'status',
    )
    expect(problems.map((p) => p.message)).toEqual(['must be string', 'must be "ready"'])
  })

  it('says when the validator stopped early, without a half-listed union', () => {
    const params = { 'bad key': 1, long: 'x'.repeat(1025), nested: {} }
    const problems = validate(CapabilityRequest, { ...request, params }, 'data')
    expect(problems.at(-1)).toMatchObject({
      path: 'data',
      message: 'has more problems than listed',
    })
    // The validator stops inside the union of `nested`: claiming "string or number" would be wrong.
    expect(
      problems.some((p) => p.path === 'data.params.nested' && !p.message.includes('boolean')),
    ).toBe(false)
  })

  it('never quotes the offending value', () => {
    const value = 'S3CRET-never-print-me'
    const problems = validate(CapabilityRequest, {
      ...request,
      type: value,
      params: { k: [value] },
    })
    expect(problems.length).toBeGreaterThan(0)
    expect(JSON.stringify(problems)).not.toContain(value)
  })
})
