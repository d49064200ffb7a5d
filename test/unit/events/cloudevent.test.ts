import { HTTP, type Message, CloudEvent as SdkCloudEvent } from 'cloudevents'
import { describe, expect, it } from 'vitest'
import {
  type AnyCloudEvent,
  buildEvent,
  type EventType,
  EventTypes,
  EventValidationError,
  isEventOf,
  MAX_CAPABILITIES,
  parseEvent,
} from '../../../events/index.ts'
import {
  attributes,
  isDeeplyFrozen,
  requestedInput,
  requestedScore,
  validData,
} from './fixtures.ts'

const types = Object.values(EventTypes)

function build<T extends EventType>(type: T): AnyCloudEvent {
  return buildEvent(type, attributes, validData[type]) as AnyCloudEvent
}

/** The event the SDK hands back, as a plain object (what a handler would pass to parseEvent). */
function viaSdk(message: Message): unknown {
  const event = HTTP.toEvent<unknown>(message)
  if (Array.isArray(event)) throw new Error('expected one event')
  return (event as SdkCloudEvent<unknown>).toJSON()
}

/** Equal as events: the SDK normalizes `time` to milliseconds, so time is compared as an instant. */
function expectSameEvent(actual: AnyCloudEvent, expected: AnyCloudEvent): void {
  const { time: actualTime, ...actualRest } = actual
  const { time: expectedTime, ...expectedRest } = expected
  expect(actualRest).toEqual(expectedRest)
  expect(Date.parse(actualTime!)).toBe(Date.parse(expectedTime!))
}

describe('buildEvent', () => {
  it.each(types)(
    'builds a %s event the CloudEvents SDK accepts and that survives both HTTP modes',
    (type) => {
      const event = build(type)
      // The SDK constructor validates strictly (CloudEvents 1.0 JSON Schema) and throws otherwise.
      const sdkEvent = new SdkCloudEvent<unknown>({ ...event })
      expect(sdkEvent.validate()).toBe(true)

      expectSameEvent(parseEvent(viaSdk(HTTP.binary(sdkEvent))), event)
      expectSameEvent(parseEvent(viaSdk(HTTP.structured(sdkEvent))), event)
    },
  )

  it('sets subject to <app>/<environment> and JSON data', () => {
    const event = build(EventTypes.requested)
    expect(event).toMatchObject({
      specversion: '1.0',
      id: attributes.id,
      source: attributes.source,
      type: EventTypes.requested,
      subject: 'checkout/dev',
      time: attributes.time,
      datacontenttype: 'application/json',
    })
    expect(buildEvent(EventTypes.requested, attributes, requestedScore).subject).toBe(
      'checkout/prod',
    )
  })

  it('returns a deeply frozen value that does not share the caller data', () => {
    const data = structuredClone(validData[EventTypes.requested])
    const event = buildEvent(EventTypes.requested, attributes, data)
    expect(isDeeplyFrozen(event)).toBe(true)
    expect(() => {
      ;(event.data.capabilities as { name: string }[])[0]!.name = 'other'
    }).toThrow(TypeError)
    data.capabilities![0]!.name = 'changed-after-build'
    expect(event.data.capabilities![0]!.name).toBe('orders-db')
    expect(Object.isFrozen(data)).toBe(false)
  })

  it('refuses data that does not fit the schema, naming the field', () => {
    const data = { ...validData[EventTypes.rotated], version: 2 as unknown as string }
    expect(() => buildEvent(EventTypes.rotated, attributes, data)).toThrow(
      /data\.version: must be string/,
    )
  })

  it('refuses a subject that contradicts the data', () => {
    expect(() =>
      buildEvent(
        EventTypes.released,
        { ...attributes, subject: 'billing/dev' },
        validData[EventTypes.released],
      ),
    ).toThrow(/subject: must be "<app>\/<environment>" of the data \(checkout\/dev\)/)
  })
})

describe('parseEvent', () => {
  it('accepts the documented sources and fills a missing subject from the data', () => {
    for (const source of [
      '/apps/checkout',
      'https://github.com/acme/checkout',
      '/chatops/slack/T0123',
    ]) {
      const { subject: _, ...input } = requestedInput({ source })
      const event = parseEvent(input)
      expect(event.source).toBe(source)
      expect(event.subject).toBe('checkout/dev')
    }
  })

  it('returns a deeply frozen copy, leaving the input alone', () => {
    const input = requestedInput()
    const event = parseEvent(input)
    expect(isDeeplyFrozen(event)).toBe(true)
    expect(Object.isFrozen(input.data)).toBe(false)
    ;(input.data as { app: string }).app = 'mutated'
    expect(event.data.app).toBe('checkout')
  })

  it('keeps valid extension attributes and narrows by type', () => {
    const event = parseEvent(
      requestedInput({ traceparent: '00-abc-def-01', partitionkey: 7, sampled: true }),
    )
    expect(event).toMatchObject({ traceparent: '00-abc-def-01', partitionkey: 7, sampled: true })
    expect(isEventOf(event, EventTypes.requested)).toBe(true)
    expect(isEventOf(event, EventTypes.resolved)).toBe(false)
  })

  it('accepts exactly MAX_CAPABILITIES capabilities', () => {
    const capabilities = Array.from({ length: MAX_CAPABILITIES }, (_, i) => ({
      name: `c${i}`,
      type: 'secret',
    }))
    const event = parseEvent(
      requestedInput({ data: { app: 'checkout', environment: 'dev', capabilities } }),
    )
    expect(isEventOf(event, EventTypes.requested) && event.data.capabilities).toHaveLength(
      MAX_CAPABILITIES,
    )
  })
})

const data = (overrides: Record<string, unknown>) => ({
  data: { ...requestedList(), ...overrides },
})
const capability = (overrides: Record<string, unknown>) =>
  data({ capabilities: [{ name: 'db', type: 'postgres', ...overrides }] })
function requestedList(): Record<string, unknown> {
  return structuredClone(validData[EventTypes.requested]) as Record<string, unknown>
}
function without(name: string): Record<string, unknown> {
  const input = requestedInput()
  delete input[name]
  return input
}
let deep: unknown = 'leaf'
for (let i = 0; i < 20_000; i++) deep = [deep]

/** [what is wrong, the input, the path the error must name, what it must say there]. */
const invalidEvents: [string, unknown, string, RegExp][] = [
  ['not an object', [requestedInput()], '', /must be a JSON object/],
  ['missing id', without('id'), 'id', /is required/],
  ['missing source', without('source'), 'source', /is required/],
  ['missing type', without('type'), 'type', /is required/],
  ['missing specversion', without('specversion'), 'specversion', /is required/],
  ['missing data', without('data'), 'data', /is required/],
  ['empty id', requestedInput({ id: '' }), 'id', /non-empty string/],
  ['specversion 0.3', requestedInput({ specversion: '0.3' }), 'specversion', /must be "1\.0"/],
  ['numeric specversion', requestedInput({ specversion: 1 }), 'specversion', /non-empty string/],
  [
    'unknown type',
    requestedInput({ type: 'io.capbroker.capability.requested.v2' }),
    'type',
    /unknown event type/,
  ],
  ['source with a space', requestedInput({ source: '/apps/check out' }), 'source', /URI-reference/],
  ['source with a bad escape', requestedInput({ source: '/apps/%zz' }), 'source', /URI-reference/],
  ['time without a zone', requestedInput({ time: '2025-01-15T09:30:00' }), 'time', /RFC 3339/],
  [
    'time on a day that does not exist',
    requestedInput({ time: '2025-02-30T09:30:00Z' }),
    'time',
    /RFC 3339/,
  ],
  ['time at hour 24', requestedInput({ time: '2025-01-15T24:00:00Z' }), 'time', /RFC 3339/],
  ['time in words', requestedInput({ time: 'yesterday' }), 'time', /RFC 3339/],
  [
    'non-JSON content type',
    requestedInput({ datacontenttype: 'text/plain' }),
    'datacontenttype',
    /application\/json/,
  ],
  [
    'relative dataschema',
    requestedInput({ dataschema: 'schemas/x.json' }),
    'dataschema',
    /absolute URI/,
  ],
  [
    'extension name with a dash',
    requestedInput({ 'trace-id': 'x' }),
    'trace-id',
    /extension attribute name/,
  ],
  [
    'extension name in capitals',
    requestedInput({ TraceId: 'x' }),
    'TraceId',
    /extension attribute name/,
  ],
  [
    'extension name over 20 characters',
    requestedInput({ abcdefghijklmnopqrstu: 'x' }),
    'abcdefghijklmnopqrstu',
    /extension/,
  ],
  [
    'extension value that is an object',
    requestedInput({ tenant: { id: 1 } }),
    'tenant',
    /string, a boolean or a 32-bit integer/,
  ],
  [
    'extension value that is null',
    requestedInput({ tenant: null }),
    'tenant',
    /string, a boolean or a 32-bit integer/,
  ],
  [
    'binary data',
    requestedInput({ data_base64: 'e30=' }),
    'data_base64',
    /binary data is not accepted/,
  ],
  [
    'subject of another app',
    requestedInput({ subject: 'billing/dev' }),
    'subject',
    /<app>\/<environment>/,
  ],
  ['data that is not an object', requestedInput({ data: 'checkout' }), 'data', /must be object/],
  [
    'capability type in capitals',
    requestedInput(capability({ type: 'Postgres' })),
    'data.capabilities[0].type',
    /must match/,
  ],
  [
    'capability without type',
    requestedInput(data({ capabilities: [{ name: 'db' }] })),
    'data.capabilities[0].type',
    /is required/,
  ],
  [
    'capability with a typo',
    requestedInput(capability({ parms: {} })),
    'data.capabilities[0]',
    /unknown property "parms"/,
  ],
  ['app with a slash', requestedInput(data({ app: 'checkout/admin' })), 'data.app', /must match/],
  ['app that is ..', requestedInput(data({ app: '..' })), 'data.app', /must match/],
  [
    'environment that is empty',
    requestedInput(data({ environment: '' })),
    'data.environment',
    /must match/,
  ],
  [
    'capability name with ..',
    requestedInput(capability({ name: '../db' })),
    'data.capabilities[0].name',
    /must match/,
  ],
  [
    'param value that is an object',
    requestedInput(capability({ params: { key: { nested: 1 } } })),
    'data.capabilities[0].params.key',
    /must be string or number or boolean/,
  ],
  [
    'param key outside the pattern',
    requestedInput(capability({ params: { 'my key': 'x' } })),
    'data.capabilities[0].params',
    /unknown property "my key"/,
  ],
  [
    '__proto__ param key',
    JSON.parse(
      `{"specversion":"1.0","id":"1","source":"/apps/checkout","type":"${EventTypes.requested}","data":{"app":"checkout","environment":"dev","capabilities":[{"name":"db","type":"secret","params":{"__proto__":"x"}}]}}`,
    ),
    'data.capabilities[0].params.__proto__',
    /not an allowed property name/,
  ],
  [
    '__proto__ in a Score workload',
    JSON.parse(
      `{"specversion":"1.0","id":"1","source":"/apps/checkout","type":"${EventTypes.requested}","data":{"app":"checkout","environment":"dev","score":{"apiVersion":"score.dev/v1b1","metadata":{"name":"x"},"resources":{"__proto__":{"type":"postgres"}}}}}`,
    ),
    'data.score.resources.__proto__',
    /not an allowed property name/,
  ],
  [
    'more than MAX_CAPABILITIES capabilities',
    requestedInput(
      data({
        capabilities: Array.from({ length: MAX_CAPABILITIES + 1 }, (_, i) => ({
          name: `c${i}`,
          type: 'secret',
        })),
      }),
    ),
    'data.capabilities',
    new RegExp(`${MAX_CAPABILITIES}`),
  ],
  [
    'data nested 20 000 levels deep',
    requestedInput(
      data({ score: { apiVersion: 'score.dev/v1b1', metadata: { name: 'x' }, extra: deep } }),
    ),
    'data.score.extra',
    /nests deeper than/,
  ],
]

describe('parseEvent refuses', () => {
  it.each(invalidEvents)('%s', (_, input, path, message) => {
    let error: unknown
    try {
      parseEvent(input)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(EventValidationError)
    const problems = (error as EventValidationError).problems
    const problem = problems.find(
      (p) => p.path === path || (path !== '' && p.path.startsWith(`${path}[`)),
    )
    expect(problem, `no problem at ${path} in ${JSON.stringify(problems)}`).toBeDefined()
    expect(problem!.message).toMatch(message)
    expect((error as Error).message).toContain(`${problem!.path}: ${problem!.message}`)
  })

  it('lists every problem at once, not just the first', () => {
    const input = requestedInput({ id: '', time: 'soon', ...data({ app: 'a/b' }) })
    expect(() => parseEvent(input)).toThrow(/id: .*time: .*data\.app: /)
  })
})
