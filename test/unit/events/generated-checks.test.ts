/**
 * Every process checks values with the checks `npm run schemas` generates from the
 * TypeBox schemas (events/generated/checks.ts, broker/generated/checks.ts). They must
 * accept and reject exactly what TypeBox's interpreter does over the schemas themselves,
 * and a rejected value must have problems listed (in our own words: validate.ts).
 */
import fc from 'fast-check'
import { Errors } from 'typebox/schema'
import type { TSchema } from 'typebox/type'
import * as Value from 'typebox/value'
import { describe, expect, it } from 'vitest'
import * as catalogSchemas from '../../../broker/catalog/schema.ts'
import * as brokerChecks from '../../../broker/generated/checks.ts'
import * as payloads from '../../../broker/triggers/payloads.ts'
import { dataSchemas } from '../../../events/data.ts'
import { problemSchemas } from '../../../events/generated/problem-schemas.ts'
import { type CheckedSchema, dataChecks, EventTypes, validate } from '../../../events/index.ts'
import { validData } from './fixtures.ts'

const types = Object.values(EventTypes)

/** Each generated check with the schema it was generated from. */
const pairs: [string, CheckedSchema, TSchema][] = [
  ...types.map((type): [string, CheckedSchema, TSchema] => [
    type,
    dataChecks[type],
    dataSchemas[type],
  ]),
  ['CatalogShape', brokerChecks.CatalogShape, catalogSchemas.CatalogShape],
  ...Object.entries(catalogSchemas.StoreOptionSchemas).map(
    ([kind, schema]): [string, CheckedSchema, TSchema] => [
      `StoreOptions.${kind}`,
      brokerChecks.StoreOptions[kind as keyof typeof brokerChecks.StoreOptions],
      schema,
    ],
  ),
  ['PushPayload', brokerChecks.PushPayload, payloads.PushPayload],
  ['OtherWork', brokerChecks.OtherWork, payloads.OtherWork],
]

describe('generated checks', () => {
  it('cover every store adapter of the catalog schema', () => {
    expect(Object.keys(brokerChecks.StoreOptions)).toEqual(
      Object.keys(catalogSchemas.StoreOptionSchemas),
    )
  })

  it.each(pairs)('%s: finds its schema under its id, without annotations', (_, checked, schema) => {
    const json = problemSchemas[checked.id] as string
    expect(json).toBeDefined()
    expect(json).not.toMatch(/"description"/)
    // Annotations aside, the schema the check was generated from.
    const strip = (text: string) => text.replaceAll(/,?"description":"(?:[^"\\]|\\.)*"/g, '')
    expect(JSON.parse(strip(JSON.stringify(schema)))).toEqual(JSON.parse(json))
  })

  it.each(types)(
    '%s: the same verdict as the interpreter, and problems whenever it has some',
    (type) => {
      const samples: unknown[] = [
        validData[type],
        { ...validData[type], unexpected: true },
        {},
        null,
        'text',
        [validData[type]],
      ]
      for (const sample of samples) {
        expect(dataChecks[type].check(sample)).toBe(Value.Check(dataSchemas[type], sample))
        const [, interpreted] = Errors(dataSchemas[type], sample)
        const listed = validate(dataChecks[type], sample, 'data')
        expect(listed.length > 0).toBe(interpreted.length > 0)
      }
      expect(validate(dataChecks[type], validData[type])).toEqual([])
      expect(samples.slice(1).every((s) => validate(dataChecks[type], s).length > 0)).toBe(true)
    },
  )

  it('agree with the interpreter on arbitrary values and on valid data with one field changed', () => {
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
        expect(dataChecks[type].check(value)).toBe(Value.Check(dataSchemas[type], value))
      }),
      { numRuns: 500 },
    )
  })

  it.each(pairs)('%s: agrees with the interpreter on arbitrary JSON', (_, checked, schema) => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        expect(checked.check(value)).toBe(Value.Check(schema, value))
      }),
      { numRuns: 200 },
    )
  })
})
