/**
 * Policy: deny by default. A rule allows a capability when the app, the environment,
 * the type and the resolved key each match one of the rule's globs. Globs are
 * picomatch globs (`dot`, `nonegate`, never Windows paths), compiled by the
 * {@link GlobCompiler} given: picomatch itself on the YAML path, the regexes stored at
 * packaging in the Lambda functions (globs.ts). `*` does not cross `/` in keys, so
 * `apps/checkout/*` cannot reach `apps/checkout/../billing` (templates refuse `..`
 * anyway) nor `apps/checkout/a/b`.
 */
import type { PolicyConfig } from './catalog/schema.ts'
import { type GlobCompiler, globMatcher, type Matcher } from './globs.ts'

/** What is asked: who, where, what and which key. */
export interface PolicySubject {
  readonly app: string
  readonly environment: string
  readonly type: string
  /** The resolved key; absent when asking before planning (then keys are not checked). */
  readonly key?: string
}

/** The answer: allowed, or why not. */
export type PolicyDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly message: string }

interface CompiledRule {
  readonly apps: Matcher
  readonly environments: Matcher
  readonly types: Matcher
  readonly keys: Matcher
}

/** A compiled policy set; build once per catalog, with the catalog's {@link GlobCompiler}. */
export class Policy {
  readonly #rules: readonly CompiledRule[]

  constructor(rules: readonly PolicyConfig[], compile: GlobCompiler) {
    const matcher = (globs: readonly string[]) => globMatcher(globs, { dot: true }, compile)
    this.#rules = rules.map((r) => ({
      apps: matcher(r.apps),
      environments: matcher(r.environments),
      types: matcher(r.types),
      keys: matcher(r.keys),
    }))
  }

  /** Decides one subject. The message says which part no rule allowed. */
  decide(subject: PolicySubject): PolicyDecision {
    const candidates = this.#rules.filter(
      (r) => r.apps(subject.app) && r.environments(subject.environment) && r.types(subject.type),
    )
    if (candidates.length === 0) {
      return {
        allowed: false,
        message: `no policy allows app "${subject.app}" to use type "${subject.type}" in environment "${subject.environment}"`,
      }
    }
    if (subject.key !== undefined) {
      const key = subject.key
      if (!candidates.some((r) => r.keys(key))) {
        return {
          allowed: false,
          message: `no policy allows app "${subject.app}" to read key "${key}" in environment "${subject.environment}"`,
        }
      }
    }
    return { allowed: true }
  }
}
