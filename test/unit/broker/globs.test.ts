import fc from 'fast-check'
import picomatch from 'picomatch'
import { describe, expect, it } from 'vitest'
import { picomatchGlobs } from '../../../broker/catalog/picomatch-globs.ts'
import { CatalogError } from '../../../broker/errors.ts'
import {
  type GlobCompiler,
  type GlobOptions,
  globMatcher,
  packagedGlobs,
  recordGlobs,
} from '../../../broker/globs.ts'

const GLOBS = [
  '*',
  'prod-*',
  '{staging,prod}',
  'apps/checkout/*',
  '**',
  '?',
  '[a-c]*',
  '!x',
  '.hidden*',
  'rds/checkout-prod',
  'certs/api.example.com',
  'a/**/b',
  '[a]',
  '*.d',
  'a/*/c',
  '+(a|b)',
]

const INPUTS = [
  '',
  'x',
  '!x',
  'a',
  'b',
  'd',
  'prod',
  'prod-eu',
  'prod-',
  'staging',
  'apps/checkout/stripe',
  'apps/checkout/a/b',
  'apps/checkout/',
  'apps/checkout/.env',
  '.hidden',
  '.hidden-file',
  'x.hidden',
  'rds/checkout-prod',
  'rds/checkout-prod-old',
  'certs/api.example.com',
  'certs/apiXexampleYcom',
  'a/b',
  'a/b/c',
  'a/x/y/b',
  'a/.x/b',
  'a/',
  'a/b/',
  '[a]',
  '.d',
  'x.d',
  'a\\b',
  'ab',
]

const OPTIONS: GlobOptions[] = [{ dot: true }, { dot: false }]

/** What the Lambda functions get: the table packaging records, through JSON. */
function packagedCompiler(globs: readonly string[]): GlobCompiler {
  const recording = recordGlobs(picomatchGlobs)
  for (const options of OPTIONS) globMatcher(globs, options, recording.compile)
  return packagedGlobs(JSON.parse(JSON.stringify(recording.recorded())), 'catalog.json')
}

const picomatchMatcher = (globs: readonly string[], { dot }: GlobOptions) =>
  picomatch([...globs], { dot, nonegate: true, windows: false })

describe('globMatcher over the packaged table', () => {
  const packaged = packagedCompiler(GLOBS)

  it.each(OPTIONS)('agrees with picomatch on every glob and input (%o)', (options) => {
    for (const glob of GLOBS) {
      const matches = globMatcher([glob], options, packaged)
      const expected = picomatchMatcher([glob], options)
      for (const input of INPUTS)
        expect(matches(input), `${glob} ~ ${JSON.stringify(input)}`).toBe(expected(input))
    }
  })

  it('matches when any glob of a list matches, as picomatch([…]) does', () => {
    const lists = [['prod-*', 'staging'], ['apps/checkout/*', 'rds/checkout-*', '!x'], GLOBS]
    for (const list of lists)
      for (const options of OPTIONS) {
        const matches = globMatcher(list, options, packagedCompiler(list))
        const expected = picomatchMatcher(list, options)
        for (const input of INPUTS)
          expect(matches(input), `${list} ~ ${input}`).toBe(expected(input))
      }
  })

  it('keeps picomatch’s edges: no empty input, the glob itself, nonegate, dot', () => {
    const match = (glob: string, input: string, dot = false) =>
      globMatcher([glob], { dot }, packaged)(input)
    expect(match('**', '')).toBe(false)
    expect(match('[a]', '[a]')).toBe(true)
    expect(match('!x', '!x')).toBe(true)
    expect(match('!x', 'y')).toBe(false)
    expect(match('*', '.hidden')).toBe(false)
    expect(match('*', '.hidden', true)).toBe(true)
    expect(match('apps/checkout/*', 'apps/checkout/a/b')).toBe(false)
  })

  it('agrees with picomatch on any glob and input built from glob characters', () => {
    const text = (maxLength: number) =>
      fc
        .array(fc.constantFrom(...'ab.-/*?![]{},()|+@'.split('')), { minLength: 1, maxLength })
        .map((chars) => chars.join(''))
    fc.assert(
      fc.property(
        text(8),
        fc.array(text(10), { maxLength: 8 }),
        fc.boolean(),
        (glob, inputs, dot) => {
          const options = { dot }
          const matches = globMatcher([glob], options, packagedCompiler([glob]))
          const expected = picomatchMatcher([glob], options)
          for (const input of ['', glob, ...inputs]) expect(matches(input)).toBe(expected(input))
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('recordGlobs', () => {
  it('records each glob once per dot option, and compiles with the compiler it wraps', () => {
    const recording = recordGlobs(picomatchGlobs)
    const regex = recording.compile('prod-*', { dot: false })
    recording.compile('prod-*', { dot: false })
    recording.compile('prod-*', { dot: true })
    expect(regex.source).toBe(picomatchGlobs('prod-*', { dot: false }).source)
    expect(recording.recorded()).toEqual([
      { glob: 'prod-*', dot: false, regex: regex.source },
      { glob: 'prod-*', dot: true, regex: picomatchGlobs('prod-*', { dot: true }).source },
    ])
  })

  it('refuses a regex with flags, which its stored source would lose', () => {
    const recording = recordGlobs(() => /^a$/i)
    expect(() => recording.compile('a', { dot: false })).toThrow(/flags "i"/)
  })
})

describe('packagedGlobs', () => {
  it('names the glob, the file and the fix when the table lacks a glob', () => {
    const compile = packagedGlobs([{ glob: 'prod-*', dot: true, regex: '^prod-.*$' }], 'pkg.json')
    expect(() => compile('prod-*', { dot: false })).toThrow(CatalogError)
    expect(() => compile('staging-*', { dot: true })).toThrow(
      /pkg\.json[\s\S]*"staging-\*" \(dot: true\) was not compiled when the catalog was packaged; run `npm run package`/,
    )
  })

  it('refuses a malformed table, naming each entry', () => {
    const given = () =>
      packagedGlobs(
        [
          { glob: 'a', dot: true, regex: '^a$' },
          { glob: 'b', dot: 'yes', regex: '^b$' },
          'c',
          { glob: 'a', dot: true, regex: '^a$' },
          { glob: 'd', dot: false, regex: '(' },
        ],
        'pkg.json',
      )
    expect(given).toThrow(CatalogError)
    expect(given).toThrow(/pkg\.json: globs\[1\]: must be \{ glob: string, dot: boolean/)
    expect(given).toThrow(/pkg\.json: globs\[2\]: must be/)
    expect(given).toThrow(/globs\[3\]: lists "a" \(dot: true\) again/)
    expect(given).toThrow(/globs\[4\]\.regex: is not a regular expression/)
  })
})
