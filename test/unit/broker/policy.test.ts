import { describe, expect, it } from 'vitest'
import { picomatchGlobs } from '../../../broker/catalog/picomatch-globs.ts'
import { type GlobCompiler, packagedGlobs, recordGlobs } from '../../../broker/globs.ts'
import { Policy } from '../../../broker/policy.ts'

const RULES = [
  {
    apps: ['checkout'],
    environments: ['*'],
    types: ['postgres', 'secret'],
    keys: ['apps/checkout/*', 'rds/checkout-*', 'postgres/checkout'],
  },
  { apps: ['billing-*'], environments: ['dev'], types: ['*'], keys: ['**'] },
]

/** The Lambda functions' compiler: the globs of RULES as packaging stores them. */
function packaged(): GlobCompiler {
  const recording = recordGlobs(picomatchGlobs)
  new Policy(RULES, recording.compile)
  return packagedGlobs(JSON.parse(JSON.stringify(recording.recorded())), 'catalog.json')
}

describe.each([
  ['picomatch', picomatchGlobs],
  ['packaged regexes', packaged()],
])('Policy (globs compiled by %s)', (_, compile) => {
  const policy = new Policy(RULES, compile)

  it.each([
    [{ app: 'checkout', environment: 'prod', type: 'postgres', key: 'rds/checkout-prod' }, true],
    [{ app: 'checkout', environment: 'dev', type: 'secret', key: 'apps/checkout/stripe' }, true],
    [{ app: 'billing-api', environment: 'dev', type: 'queue', key: 'any/thing/deep' }, true],
    // deny by default and by every dimension
    [{ app: 'orders', environment: 'dev', type: 'secret', key: 'apps/orders/x' }, false],
    [{ app: 'checkout', environment: 'dev', type: 'redis', key: 'apps/checkout/x' }, false],
    [{ app: 'checkout', environment: 'dev', type: 'secret', key: 'apps/billing/stripe' }, false],
    [{ app: 'checkout', environment: 'dev', type: 'secret', key: 'apps/checkout/a/b' }, false],
    [{ app: 'billing-api', environment: 'prod', type: 'queue', key: 'x' }, false],
  ])('%o → %s', (subject, allowed) => {
    expect(policy.decide(subject).allowed).toBe(allowed)
  })

  it('denies everything without rules', () => {
    expect(new Policy([], compile).decide({ app: 'a', environment: 'b', type: 'c' }).allowed).toBe(
      false,
    )
  })

  it('says which part was refused', () => {
    const byType = policy.decide({ app: 'checkout', environment: 'dev', type: 'redis' })
    expect(byType.allowed === false && byType.message).toMatch(/type "redis"/)
    const byKey = policy.decide({
      app: 'checkout',
      environment: 'dev',
      type: 'secret',
      key: 'apps/billing/x',
    })
    expect(byKey.allowed === false && byKey.message).toMatch(/key "apps\/billing\/x"/)
  })
})
