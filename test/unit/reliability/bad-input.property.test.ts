/**
 * Hostile input against every parser at an edge: the HTTP decoder of `POST /events`
 * (and the CloudEvent parser under it), the manifest parser, the catalog loader and
 * the template engine. Each either returns a value or throws its one documented error
 * type — never a TypeError, a RangeError or a hang — and no error message repeats a
 * parameter value (it may be a secret). The property tests of parseEvent on JSON values
 * live in test/unit/events/cloudevent.property.test.ts; these add what they leave out:
 * raw bytes and headers, non-JSON values, text-level `__proto__` keys, the other
 * parsers, and the specific cases of issue 7 as a table.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { MAX_CATALOG_BYTES, parseCatalog } from '../../../broker/catalog/load.ts'
import { CatalogError, ManifestError } from '../../../broker/errors.ts'
import { MAX_MANIFEST_PROBLEMS, normalizeRequest } from '../../../broker/manifest.ts'
import { parseManifestText } from '../../../broker/manifest-text.ts'
import {
  parseTemplate,
  renderTemplate,
  TEMPLATE_VALUE,
  TemplateSyntaxError,
  TemplateValueError,
} from '../../../broker/template.ts'
import { EventTypes, EventValidationError, parseEvent } from '../../../events/index.ts'
import { decodeRequestedEvents, MAX_BODY_BYTES } from '../../../server/ingest.ts'
import { HttpProblem } from '../../../server/problem.ts'

const repo = join(import.meta.dirname, '..', '..', '..')
const DESIGN_CATALOG = readFileSync(join(repo, 'test/support/design-catalog.yaml'), 'utf8')
const TRIGGER_CATALOG = readFileSync(join(repo, 'examples/triggers/capbroker.yaml'), 'utf8')

/** Runs `work`, failing the test if it takes longer than `ms` (a hang shows as a slow case). */
function timed<T>(ms: number, work: () => T): T {
  const started = performance.now()
  try {
    return work()
  } finally {
    expect(performance.now() - started).toBeLessThan(ms)
  }
}

/** The error `work` threw, which must be an `expected`; undefined when it returned. */
function thrownBy<E extends Error>(
  expected: abstract new (...args: never[]) => E,
  work: () => unknown,
): E | undefined {
  try {
    work()
    return undefined
  } catch (error) {
    if (!(error instanceof expected)) throw error
    return error
  }
}

// Secrets come from an alphabet with a marker nothing else in an input uses, so one found
// in a message can only have been copied there from a parameter value.
const secret = fc.stringMatching(/^[A-Z0-9]{10,30}$/).map((core) => `S3CRET${core}`)
const containsSecret = (text: string) => /S3CRET[A-Z0-9]{10}/.test(text)

const EDGE_HEADERS = {
  'content-type': 'application/cloudevents+json',
} as const

function structured(data: unknown, extra: Record<string, unknown> = {}) {
  return {
    specversion: '1.0',
    id: 'req-1',
    source: '/apps/checkout',
    type: EventTypes.requested,
    ...extra,
    data,
  }
}

/** decodeRequestedEvents' contract: events, or an HttpProblem of 400, 413 or 415. */
function decodeOrProblem(
  headers: Record<string, string>,
  body: Buffer,
): { events?: unknown[]; problem?: HttpProblem } {
  try {
    return { events: timed(2_000, () => decodeRequestedEvents(headers, body)) }
  } catch (error) {
    if (!(error instanceof HttpProblem)) throw error
    expect([400, 413, 415]).toContain(error.statusCode)
    return { problem: error }
  }
}

describe('POST /events decoding (decodeRequestedEvents) on hostile bytes', () => {
  const contentTypes = fc.constantFrom(
    'application/json',
    'application/cloudevents+json',
    'application/cloudevents-batch+json',
    'APPLICATION/CloudEvents+JSON; charset=latin1',
    'text/plain',
    '',
  )
  const ceHeaders = fc.dictionary(
    fc.constantFrom(
      'ce-id',
      'ce-source',
      'ce-type',
      'ce-specversion',
      'ce-time',
      'ce-subject',
      'ce-datacontenttype',
      'ce-dataschema',
      'ce-constructor',
      'ce-x',
    ),
    fc.oneof(fc.string(), fc.constantFrom('1.0', EventTypes.requested, '/apps/checkout')),
  )

  it('answers any bytes under any headers with events or a 4xx problem', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), contentTypes, ceHeaders, (bytes, type, ce) => {
        decodeOrProblem({ 'content-type': type, ...ce }, Buffer.from(bytes))
      }),
      { numRuns: 800 },
    )
  })

  it('answers any JSON value, in every mode, with events or a 4xx problem', () => {
    const binary = {
      'ce-id': 'x',
      'ce-source': '/apps/checkout',
      'ce-type': EventTypes.requested,
      'ce-specversion': '1.0',
    }
    fc.assert(
      fc.property(fc.jsonValue(), contentTypes, ceHeaders, (value, type, ce) => {
        decodeOrProblem(
          { 'content-type': type, ...binary, ...ce },
          Buffer.from(JSON.stringify(value)),
        )
      }),
      { numRuns: 800 },
    )
  })

  // `__proto__` written into the JSON text is an own key after JSON.parse, whatever
  // the position: the envelope, data, a capability, params, a Score workload.
  const keyAt = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString')
  it('refuses __proto__ keys anywhere, and constructor keys never reach a prototype', () => {
    const positions = [
      (k: string) =>
        `{"${k}":{"polluted":"yes"},"specversion":"1.0","id":"x","source":"/apps/checkout","type":"${EventTypes.requested}","data":{"app":"checkout","environment":"dev","capabilities":[]}}`,
      (k: string) =>
        `{"specversion":"1.0","id":"x","source":"/apps/checkout","type":"${EventTypes.requested}","data":{"${k}":{"polluted":"yes"},"app":"checkout","environment":"dev","capabilities":[]}}`,
      (k: string) =>
        `{"specversion":"1.0","id":"x","source":"/apps/checkout","type":"${EventTypes.requested}","data":{"app":"checkout","environment":"dev","capabilities":[{"name":"db","type":"secret","${k}":{"polluted":"yes"}}]}}`,
      (k: string) =>
        `{"specversion":"1.0","id":"x","source":"/apps/checkout","type":"${EventTypes.requested}","data":{"app":"checkout","environment":"dev","capabilities":[{"name":"db","type":"secret","params":{"${k}":"yes"}}]}}`,
      (k: string) =>
        `{"specversion":"1.0","id":"x","source":"/apps/checkout","type":"${EventTypes.requested}","data":{"app":"checkout","environment":"dev","score":{"apiVersion":"score.dev/v1b1","metadata":{"name":"a","${k}":{"polluted":"yes"}},"resources":{"${k}":{"type":"secret","params":{"${k}":{"polluted":"yes"}}}}}}}`,
    ]
    fc.assert(
      fc.property(fc.nat(positions.length - 1), keyAt, (i, key) => {
        const text = (positions[i] as (k: string) => string)(key)
        const { events, problem } = decodeOrProblem({ ...EDGE_HEADERS }, Buffer.from(text))
        if (key === '__proto__') expect(problem?.statusCode).toBe(400)
        for (const event of events ?? []) expect(JSON.stringify(event)).not.toContain('__proto__')
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      }),
      { numRuns: 200 },
    )
  })

  it('never repeats a param value in a problem, however the request is wrong', () => {
    const params = fc.dictionary(
      fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), keyAt, fc.constant('bad key')),
      fc.oneof(
        secret,
        secret.map((s) => `${s}${'Z'.repeat(1100)}`),
        secret.map((s) => ({ nested: s })),
        secret.map((s) => [s]),
      ),
      { minKeys: 1, maxKeys: 40 },
    )
    const capability = fc.record({
      name: fc.oneof(fc.constantFrom('db', '../db', 'a/b', '..', 'x'.repeat(100)), secret),
      type: fc.oneof(fc.constantFrom('secret', 'Bad Type'), secret),
      params,
    })
    const data = fc.oneof(
      fc.record({
        app: fc.constantFrom('checkout', 'a/b'),
        environment: fc.constant('dev'),
        capabilities: fc.array(capability, { minLength: 1, maxLength: 3 }),
      }),
      fc.record({
        app: fc.constant('checkout'),
        environment: fc.constant('dev'),
        score: fc.record({
          apiVersion: fc.constant('score.dev/v1b1'),
          metadata: fc.constant({ name: 'checkout' }),
          resources: fc.dictionary(
            fc.constantFrom('db', '../db', 'a\u0000b', 'x'.repeat(200)),
            fc.record({ type: fc.constantFrom('secret', 'Bad'), params }),
            { minKeys: 1, maxKeys: 3 },
          ),
        }),
      }),
    )
    let refused = 0
    fc.assert(
      fc.property(data, (d) => {
        const { problem } = decodeOrProblem(
          { ...EDGE_HEADERS },
          Buffer.from(JSON.stringify(structured(d))),
        )
        if (!problem) return
        refused++
        expect(containsSecret(`${problem.message}\n${JSON.stringify(problem.errors)}`)).toBe(false)
      }),
      { numRuns: 300 },
    )
    expect(refused).toBeGreaterThan(250)
  })
})

describe('POST /events decoding: the cases of issue 7', () => {
  const capabilities = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ name: `cap-${i}`, type: 'secret' }))
  const resources = (n: number, resource: object = { type: 'secret' }) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`res-${i}`, resource]))
  const score = (r: object) => ({
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'a' },
    resources: r,
  })
  const deepArray = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
  const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
  const event = (data: string) =>
    `{"specversion":"1.0","id":"x","source":"/apps/checkout","type":"${EventTypes.requested}","data":${data}}`
  const json = (data: object) => JSON.stringify(structured(data))
  const dev = { app: 'checkout', environment: 'dev' }

  it.each([
    [
      '10 000 capabilities',
      json({ ...dev, capabilities: capabilities(10_000) }),
      /capabilities: must not have more than 100 items/,
    ],
    [
      '10 000 Score resources',
      json({ ...dev, score: score(resources(10_000)) }),
      /score.resources: has 10000 resources; at most 100 per request/,
    ],
    [
      '10 000 bad Score resources',
      json({ ...dev, score: score(resources(10_000, { type: 'Bad', params: { x: {} } })) }),
      /has 10000 resources; at most 100/,
    ],
    [
      'a Score resource with 10 000 bad params',
      json({
        ...dev,
        score: score({
          db: {
            type: 'secret',
            params: Object.fromEntries(
              Array.from({ length: 10_000 }, (_, i) => [`p${i}`, { v: i }]),
            ),
          },
        }),
      }),
      /has 9950 more problems/,
    ],
    ['arrays nested 500 000 deep', event(deepArray(500_000)), /nests deeper than 32 levels/],
    ['objects nested 150 000 deep', event(deepObject(150_000)), /nests deeper than 32 levels/],
    [
      '60 000 __proto__ keys',
      event(
        `{"app":"checkout","environment":"dev","capabilities":[${Array(60_000).fill('{"__proto__":1}').join(',')}]}`,
      ),
      /__proto__: is not an allowed property name/,
    ],
    [
      'a capability name with /',
      json({ ...dev, capabilities: [{ name: 'a/b', type: 'secret' }] }),
      /capabilities\[0\].name: must match/,
    ],
    [
      'a capability name ..',
      json({ ...dev, capabilities: [{ name: '..', type: 'secret' }] }),
      /capabilities\[0\].name: must match/,
    ],
    [
      'a capability name with NUL',
      json({ ...dev, capabilities: [{ name: 'a\u0000b', type: 'secret' }] }),
      /capabilities\[0\].name: must match/,
    ],
    [
      'a capability name of 10 000 characters',
      json({ ...dev, capabilities: [{ name: 'x'.repeat(10_000), type: 'secret' }] }),
      /capabilities\[0\].name: must match/,
    ],
    [
      'Score resource names with /, .., NUL and 10 000 characters',
      json({
        ...dev,
        score: score({
          'a/b': { type: 'secret' },
          '..': { type: 'secret' },
          'a\u0000b': { type: 'secret' },
          ['x'.repeat(10_000)]: { type: 'secret' },
        }),
      }),
      /resource name must match/,
    ],
    [
      'an app name with ..',
      json({ app: '..', environment: 'dev', capabilities: [] }),
      /data.app: must match/,
    ],
  ])('%s: a clear 400, quickly, of bounded size', (_what, body, detail) => {
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_BODY_BYTES)
    const { problem } = decodeOrProblem({ ...EDGE_HEADERS }, Buffer.from(body))
    expect(problem?.statusCode).toBe(400)
    expect(problem?.message).toMatch(detail)
    // The answer stays small whatever the body: no amplification.
    expect(
      JSON.stringify({ detail: problem?.message, errors: problem?.errors }).length,
    ).toBeLessThan(20_000)
    // A 10 000-character name is not echoed back whole.
    expect(problem?.message).not.toContain('x'.repeat(100))
  })

  it.each([
    ['an invalid byte', [0x7b, 0xff, 0x7d]],
    ['an overlong encoding of /', [0x7b, 0xc0, 0xaf, 0x7d]],
    ['a lone surrogate', [0x7b, 0xed, 0xa0, 0x80, 0x7d]],
    ['a truncated sequence', [0x7b, 0xe2, 0x82]],
    ['UTF-16 with its byte order mark', [0xff, 0xfe, ...Buffer.from('{"id":"x"}', 'utf16le')]],
    ['Latin-1', [...Buffer.from('{"id":"café"}', 'latin1')]],
  ])('non-UTF-8 (%s): 400 "not valid UTF-8", in every mode', (_what, bytes) => {
    for (const type of [
      'application/cloudevents+json',
      'application/cloudevents-batch+json',
      'application/json',
    ]) {
      const { problem } = decodeOrProblem(
        {
          'content-type': type,
          'ce-id': 'x',
          'ce-source': '/x',
          'ce-type': EventTypes.requested,
          'ce-specversion': '1.0',
        },
        Buffer.from(bytes),
      )
      expect([problem?.statusCode, problem?.message]).toEqual([400, 'the body is not valid UTF-8'])
    }
  })

  it('a body over 1 MiB is a 413 before it is parsed', () => {
    const { problem } = decodeOrProblem({ ...EDGE_HEADERS }, Buffer.alloc(MAX_BODY_BYTES + 1, 0x20))
    expect(problem?.statusCode).toBe(413)
  })
})

describe('parseEvent on values no JSON parser makes', () => {
  // A host may hand over an object of its own (the SDK, a queue client); whatever it
  // is, the answer is a frozen event or EventValidationError.
  const anything = fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withSparseArray: true,
    withTypedArray: true,
    maxDepth: 3,
  })
  const where = fc.constantFrom('event', 'data', 'capability', 'params', 'id', 'extension')

  it('returns an event or throws EventValidationError, wherever the value sits', () => {
    fc.assert(
      fc.property(anything, where, (value, at) => {
        const input: Record<string, unknown> = structured({
          app: 'checkout',
          environment: 'dev',
          capabilities: [{ name: 'db', type: 'secret', params: { key: 'db' } }],
        })
        const data = input.data as { capabilities: Record<string, unknown>[] }
        if (at === 'data') input.data = value
        if (at === 'capability') data.capabilities[0] = value as Record<string, unknown>
        if (at === 'params') (data.capabilities[0] as Record<string, unknown>).params = value
        if (at === 'id') input.id = value
        if (at === 'extension') input.myext = value
        thrownBy(EventValidationError, () =>
          timed(1_000, () => parseEvent(at === 'event' ? value : input)),
        )
      }),
      { numRuns: 1500 },
    )
  })

  it('refuses a typed array, a Date or a Map where JSON belongs (they would pass the schema as objects)', () => {
    for (const params of [new Float32Array([1, 2]), new Date(0), new Map([['k', 'v']])]) {
      const input = structured({
        app: 'checkout',
        environment: 'dev',
        capabilities: [{ name: 'db', type: 'secret', params }],
      })
      expect(thrownBy(EventValidationError, () => parseEvent(input))?.message).toMatch(
        /params: must be JSON/,
      )
    }
  })

  it('a cyclic value is refused by the depth limit, not by a stack overflow', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    const error = thrownBy(EventValidationError, () =>
      parseEvent(structured({ app: 'checkout', environment: 'dev', capabilities: [], x: cycle })),
    )
    expect(error?.message).toMatch(/nests deeper than 32 levels/)
  })
})

/** A manifest's text from a JSON-ish value, with YAML features mixed in. */
const yamlManifest = fc
  .record({
    capabilities: fc.array(
      fc.record(
        {
          name: fc.oneof(fc.constantFrom('db', '../db', 'a/b', ''), fc.string()),
          type: fc.oneof(fc.constantFrom('postgres', 'secret'), fc.jsonValue({ maxDepth: 1 })),
          class: fc.jsonValue({ maxDepth: 1 }),
          params: fc.oneof(
            fc.dictionary(fc.string(), fc.oneof(secret, fc.jsonValue({ maxDepth: 2 }))),
            fc.jsonValue({ maxDepth: 1 }),
          ),
        },
        { requiredKeys: [] },
      ),
    ),
    useScore: fc.boolean(),
    extra: fc.jsonValue({ maxDepth: 2 }),
  })
  .map(({ capabilities, useScore, extra }) => {
    const doc = useScore
      ? {
          apiVersion: 'score.dev/v1b1',
          metadata: { name: 'checkout' },
          resources: Object.fromEntries(
            capabilities.map((c, i) => [typeof c.name === 'string' ? c.name : `r${i}`, c]),
          ),
          extra,
        }
      : { capabilities: [...capabilities, extra] }
    return stringifyYaml(doc)
  })
const yamlNoise = fc.constantFrom(
  '',
  '%YAML 1.1\n---\n',
  'x: !!binary aGVsbG8=\n',
  'x: !!set { a, b }\n',
  'x: !custom tag\n',
  'x: &a [1]\ny: *a\n',
  'x: 2001-12-14t21:59:43.10-05:00\n',
  '__proto__: { polluted: yes }\n',
  'capabilities: [null, 1, "x", [], {}]\n',
)

describe('the manifest parser (parseManifestText + normalizeRequest)', () => {
  const parseAndNormalize = (text: string) =>
    timed(1_000, () =>
      normalizeRequest({
        app: 'checkout',
        environment: 'dev',
        ...parseManifestText(text, 'score.yaml'),
      }),
    )

  it('returns a request or throws ManifestError for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        thrownBy(ManifestError, () => parseAndNormalize(text))
      }),
      { numRuns: 800 },
    )
  })

  it('returns a request or throws ManifestError for any YAML document, never quoting a param value', () => {
    fc.assert(
      fc.property(yamlNoise, yamlManifest, (noise, text) => {
        const error = thrownBy(ManifestError, () => parseAndNormalize(`${noise}${text}`))
        if (!error) return
        expect(error.problems.length).toBeLessThanOrEqual(MAX_MANIFEST_PROBLEMS + 1)
        expect(containsSecret(error.message)).toBe(false)
      }),
      { numRuns: 600 },
    )
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  const bomb = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...'bcdefgh'.split('').map((k, i) => {
      const prev = 'abcdefgh'[i] as string
      return `${k}: &${k} [${Array(9).fill(`*${prev}`).join(',')}]`
    }),
  ].join('\n')

  it.each([
    ['a YAML alias bomb', `${bomb}\ncapabilities: [*h]\n`, /resource exhaustion/],
    [
      'flow arrays nested 10 000 deep',
      `capabilities: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
      /is not valid YAML/,
    ],
    [
      'flow maps nested 10 000 deep',
      `capabilities: [${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}]\n`,
      /is not valid YAML/,
    ],
    [
      'a list of scalars',
      'capabilities: [null, 1, "x", []]\n',
      /capabilities\[0\]: must be a mapping/,
    ],
    [
      'Score resources that are not mappings',
      'apiVersion: score.dev/v1b1\nmetadata: {name: a}\nresources: { db: null, q: 3 }\n',
      /score.resources.db: must be a mapping/,
    ],
    [
      'Score resources as a list',
      'apiVersion: score.dev/v1b1\nmetadata: {name: a}\nresources: [1, 2]\n',
      /score.resources: must be a mapping/,
    ],
    [
      'a __proto__ param',
      'capabilities:\n  - { name: db, type: secret, params: { __proto__: { polluted: yes } } }\n',
      /params.__proto__: must be a string, number or boolean/,
    ],
    [
      'a name with NUL, .., / and 10 000 characters',
      `capabilities:\n  - { name: "a\\0b", type: secret }\n  - { name: "..", type: secret }\n  - { name: "a/b", type: secret }\n  - { name: ${'x'.repeat(10_000)}, type: secret }\n  - { name: "a\\0b", type: secret }\n`,
      /duplicate capability name/,
    ],
    [
      '10 000 capabilities',
      `capabilities:\n${'  - { name: db, type: secret }\n'.repeat(10_000)}`,
      /capabilities: has 10000 capabilities; at most 100/,
    ],
    [
      'params that are a string',
      'capabilities:\n  - { name: db, type: secret, params: "key=x" }\n',
      /params: must be a mapping/,
    ],
  ])('%s: a ManifestError saying what is wrong, quickly', (_what, text, message) => {
    const error = thrownBy(ManifestError, () => parseAndNormalize(text))
    expect(error?.message).toMatch(message)
    expect(error?.message.length).toBeLessThan(20_000)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('prints nothing to stderr for a tag it does not know', () => {
    const warnings: unknown[] = []
    const listen = (w: unknown) => warnings.push(w)
    process.on('warning', listen)
    try {
      thrownBy(ManifestError, () => parseAndNormalize('capabilities:\n  - !custom { name: db }\n'))
    } finally {
      process.off('warning', listen)
    }
    expect(warnings).toEqual([])
  })
})

describe('the catalog loader (parseCatalog)', () => {
  type Path = (string | number)[]
  const pathsOf = (value: unknown, at: Path = [], out: Path[] = []): Path[] => {
    out.push(at)
    if (value !== null && typeof value === 'object')
      for (const key of Object.keys(value))
        pathsOf(
          (value as Record<string, unknown>)[key],
          [...at, Array.isArray(value) ? Number(key) : key],
          out,
        )
    return out
  }
  const odd = fc.oneof(
    fc.string(),
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(
      '__proto__',
      'constructor',
      '',
      '*',
      '{app}',
      '{params.__proto__}',
      '{',
      '}',
      '../x',
      '1e400',
      -1,
    ),
  )

  it.each([
    ['the design catalog', DESIGN_CATALOG],
    ['the triggers example', TRIGGER_CATALOG],
  ])('loads or throws CatalogError for any edit of %s', (_name, text) => {
    const original = parseYaml(text) as Record<string, unknown>
    const paths = pathsOf(original).filter((p) => p.length > 0)
    const edit = fc.tuple(
      fc.nat(paths.length - 1),
      odd,
      fc.boolean(),
      fc.constantFrom('__proto__', 'constructor', 'extra', 'toString'),
    )
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        const doc = structuredClone(original)
        for (const [i, value, addKey, key] of edits) {
          const path = paths[i] as Path
          let parent: unknown = doc
          for (const segment of path.slice(0, -1))
            parent = (parent as Record<string | number, unknown> | null)?.[segment]
          if (parent === null || typeof parent !== 'object') continue
          // defineProperty: a `__proto__` key becomes an own key, as YAML would write it.
          const name = addKey && !Array.isArray(parent) ? key : (path.at(-1) as string)
          Object.defineProperty(parent, name, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          })
        }
        thrownBy(CatalogError, () =>
          timed(2_000, () => parseCatalog(stringifyYaml(doc), 'capbroker.yaml')),
        )
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      }),
      { numRuns: 400 },
    )
  })

  it('loads or throws CatalogError for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        thrownBy(CatalogError, () => timed(1_000, () => parseCatalog(text, 'capbroker.yaml')))
      }),
      { numRuns: 500 },
    )
  })

  const withStores = (extra: string) => DESIGN_CATALOG.replace('stores:', `stores:\n${extra}`)
  it.each([
    [
      'an alias bomb',
      `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`,
      /resource exhaustion/,
    ],
    [
      'flow arrays nested 100 000 deep',
      `version: 1\nstores: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
      /YAML syntax error/,
    ],
    [
      'flow maps nested 10 000 deep',
      `version: 1\nstores: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`,
      /YAML syntax error/,
    ],
    [
      'more than 1 MiB',
      `# ${'x'.repeat(MAX_CATALOG_BYTES)}\n${DESIGN_CATALOG}`,
      /larger than 1048576 bytes/,
    ],
    [
      'a __proto__ store',
      withStores('  __proto__: { adapter: local }'),
      /stores: unknown property "__proto__"/,
    ],
    [
      'a __proto__ option',
      DESIGN_CATALOG.replace(
        'local: { adapter: local }',
        'local: { adapter: local, __proto__: { polluted: yes } }',
      ),
      /unknown property "__proto__"/,
    ],
    [
      'a constructor option',
      DESIGN_CATALOG.replace(
        'local: { adapter: local }',
        'local: { adapter: local, constructor: x }',
      ),
      /unknown property "constructor"/,
    ],
    [
      'a __proto__ environment',
      DESIGN_CATALOG.replace(
        'environments:',
        'environments:\n  __proto__: { inject: { to: service-binding, root: x } }',
      ),
      /environments/,
    ],
    [
      'a __proto__ output',
      DESIGN_CATALOG.replace('outputs: {', 'outputs: { __proto__: x,'),
      /outputs/,
    ],
    [
      'a template variable {params.__proto__} with a bad root',
      DESIGN_CATALOG.replace('key: "postgres/{app}"', 'key: "postgres/{__proto__}"'),
      /unknown variable \{__proto__\}/,
    ],
  ])('%s: a CatalogError, quickly', (_what, text, message) => {
    const error = thrownBy(CatalogError, () =>
      timed(3_000, () => parseCatalog(text, 'capbroker.yaml')),
    )
    expect(error?.message).toMatch(message)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('an environment or app named constructor is just a name', () => {
    const catalog = parseCatalog(
      DESIGN_CATALOG.replace('  dev:\n', '  constructor:\n').replace(
        'environments: [dev]',
        'environments: [constructor]',
      ),
      'capbroker.yaml',
    )
    expect(catalog.environments.has('constructor')).toBe(true)
    expect(catalog.environments.has('toString')).toBe(false)
    expect(catalog.findClass('postgres', undefined, 'toString')).toBeUndefined()
    expect(
      catalog.policy.decide({ app: 'constructor', environment: 'dev', type: 'secret' }).allowed,
    ).toBe(false)
  })
})

describe('the template engine', () => {
  const templates = fc.oneof(
    fc.string(),
    fc
      .array(
        fc.oneof(
          fc.constantFrom(
            '{app}',
            '{environment}',
            '{name}',
            '{params.key}',
            '{params.__proto__}',
            '{params.constructor}',
            '/',
            '-',
            '{',
            '}',
            '{}',
            '{params.}',
            '{{app}}',
          ),
          fc.stringMatching(/^[a-z/._-]{0,5}$/),
        ),
        { maxLength: 8 },
      )
      .map((parts) => parts.join('')),
  )
  const values = fc.oneof(
    secret,
    fc.constantFrom(
      '..',
      '../billing',
      '.',
      '*',
      '**',
      '%2e%2e%2f',
      'a/b',
      '\u0000',
      '\u2025',
      '／',
      'ok',
      'a..b',
      '',
    ),
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
  )
  const context = fc.record({
    app: fc.constantFrom('checkout', 'a/b'),
    environment: fc.constantFrom('dev', '..'),
    name: fc.oneof(fc.constant('db'), values.map(String)),
    params: fc.dictionary(fc.constantFrom('key', '__proto__', 'constructor', 'other'), values),
  })

  it('parseTemplate returns segments or throws TemplateSyntaxError', () => {
    fc.assert(
      fc.property(templates, (template) => {
        thrownBy(TemplateSyntaxError, () => parseTemplate(template))
      }),
      { numRuns: 1000 },
    )
  })

  it('renderTemplate substitutes only safe values, and never quotes one in an error', () => {
    const variables = fc.array(
      fc.constantFrom('{app}', '{environment}', '{name}', '{params.key}', '{params.constructor}'),
      { minLength: 1, maxLength: 4 },
    )
    fc.assert(
      fc.property(variables, context, (parts, ctx) => {
        const params = Object.assign(Object.create(null), ctx.params) as Record<
          string,
          string | number | boolean
        >
        const template = parts.join('/')
        let out: string
        try {
          out = renderTemplate(template, { ...ctx, params })
        } catch (error) {
          if (!(error instanceof TemplateValueError)) throw error
          expect(containsSecret(error.message)).toBe(false)
          for (const v of Object.values(params))
            if (String(v).length > 3) expect(error.message).not.toContain(String(v))
          return
        }
        // Every substituted value is one safe segment: the key has as many as the template.
        const segments = out.split('/')
        expect(segments).toHaveLength(parts.length)
        for (const segment of segments) {
          expect(segment).toMatch(TEMPLATE_VALUE)
          expect(segment).not.toContain('..')
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('renderTemplate throws only its two error types for any template and context', () => {
    fc.assert(
      fc.property(templates, context, (template, ctx) => {
        try {
          renderTemplate(template, ctx)
        } catch (error) {
          if (!(error instanceof TemplateSyntaxError || error instanceof TemplateValueError))
            throw error
        }
      }),
      { numRuns: 1000 },
    )
  })
})
