import { describe, expect, it } from 'vitest'
import { ManifestError, normalizeRequest, parseManifestText } from '../../../broker/index.ts'

function problems(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError)
    return (error as Error).message
  }
  throw new Error('expected a ManifestError')
}

describe('normalizeRequest', () => {
  it('normalizes the native list', () => {
    const r = normalizeRequest({
      app: 'checkout',
      environment: 'dev',
      capabilities: [{ name: 'db', type: 'postgres', params: { size: 2 } }],
    })
    expect(r.capabilities).toEqual([{ name: 'db', type: 'postgres', params: { size: 2 } }])
  })

  it('normalizes a Score workload to the same shape (id and metadata accepted)', () => {
    const native = normalizeRequest({
      app: 'checkout',
      environment: 'dev',
      capabilities: [
        { name: 'db', type: 'postgres', class: 'large' },
        { name: 'stripe', type: 'secret', params: { key: 'stripe' } },
      ],
    })
    const score = normalizeRequest({
      app: 'checkout',
      environment: 'dev',
      score: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name: 'checkout' },
        resources: {
          db: { type: 'postgres', class: 'large', id: 'shared-db', metadata: { annotations: {} } },
          stripe: { type: 'secret', params: { key: 'stripe' } },
        },
      },
    })
    expect(JSON.parse(JSON.stringify(score))).toEqual(JSON.parse(JSON.stringify(native)))
  })

  it.each([
    [{ app: 'a', environment: 'dev' }, /exactly one of "capabilities".*"score"/],
    [
      {
        app: 'a',
        environment: 'dev',
        capabilities: [],
        score: { apiVersion: 'score.dev/v1b1', metadata: { name: 'a' } },
      },
      /exactly one/,
    ],
    [
      {
        app: 'a',
        environment: 'dev',
        capabilities: [
          { name: 'db', type: 'x' },
          { name: 'db', type: 'y' },
        ],
      },
      /capabilities\[1\].name: duplicate capability name "db"/,
    ],
    [
      {
        app: 'a',
        environment: 'dev',
        score: {
          apiVersion: 'score.dev/v1b1',
          metadata: { name: 'a' },
          resources: { '../etc': { type: 'secret' } },
        },
      },
      /score.resources."..\/etc": resource name must match/,
    ],
    [
      {
        app: 'a',
        environment: 'dev',
        score: {
          apiVersion: 'score.dev/v1b1',
          metadata: { name: 'a' },
          resources: { db: { type: 'Postgres!' } },
        },
      },
      /score.resources.db.type: must match/,
    ],
    [
      {
        app: 'a',
        environment: 'dev',
        score: {
          apiVersion: 'score.dev/v1b1',
          metadata: { name: 'a' },
          resources: { db: { type: 'postgres', params: { nested: { a: 1 } } } },
        },
      },
      /score.resources.db.params.nested: must be a string, number or boolean/,
    ],
  ])('rejects %j naming the capability and field', (data, message) => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
    expect(problems(() => normalizeRequest(data as any))).toMatch(message)
  })

  it('keeps __proto__ params as plain names', () => {
    const params = JSON.parse('{"__proto__": "x", "key": "y"}')
    const r = normalizeRequest({
      app: 'a',
      environment: 'dev',
      capabilities: [{ name: 'db', type: 'secret', params }],
    })
    expect(Object.getPrototypeOf(r.capabilities[0]?.params)).toBeNull()
    expect(r.capabilities[0]?.params.key).toBe('y')
    expect(({} as Record<string, unknown>).x).toBeUndefined()
  })
})

describe('parseManifestText', () => {
  it('reads a native capabilities file', () => {
    expect(
      parseManifestText('capabilities:\n  - { name: db, type: postgres }\n', 'capabilities.yaml'),
    ).toEqual({ capabilities: [{ name: 'db', type: 'postgres' }] })
  })

  it('reads a Score file', () => {
    const body = parseManifestText(
      'apiVersion: score.dev/v1b1\nmetadata: { name: checkout }\nresources:\n  db: { type: postgres }\n',
      'score.yaml',
    )
    expect(body.score?.resources?.db?.type).toBe('postgres')
  })

  it.each([
    ['capabilities: [', /score.yaml: is not valid YAML/],
    ['- a\n- b\n', /must be a mapping/],
    ['name: x\n', /neither a "capabilities" list nor a Score/],
  ])('rejects %j', (text, message) => {
    expect(problems(() => parseManifestText(text, 'score.yaml'))).toMatch(message)
  })
})
