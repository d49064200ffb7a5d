/**
 * A TypeBox schema as `validate` takes it, compiled here and now: for tests that check
 * values against a part of a schema (one capability, one outcome) that has no generated
 * check of its own. Run-time code uses the generated ones (`npm run schemas`).
 */
import { Compile } from 'typebox/compile'
import type { TSchema } from 'typebox/type'
import type { CheckedSchema } from '../../events/validate.ts'

export function checkedSchema(schema: TSchema): CheckedSchema {
  const validator = Compile(schema)
  return { id: 'test', check: (value) => validator.Check(value), schema }
}
