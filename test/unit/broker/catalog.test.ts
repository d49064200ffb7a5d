import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { packagedStamp } from '../../../broker/catalog/stamp.ts'
import { CatalogError, parseCatalog, parsePackagedCatalog } from '../../../broker/index.ts'
import { packagedCatalogJson } from '../../../infra/catalog-access.ts'

const design = readFileSync(new URL('../../support/design-catalog.yaml', import.meta.url), 'utf8')

function problemsOf(text: string): string {
  try {
    parseCatalog(text, 'capbroker.yaml')
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogError)
    return (error as Error).message
  }
  throw new Error('expected a CatalogError')
}

describe('parseCatalog', () => {
  it('loads the catalog exactly as DESIGN.md shows it', () => {
    const catalog = parseCatalog(design, 'capbroker.yaml')
    expect([...catalog.stores.keys()]).toEqual(['local', 'aws', 'gcp', 'azure'])
    expect(catalog.environments.get('prod')?.branches).toEqual(['main'])
    expect(catalog.cacheTtlMs).toBe(300_000)
  })

  it('matches classes by type and environment, first match wins', () => {
    const catalog = parseCatalog(design, 'capbroker.yaml')
    expect(catalog.findClass('postgres', undefined, 'prod')?.store).toBe('aws')
    expect(catalog.findClass('postgres', undefined, 'dev')?.store).toBe('local')
    expect(catalog.findClass('secret', undefined, 'prod')?.key).toBe('apps/{app}/{params.key}')
    expect(catalog.findClass('redis', undefined, 'dev')).toBeUndefined()
  })

  it('matches a class-specific entry only for that class', () => {
    const text = design.replace(
      'classes:                     # first match wins, top to bottom\n',
      'classes:\n  - { type: postgres, class: large, store: local, key: "big/{app}" }\n',
    )
    const catalog = parseCatalog(text, 'capbroker.yaml')
    expect(catalog.findClass('postgres', 'large', 'dev')?.key).toBe('big/{app}')
    expect(catalog.findClass('postgres', undefined, 'dev')?.key).toBe('postgres/{app}')
    expect(catalog.findClass('postgres', 'small', 'dev')?.key).toBe('postgres/{app}')
  })

  it('reads cache TTLs', () => {
    const catalog = parseCatalog(`${design}\ncache: { ttl: 30s }\n`, 'c.yaml')
    expect(catalog.cacheTtlMs).toBe(30_000)
  })

  it.each([
    [
      'a typo in store options',
      (t: string) => t.replace('region: eu-west-1', 'regoin: eu-west-1'),
      /capbroker.yaml:4:\d+: stores.aws: unknown property "regoin"/,
    ],
    [
      'an unknown adapter',
      (t: string) => t.replace('adapter: local', 'adapter: vault'),
      /stores.local.adapter: unknown adapter "vault" \(expected one of local, aws-secrets-manager/,
    ],
    [
      'an unknown store in a class',
      (t: string) =>
        t.replace('store: local\n    key: "postgres', 'store: locl\n    key: "postgres'),
      /capbroker.yaml:22:\d+: classes\[1\].store: unknown store "locl"/,
    ],
    [
      'an unknown template variable',
      (t: string) => t.replace('{params.key}', '{param.key}'),
      /classes\[2\].key: unknown variable \{param.key\}/,
    ],
    [
      'an unknown environment in a class',
      (t: string) => t.replace('environments: [prod]', 'environments: [production]'),
      /classes\[0\].environments\[0\]: unknown environment "production"/,
    ],
    [
      'a secret entry that is not an output',
      (t: string) => t.replace('secret: [password]', 'secret: [pasword]'),
      /classes\[0\].secret\[0\]: "pasword" is not one of the outputs/,
    ],
    [
      'a reserved output name',
      (t: string) => t.replace('host: host,', 'type: host,'),
      /classes\[0\].outputs.type: "type" is written by the broker/,
    ],
    [
      'an unknown inject store',
      (t: string) => t.replace('to: store, store: aws', 'to: store, store: s3'),
      /environments.prod.inject.store: unknown store "s3"/,
    ],
    [
      'a missing key',
      (t: string) => t.replace('    key: "postgres/{app}"\n', ''),
      /capbroker.yaml:20:\d+: classes\[1\].key: is required/,
    ],
    ['a wrong version', (t: string) => t.replace('version: 1', 'version: 2'), /version: must be 1/],
    [
      'an unknown top-level key',
      (t: string) => `${t}\nextra: true\n`,
      /\(document\): unknown property "extra"/,
    ],
    ['a bad duration', (t: string) => `${t}\ncache: { ttl: soon }\n`, /cache.ttl/],
  ])('names the file, line, path and expectation for %s', (_what, edit, message) => {
    expect(problemsOf(edit(design))).toMatch(message)
  })

  it('reports every problem at once', () => {
    const text = design
      .replace('region: eu-west-1', 'regoin: eu-west-1')
      .replace('{params.key}', '{nope}')
    const message = problemsOf(text)
    expect(message).toMatch(/regoin/)
    expect(message).toMatch(/\{nope\}/)
  })

  it('gives line and column for a YAML syntax error', () => {
    expect(problemsOf('version: 1\nstores: {\n  a: [')).toMatch(
      /capbroker.yaml:3:\d+: \(document\): YAML syntax error/,
    )
  })

  it('refuses an alias bomb quickly', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
    ].join('\n')
    expect(problemsOf(bomb)).toMatch(/resource exhaustion/)
  })

  it('refuses an empty file and duplicate keys', () => {
    expect(problemsOf('')).toMatch(/is empty/)
    expect(problemsOf('version: 1\nversion: 1\n')).toMatch(/YAML syntax error.*[Uu]nique/)
  })

  it('refuses __proto__ as a store name', () => {
    expect(
      problemsOf(
        design.replace(
          '  local: { adapter: local }',
          '  __proto__: { adapter: local }\n  local: { adapter: local }',
        ),
      ),
    ).toMatch(/stores/)
  })
})

describe('parsePackagedCatalog without a stamp: the full check of the JSON form', () => {
  const hint = 'package it with npm run package'
  const unstamped = (document: unknown) =>
    JSON.stringify({
      catalog: document,
      globs: JSON.parse(packagedCatalogJson(parseCatalog(design, 'capbroker.yaml'))).globs,
    })

  it('builds the same catalog from the JSON form as from the YAML', () => {
    const fromYaml = parseCatalog(design, 'capbroker.yaml')
    const fromJson = parsePackagedCatalog(unstamped(fromYaml.document), 'catalog.json', hint)
    expect(fromJson.document).toEqual(fromYaml.document)
    expect(fromJson.findClass('postgres', undefined, 'prod')).toEqual(
      fromYaml.findClass('postgres', undefined, 'prod'),
    )
    expect(
      fromJson.policy.decide({ app: 'checkout', environment: 'prod', type: 'postgres' }),
    ).toEqual(fromYaml.policy.decide({ app: 'checkout', environment: 'prod', type: 'postgres' }))
  })

  it('checks the JSON as strictly as the YAML: the same problems, without line numbers', () => {
    const document = structuredClone(parseCatalog(design, 'capbroker.yaml').document) as {
      classes: { store: string }[]
    }
    ;(document.classes[0] as { store: string }).store = 'nowhere'
    let message = ''
    try {
      parsePackagedCatalog(unstamped(document), 'catalog.json', hint)
    } catch (error) {
      expect(error).toBeInstanceOf(CatalogError)
      message = (error as Error).message
    }
    expect(message).toContain('catalog.json')
    expect(message).toContain('classes[0].store: unknown store "nowhere"')
  })

  it('refuses YAML (or anything not JSON) with the hint, and an empty or oversized file', () => {
    expect(() => parsePackagedCatalog(design, 'capbroker.yaml', hint)).toThrow(
      /capbroker\.yaml[\s\S]*is not JSON[\s\S]*package it with npm run package/,
    )
    expect(() => parsePackagedCatalog(design, 'capbroker.yaml', hint)).not.toThrow(/version/)
    expect(() => parsePackagedCatalog('{"version": 1,', 'catalog.json', hint)).toThrow(
      /is not JSON \(at position 14/,
    )
    expect(() => parsePackagedCatalog(unstamped(null), 'catalog.json', hint)).toThrow(/is empty/)
    expect(() => parsePackagedCatalog(' '.repeat(1024 * 1024 + 1), 'catalog.json', hint)).toThrow(
      /larger than/,
    )
  })
})

describe('parsePackagedCatalog (what the Lambda functions read)', () => {
  const hint = 'the functions read what npm run package writes'
  const packaged = packagedCatalogJson(parseCatalog(design, 'capbroker.yaml'))

  it('reads what packaging writes, whose stamp matches', () => {
    const { catalog: document, globs, stamp } = JSON.parse(packaged)
    expect(stamp).toBe(packagedStamp(document, globs)) // the functions take the short path
    const catalog = parsePackagedCatalog(packaged, 'catalog.json', hint)
    expect(catalog.document).toEqual(parseCatalog(design, 'capbroker.yaml').document)
    expect(
      catalog.policy.decide({ app: 'checkout', environment: 'prod', type: 'postgres' }).allowed,
    ).toBe(true)
  })

  it.each([
    [
      'a plain JSON catalog',
      JSON.stringify(JSON.parse(packaged).catalog),
      /is a catalog document, not a packaged catalog/,
    ],
    ['YAML', design, /is not JSON/],
    ['a truncated file', packaged.slice(0, packaged.length / 2), /is not JSON \(at position/],
    [
      'an envelope without its globs',
      JSON.stringify({ catalog: JSON.parse(packaged).catalog }),
      /is not a packaged catalog \(expected \{ catalog, globs \}\)/,
    ],
    ['an array', '[]', /is not a packaged catalog/],
  ])('refuses %s, naming the file and where the right one comes from', (_, text, problem) => {
    const given = () => parsePackagedCatalog(text, '/var/task/catalog.json', hint)
    expect(given).toThrow(CatalogError)
    expect(given).toThrow(problem)
    expect(given).toThrow(/invalid catalog \/var\/task\/catalog\.json[\s\S]*npm run package writes/)
  })

  it('refuses an envelope whose catalog does not validate, as the YAML would be', () => {
    const envelope = JSON.parse(packaged)
    envelope.catalog.classes[0].store = 'nowhere'
    expect(() => parsePackagedCatalog(JSON.stringify(envelope), 'catalog.json', hint)).toThrow(
      /catalog\.json: classes\[0\]\.store: unknown store "nowhere"/,
    )
  })

  it('checks in full a file whose stamp does not match: edited, unstamped, or stamped by other checks', () => {
    const envelope = JSON.parse(packaged)
    // A valid edit reads as before: the check runs and passes.
    envelope.catalog.cache = { ttl: '1m' }
    expect(parsePackagedCatalog(JSON.stringify(envelope), 'catalog.json', hint).cacheTtlMs).toBe(
      60_000,
    )
    // An invalid catalog without a stamp, or under a stamp of other checks, is refused.
    const { catalog, globs } = JSON.parse(packaged)
    catalog.classes[0].store = 'nowhere'
    expect(() =>
      parsePackagedCatalog(JSON.stringify({ catalog, globs }), 'catalog.json', hint),
    ).toThrow(/catalog\.json: classes\[0\]\.store: unknown store "nowhere"/)
    const foreign = `0000000000000000.${packagedStamp(catalog, globs)?.split('.')[1]}`
    expect(() =>
      parsePackagedCatalog(
        JSON.stringify({ catalog, globs, stamp: foreign }),
        'catalog.json',
        hint,
      ),
    ).toThrow(/catalog\.json: classes\[0\]\.store: unknown store "nowhere"/)
  })

  it('builds a file whose stamp matches without checking it again: packaging did', () => {
    // Shown with what only a stamp forged by hand can carry: an invalid document.
    const { catalog, globs } = JSON.parse(packaged)
    catalog.classes[0].store = 'nowhere'
    const forged = JSON.stringify({ catalog, globs, stamp: packagedStamp(catalog, globs) })
    expect(parsePackagedCatalog(forged, 'catalog.json', hint).document.classes[0]?.store).toBe(
      'nowhere',
    )
  })

  it('names a glob the packaged table lacks, and how to get it', () => {
    const envelope = JSON.parse(packaged)
    envelope.globs = envelope.globs.filter((g: { glob: string }) => g.glob !== 'rds/checkout-*')
    expect(() => parsePackagedCatalog(JSON.stringify(envelope), 'catalog.json', hint)).toThrow(
      /catalog\.json: globs: the glob "rds\/checkout-\*" \(dot: true\) was not compiled when the catalog was packaged; run `npm run package`/,
    )
  })
})

describe('the published catalog JSON Schema', () => {
  const published = JSON.parse(
    readFileSync(new URL('../../../schemas/capbroker.schema.json', import.meta.url), 'utf8'),
  )

  it('accepts the DESIGN.md catalog and the example, and refuses a typo in store options', async () => {
    const { parse } = await import('yaml')
    const Value = (await import('typebox/value')).default
    const example = readFileSync(
      new URL('../../../examples/capbroker.yaml', import.meta.url),
      'utf8',
    )
    expect(Value.Check(published, parse(design))).toBe(true)
    expect(Value.Check(published, parse(example))).toBe(true)
    expect(
      Value.Check(published, parse(design.replace('region: eu-west-1', 'regoin: eu-west-1'))),
    ).toBe(false)
  })
})
