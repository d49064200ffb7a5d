/**
 * The embedded runtime checks event data with TypeBox's compiler (installed process-wide
 * by createEmbeddedRuntime); the Lambda functions keep the interpreter. Both must accept
 * and reject exactly the same values, and the problems listed must not depend on which.
 */
import fc from 'fast-check'
import * as Value from 'typebox/value'
import { afterEach, describe, expect, it } from 'vitest'
import { type SchemaCompiler, useSchemaCompiler, validate } from '../../../events/index.ts'
import { dataSchemas, EventTypes } from '../../../events/types.ts'
import { compileSchema } from '../../../server/runtime.ts'
import { validData } from './fixtures.ts'

afterEach(() => useSchemaCompiler(undefined))

const types = Object.values(EventTypes)

/** A compiler that counts what it compiled and how often its checks ran. */
function countingCompiler() {
  const compiledSchemas: unknown[] = []
  let checks = 0
  const compile: SchemaCompiler = (schema) => {
    compiledSchemas.push(schema)
    const check = compileSchema(schema)
    return (value) => {
      checks++
      return check(value)
    }
  }
  return { compile, compiledSchemas, checks: () => checks }
}

describe('validate with compiled checks', () => {
  it('compiles a schema on its second use, once, and uses the compiled check from then on', () => {
    const counting = countingCompiler()
    useSchemaCompiler(counting.compile)
    const schema = dataSchemas[EventTypes.requested]
    const data = validData[EventTypes.requested]
    expect(validate(schema, data)).toEqual([])
    expect(counting.compiledSchemas).toEqual([])
    for (let i = 0; i < 3; i++) expect(validate(schema, data)).toEqual([])
    expect(counting.compiledSchemas).toEqual([schema])
    expect(counting.checks()).toBe(3)
    // Removing the compiler goes back to the interpreter and forgets the compiled checks.
    useSchemaCompiler(undefined)
    expect(validate(schema, data)).toEqual([])
    expect(counting.checks()).toBe(3)
  })

  it.each(types)('%s: the same verdict and the same problems as the interpreter', (type) => {
    const schema = dataSchemas[type]
    const samples: unknown[] = [
      validData[type],
      { ...validData[type], unexpected: true },
      {},
      null,
      'text',
      [validData[type]],
    ]
    const interpreted = samples.map((sample) => validate(schema, sample, 'data'))
    useSchemaCompiler(compileSchema)
    for (let round = 0; round < 2; round++)
      expect(samples.map((sample) => validate(schema, sample, 'data'))).toEqual(interpreted)
    expect(interpreted[0]).toEqual([])
    expect(interpreted.slice(1).every((problems) => problems.length > 0)).toBe(true)
  })

  it('agrees with Value.Check on arbitrary values and on valid data with one field changed', () => {
    const checks = new Map(types.map((type) => [type, compileSchema(dataSchemas[type])]))
    const mutated = fc
      .tuple(fc.constantFrom(...types), fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }))
      .map(([type, key, value]) => {
        const data = validData[type] as Record<string, unknown>
        const keys = Object.keys(data)
        const field =
          keys.length > 0 && key.length % 2 === 0 ? (keys[key.length % keys.length] as string) : key
        return { type, value: { ...data, [field]: value } as unknown }
      })
    const arbitrary = fc
      .tuple(fc.constantFrom(...types), fc.jsonValue({ maxDepth: 3 }))
      .map(([type, value]) => ({ type, value: value as unknown }))
    fc.assert(
      fc.property(fc.oneof(mutated, arbitrary), ({ type, value }) => {
        const check = checks.get(type) as (value: unknown) => boolean
        expect(check(value)).toBe(Value.Check(dataSchemas[type], value))
      }),
      { numRuns: 500 },
    )
  })
})
