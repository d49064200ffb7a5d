import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EventTypes, EventValidationError, parseEvent } from '../../../events/index.ts'
import { isDeeplyFrozen, requestedInput } from './fixtures.ts'

/** parseEvent's contract: a frozen event, or EventValidationError — never another error. */
function parseOrProblem(input: unknown): EventValidationError | undefined {
  try {
    const event = parseEvent(input)
    expect(isDeeplyFrozen(event)).toBe(true)
    return undefined
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error
    return error
  }
}

const anyType = fc.oneof(fc.constantFrom(...Object.values(EventTypes)), fc.string())
const attribute = fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 }))

/** Objects that look like events, so parsing gets past the envelope often. */
const eventLike = fc.record(
  {
    specversion: fc.oneof(fc.constant('1.0'), attribute),
    id: attribute,
    source: fc.oneof(
      fc.constantFrom('/apps/checkout', 'https://github.com/acme/checkout'),
      attribute,
    ),
    type: anyType,
    subject: attribute,
    time: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      attribute,
    ),
    datacontenttype: fc.oneof(fc.constant('application/json'), attribute),
    data: fc.jsonValue(),
    ext: attribute,
  },
  { requiredKeys: [] },
)

describe('parseEvent on arbitrary input', () => {
  it('returns a frozen event or throws EventValidationError, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        parseOrProblem(input)
      }),
      { numRuns: 500 },
    )
  })

  it('returns a frozen event or throws EventValidationError, for event-shaped objects', () => {
    fc.assert(
      fc.property(eventLike, (input) => {
        parseOrProblem(input)
      }),
      { numRuns: 1000 },
    )
  })
})

// Secrets are drawn from an alphabet and a marker nothing else in the input uses, so a
// secret found in a message can only have been copied there from the params.
const secret = fc
  .stringMatching(/^[A-Z0-9]{12,40}$/)
  .chain((core) => fc.nat({ max: 1200 }).map((pad) => `S3CRET${core}${'Z'.repeat(pad)}`))
/** Param values that are secrets, in shapes valid and invalid (too long, nested, listed). */
const paramValue = fc.oneof(
  secret,
  secret.map((s) => ({ value: s })),
  secret.map((s) => [s]),
  fc.oneof(fc.integer(), fc.boolean(), fc.constant(null)),
)
const paramKey = fc.oneof(
  fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,10}$/),
  fc.constantFrom('my key', '', '__proto__'),
)
const params = fc.dictionary(paramKey, paramValue, { maxKeys: 40 })
const capability = fc.record(
  {
    name: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), fc.constant('../up')),
    type: fc.constantFrom('postgres', 'secret', 'Bad Type'),
    params,
    extra: fc.constant(true),
  },
  { requiredKeys: ['params'] },
)
const requestWithSecrets = fc.record({
  overrides: fc.record(
    { id: attribute, time: attribute, tenant: attribute, app: fc.constantFrom('checkout', 'a/b') },
    { requiredKeys: [] },
  ),
  capabilities: fc.array(capability, { maxLength: 4 }),
})

function secretsIn(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string' && value.startsWith('S3CRET')) found.push(value)
  else if (value !== null && typeof value === 'object')
    for (const v of Object.values(value)) secretsIn(v, found)
  return found
}

describe('parseEvent errors', () => {
  it('never repeat a param value (it may be a secret)', () => {
    let refused = 0
    fc.assert(
      fc.property(requestWithSecrets, ({ overrides, capabilities }) => {
        const { app, ...attributes } = overrides
        const input = requestedInput({
          ...attributes,
          data: { app: app ?? 'checkout', environment: 'dev', capabilities },
        })
        const error = parseOrProblem(JSON.parse(JSON.stringify(input)))
        if (error === undefined) return
        refused++
        const text = `${error.message}\n${JSON.stringify(error.problems)}`
        for (const value of secretsIn(capabilities)) expect(text).not.toContain(value)
      }),
      { numRuns: 500 },
    )
    // The property means something only if most generated requests were refused.
    expect(refused).toBeGreaterThan(250)
  })
})
