/**
 * Key templates: `rds/{app}-{environment}`, `apps/{app}/{params.key}`. Every substituted
 * value must match `[A-Za-z0-9._-]+` and may not contain `..`, so no `/`, traversal or
 * glob character can be smuggled into a key through a request.
 */

/** The characters a substituted value may have. */
export const TEMPLATE_VALUE = /^[A-Za-z0-9._-]+$/

/** What a template may refer to. */
export interface TemplateContext {
  readonly app: string
  readonly environment: string
  readonly name?: string
  readonly params?: Readonly<Record<string, string | number | boolean>>
}

type Segment = { readonly text: string } | { readonly variable: string }

/** A template that is not well formed, or refers to a variable that does not exist. */
export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError'
}

/** A value that may not be substituted (missing, or with characters outside the rule). */
export class TemplateValueError extends Error {
  override name = 'TemplateValueError'
  readonly variable: string
  constructor(variable: string, message: string) {
    super(message)
    this.variable = variable
  }
}

const VARIABLE = /^(app|environment|name|params\.[A-Za-z0-9_][A-Za-z0-9_.-]*)$/
const parsed = new Map<string, readonly Segment[]>()

/** Splits a template into text and variables; throws {@link TemplateSyntaxError}. */
export function parseTemplate(
  template: string,
  allowed: readonly string[] = ['app', 'environment', 'name', 'params'],
): readonly Segment[] {
  const cached = parsed.get(`${allowed.join(',')}\u0000${template}`)
  if (cached) return cached
  const segments: Segment[] = []
  let rest = template
  while (rest.length > 0) {
    const open = rest.indexOf('{')
    const close = rest.indexOf('}')
    if (close !== -1 && (open === -1 || close < open))
      throw new TemplateSyntaxError(`unmatched "}" in "${template}"`)
    if (open === -1) {
      segments.push({ text: rest })
      break
    }
    if (open > 0) segments.push({ text: rest.slice(0, open) })
    if (close === -1) throw new TemplateSyntaxError(`unclosed "{" in "${template}"`)
    const variable = rest.slice(open + 1, close)
    const root = variable.split('.')[0] ?? ''
    if (!VARIABLE.test(variable) || !allowed.includes(root)) {
      throw new TemplateSyntaxError(
        `unknown variable {${variable}} in "${template}" (use ${allowed.map((a) => (a === 'params' ? '{params.<key>}' : `{${a}}`)).join(', ')})`,
      )
    }
    segments.push({ variable })
    rest = rest.slice(close + 1)
  }
  parsed.set(`${allowed.join(',')}\u0000${template}`, segments)
  return segments
}

function lookup(variable: string, context: TemplateContext): string | number | boolean | undefined {
  if (variable.startsWith('params.')) {
    const key = variable.slice('params.'.length)
    return context.params && Object.hasOwn(context.params, key) ? context.params[key] : undefined
  }
  return context[variable as 'app' | 'environment' | 'name']
}

/**
 * Substitutes the context into a template. Throws {@link TemplateValueError} naming the
 * variable (never echoing the value) when a value is missing or breaks the rule.
 */
export function renderTemplate(template: string, context: TemplateContext): string {
  let out = ''
  for (const segment of parseTemplate(template)) {
    if ('text' in segment) {
      out += segment.text
      continue
    }
    const value = lookup(segment.variable, context)
    if (value === undefined)
      throw new TemplateValueError(
        segment.variable,
        `{${segment.variable}} has no value (the request must set it)`,
      )
    const text = String(value)
    if (!TEMPLATE_VALUE.test(text) || text.includes('..')) {
      throw new TemplateValueError(
        segment.variable,
        `{${segment.variable}} must match [A-Za-z0-9._-]+ without ".." (no "/", traversal or glob characters)`,
      )
    }
    out += text
  }
  return out
}
