import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type AsyncAPIDocumentInterface, type Diagnostic, Parser } from '@asyncapi/parser'
import Value from 'typebox/value'
import { beforeAll, describe, expect, it } from 'vitest'
import { dataSchemas } from '../../../events/data.ts'
import {
  type EventType,
  EventTypes,
  EventValidationError,
  parseEvent,
} from '../../../events/index.ts'
import { requestedInput } from './fixtures.ts'

const documentPath = join(import.meta.dirname, '../../../events/asyncapi.yaml')
const types = Object.values(EventTypes)
const outcomes = types.filter((type) => type !== EventTypes.requested)

function refuseNetwork(uri: { toString(): string }): never {
  throw new Error(`asyncapi.yaml must resolve offline, but it referenced ${uri.toString()}`)
}

/** Drops what the parser adds (`x-parser-schema-id`) and what write-schemas adds at the top. */
function schemaOnly(schema: unknown, top = true): unknown {
  if (Array.isArray(schema)) return schema.map((item) => schemaOnly(item, false))
  if (schema === null || typeof schema !== 'object') return schema
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-parser-')) continue
    if (top && ['$schema', '$id', 'title', 'description'].includes(key)) continue
    out[key] = schemaOnly(value, false)
  }
  return out
}

let document: AsyncAPIDocumentInterface
let diagnostics: Diagnostic[]

beforeAll(async () => {
  const parser = new Parser({
    __unstable: {
      resolver: {
        resolvers: [
          { schema: 'https', order: 1, read: refuseNetwork },
          { schema: 'http', order: 1, read: refuseNetwork },
        ],
      },
    },
  })
  const output = await parser.parse(await readFile(documentPath, 'utf8'), { source: documentPath })
  diagnostics = output.diagnostics
  if (output.document === undefined) throw new Error(JSON.stringify(output.diagnostics, null, 2))
  document = output.document
})

function message(type: EventType) {
  const found = document
    .allMessages()
    .all()
    .find((m) => m.name() === type)
  if (found === undefined) throw new Error(`no message named ${type}`)
  return found
}

describe('events/asyncapi.yaml', () => {
  it('is a valid AsyncAPI 3.0.0 document, without errors or warnings', () => {
    const problems = diagnostics.filter((d) => d.severity <= 1)
    expect(problems.map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`)).toEqual([])
    expect(document.version()).toBe('3.0.0')
    expect(document.info().title()).toBe('capbroker')
    expect(document.info().version()).toBe('0.1.0')
    expect(document.defaultContentType()).toBe('application/cloudevents+json')
  })

  it('has one message per event type, and no other', () => {
    const names = document
      .allMessages()
      .all()
      .map((m) => m.name())
    expect([...names].sort()).toEqual([...types].sort())
  })

  it.each(types)(
    '%s: the payload is a CloudEvent of that type whose data is the TypeBox schema',
    (type) => {
      const payload = message(type).payload()?.json() as {
        required: string[]
        properties: Record<string, Record<string, unknown>>
      }
      expect(payload.required).toEqual(
        expect.arrayContaining(['specversion', 'id', 'source', 'type', 'data']),
      )
      expect(payload.properties.specversion).toMatchObject({ const: '1.0' })
      expect(payload.properties.type).toMatchObject({ const: type })
      expect(Object.keys(payload.properties)).toEqual(
        expect.arrayContaining(['subject', 'time', 'datacontenttype']),
      )
      expect(schemaOnly(payload.properties.data)).toEqual(
        JSON.parse(JSON.stringify(dataSchemas[type])),
      )
    },
  )

  it('sends requested to POST /events on the embedded runtime', () => {
    const send = document.operations().filterBySend()
    expect(
      send.flatMap((op) =>
        op
          .messages()
          .all()
          .map((m) => m.name()),
      ),
    ).toEqual([EventTypes.requested])
    const channel = send[0]!.channels().all()[0]!
    expect(channel.address()).toBe('/events')
    expect(send[0]!.bindings().get('http')?.value()).toMatchObject({ method: 'POST' })
    const server = channel.servers().all()[0]!
    expect([server.protocol(), server.host()]).toEqual(['http', '127.0.0.1:7777'])
  })

  it('receives every outcome and lifecycle event from the bus', () => {
    const received = document
      .operations()
      .filterByReceive()
      .flatMap((op) =>
        op
          .messages()
          .all()
          .map((m) => m.name()),
      )
    expect([...received].sort()).toEqual([...outcomes].sort())
    for (const op of document.operations().filterByReceive()) {
      expect(
        op
          .channels()
          .all()
          .map((c) => c.id()),
      ).toEqual(['bus'])
    }
  })
})

describe('the examples in events/asyncapi.yaml', () => {
  const examples = (type: EventType) =>
    message(type)
      .examples()
      .all()
      .map((e) => e.payload())

  it('show a native list and a Score workload request, and a resolved outcome', () => {
    const requested = examples(EventTypes.requested) as { data: Record<string, unknown> }[]
    expect(requested.some((e) => Array.isArray(e.data.capabilities))).toBe(true)
    expect(requested.some((e) => typeof e.data.score === 'object')).toBe(true)
    expect(examples(EventTypes.resolved)).toHaveLength(1)
  })

  it('are accepted by parseEvent and by the payload schema of their message', () => {
    for (const type of types) {
      const schema = schemaOnly(message(type).payload()!.json(), false) as object
      for (const example of examples(type)) {
        expect(parseEvent(example).type).toBe(type)
        expect(Value.Check(schema, example)).toBe(true)
      }
    }
  })
})

/** Where parseEvent and the payload schema of the document must agree. */
const envelopeCases: [string, Record<string, unknown>, boolean][] = [
  ['a valid request', requestedInput(), true],
  ['an extension attribute', requestedInput({ traceparent: '00-abc-01', hops: 2 }), true],
  ['missing id', requestedInput({ id: undefined }), false],
  ['specversion 0.3', requestedInput({ specversion: '0.3' }), false],
  ['another type', requestedInput({ type: EventTypes.resolved }), false],
  ['a source with a space', requestedInput({ source: '/apps/check out' }), false],
  ['a day that does not exist', requestedInput({ time: '2025-02-30T00:00:00Z' }), false],
  ['text data', requestedInput({ datacontenttype: 'text/plain' }), false],
  ['binary data', requestedInput({ data_base64: 'e30=' }), false],
  ['a bad extension name', requestedInput({ 'trace-id': 'x' }), false],
  ['an object extension value', requestedInput({ tenant: { id: 1 } }), false],
]

describe('the requested payload schema and parseEvent agree on', () => {
  it.each(envelopeCases)('%s', (_, raw, valid) => {
    const input = JSON.parse(JSON.stringify(raw))
    const schema = schemaOnly(message(EventTypes.requested).payload()!.json(), false) as object
    expect(Value.Check(schema, input)).toBe(valid)
    if (valid) expect(() => parseEvent(input)).not.toThrow()
    else expect(() => parseEvent(input)).toThrow(EventValidationError)
  })
})
