import { describe, expect, it } from 'vitest'
import {
  parseTemplate,
  renderTemplate,
  TemplateSyntaxError,
  TemplateValueError,
} from '../../../broker/template.ts'

const context = {
  app: 'checkout',
  environment: 'dev',
  name: 'db',
  params: { key: 'stripe', n: 3, flag: true },
}

describe('renderTemplate', () => {
  it.each([
    ['rds/{app}-{environment}', 'rds/checkout-dev'],
    ['apps/{app}/{params.key}', 'apps/checkout/stripe'],
    ['{name}/{params.n}/{params.flag}', 'db/3/true'],
    ['literal/only', 'literal/only'],
  ])('%s → %s', (template, expected) => {
    expect(renderTemplate(template, context)).toBe(expected)
  })

  it.each([
    ['../other', 'traversal'],
    ['..', 'parent'],
    ['a/b', 'slash'],
    ['*', 'glob star'],
    ['sec?', 'glob ?'],
    ['[ab]', 'glob class'],
    ['', 'empty'],
    ['a b', 'space'],
    ['a\u0000b', 'NUL'],
    ['x..y', 'embedded ..'],
  ])('refuses %j (%s) in params and names the variable, not the value', (value) => {
    const attempt = () =>
      renderTemplate('apps/{app}/{params.key}', { ...context, params: { key: value } })
    expect(attempt).toThrow(TemplateValueError)
    try {
      attempt()
    } catch (error) {
      expect((error as TemplateValueError).variable).toBe('params.key')
      if (value.length > 2) expect((error as Error).message).not.toContain(value)
    }
  })

  it('refuses a missing param', () => {
    expect(() => renderTemplate('apps/{params.missing}', context)).toThrow(
      /\{params.missing\} has no value/,
    )
  })

  it('does not read params from the prototype', () => {
    expect(() => renderTemplate('{params.constructor}', { ...context, params: {} })).toThrow(
      TemplateValueError,
    )
  })
})

describe('parseTemplate', () => {
  it.each([
    ['{bogus}', /unknown variable \{bogus\}/],
    ['{params}', /unknown variable/],
    ['a{app', /unclosed/],
    ['a}b', /unmatched/],
  ])('rejects %s', (template, message) => {
    expect(() => parseTemplate(template)).toThrow(TemplateSyntaxError)
    expect(() => parseTemplate(template)).toThrow(message)
  })

  it('restricts variables where asked (bundle names know only app and environment)', () => {
    expect(() => parseTemplate('capbroker/{app}/{name}', ['app', 'environment'])).toThrow(
      /unknown variable \{name\}/,
    )
    expect(parseTemplate('capbroker/{app}/{environment}', ['app', 'environment'])).toHaveLength(4)
  })
})
