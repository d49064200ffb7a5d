import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Catalog,
  parseCatalog,
  parsePackagedCatalog,
  picomatchGlobs,
} from '../../../broker/catalog/load.ts'
import { CatalogShape } from '../../../broker/generated/checks.ts'
import { listProblems } from '../../../events/problems.ts'
import {
  DEFAULT_PACKAGED_CATALOG,
  describePackagedCatalog,
  githubSecretStatements,
  packagedCatalogJson,
  packagedCatalogPath,
  READS_NO_SECRETS,
  resolveSecretStatements,
  secretAccessOf,
  secretArn,
  secretKeyPattern,
  secretNamePattern,
  slackSecretStatements,
  triggerSecretAccessOf,
} from '../../../infra/catalog-access.ts'

const MIXED = `
version: 1
stores:
  local: { adapter: local }
  aws: { adapter: aws-secrets-manager, region: eu-west-1 }
  us: { adapter: aws-secrets-manager, region: us-east-1 }
environments:
  dev: { inject: { to: service-binding, root: .capbroker/bindings } }
  prod: { inject: { to: store, store: aws, name: "capbroker/{app}/{environment}" } }
classes:
  - { type: postgres, environments: [prod], store: aws, key: "rds/{app}-{environment}" }
  - { type: postgres, environments: [dev], store: local, key: "postgres/{app}" }
  - { type: secret, store: us, key: "apps/{app}/{params.key}" }
  - { type: redis, store: aws, key: "rds/{app}-{environment}" }
`

describe('secretNamePattern', () => {
  it.each([
    ['rds/{app}-{environment}', 'rds/*-*-??????'],
    ['apps/{app}/{params.key}', 'apps/*/*-??????'],
    ['capbroker/{app}/{environment}', 'capbroker/*/*-??????'],
    ['{app}{environment}', '*-??????'],
    ['shared/stripe', 'shared/stripe-??????'],
    [
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/{app}',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/*',
    ],
    [
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:shared-AbCdEf',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:shared-AbCdEf*',
    ],
  ])('%s → %s', (template, pattern) => {
    expect(secretNamePattern(template)).toBe(pattern)
  })
})

const TRIGGERS = `${MIXED}
git:
  repos:
    acme/checkout:
      app: checkout
      webhookSecret: { store: aws, key: github/webhook-secret }
      token: { store: us, key: github/token }
    acme/ledger:
      app: ledger
      webhookSecret: { store: aws, key: github/webhook-secret }
    acme/local:
      app: local
      webhookSecret: { store: local, key: github/local-secret }
chatops:
  slack:
    teams: [T0123ABCD]
    signingSecret: { store: aws, key: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:slack-AbCdEf" }
    users: { U0123ABCD: [checkout] }
    environments: [dev]
`

describe('secretKeyPattern', () => {
  it.each([
    ['github/webhook-secret', 'github/webhook-secret-??????'],
    [
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:slack-AbCdEf',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:slack-AbCdEf*',
    ],
  ])('%s → %s (a literal name, no template)', (key, pattern) => {
    expect(secretKeyPattern(key)).toBe(pattern)
  })
})

describe('triggerSecretAccessOf', () => {
  it('takes the AWS trigger references per function, deduplicated, in their store region', () => {
    expect(triggerSecretAccessOf(parseCatalog(TRIGGERS, 'triggers.yaml'))).toEqual({
      github: [
        { region: 'eu-west-1', name: 'github/webhook-secret-??????' },
        { region: 'us-east-1', name: 'github/token-??????' },
      ],
      slack: [
        {
          region: 'eu-west-1',
          name: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:slack-AbCdEf*',
        },
      ],
    })
  })

  it('finds nothing in a catalog without git.repos and chatops.slack', () => {
    expect(triggerSecretAccessOf(parseCatalog(MIXED, 'mixed.yaml'))).toEqual({
      github: [],
      slack: [],
    })
  })
})

describe('trigger role statements', () => {
  const hook = { region: 'eu-west-1', name: 'github/hook-??????' }
  const bundle = { region: 'eu-west-1', name: 'capbroker/*/*-??????' }

  it('github: batch reads, its git secrets, and the bundles a release rewrites (never creates)', () => {
    expect(
      githubSecretStatements([hook], [bundle]).map((s) => [s.Sid, s.Action, s.Resource]),
    ).toEqual([
      ['BatchReadSecrets', ['secretsmanager:BatchGetSecretValue'], '*'],
      ['ReadGitSecrets', ['secretsmanager:GetSecretValue'], [secretArn(hook)]],
      [
        'RewriteBindingBundles',
        ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        [secretArn(bundle)],
      ],
    ])
    expect(githubSecretStatements([hook], []).map((s) => s.Sid)).toEqual([
      'BatchReadSecrets',
      'ReadGitSecrets',
    ])
  })

  it('slack: batch reads and the signing secret, nothing else', () => {
    expect(slackSecretStatements([hook]).map((s) => [s.Sid, s.Action, s.Resource])).toEqual([
      ['BatchReadSecrets', ['secretsmanager:BatchGetSecretValue'], '*'],
      ['ReadSigningSecret', ['secretsmanager:GetSecretValue'], [secretArn(hook)]],
    ])
  })

  it('denies every secret to a trigger the catalog gives none, rather than an empty policy', () => {
    expect(READS_NO_SECRETS).toMatchObject({ Effect: 'Deny', Resource: '*' })
    // Bundles alone grant github nothing: without a repository it never releases.
    expect(githubSecretStatements([], [bundle])).toEqual([READS_NO_SECRETS])
    expect(slackSecretStatements([])).toEqual([READS_NO_SECRETS])
  })
})

describe('secretAccessOf', () => {
  it('takes AWS class keys (deduplicated, in their store region) and AWS bundle names only', () => {
    expect(secretAccessOf(parseCatalog(MIXED, 'mixed.yaml'))).toEqual({
      read: [
        { region: 'eu-west-1', name: 'rds/*-*-??????' },
        { region: 'us-east-1', name: 'apps/*/*-??????' },
      ],
      bundles: [{ region: 'eu-west-1', name: 'capbroker/*/*-??????' }],
    })
  })
})

describe('resolveSecretStatements', () => {
  it('bounds reads by GetSecretValue, BatchGet on * only, writes on bundles only', () => {
    const statements = resolveSecretStatements(secretAccessOf(parseCatalog(MIXED, 'mixed.yaml')))
    expect(statements.map((s) => [s.Sid, s.Action, s.Resource])).toEqual([
      ['BatchReadSecrets', ['secretsmanager:BatchGetSecretValue'], '*'],
      [
        'ReadCatalogSecrets',
        ['secretsmanager:GetSecretValue'],
        [
          secretArn({ region: 'eu-west-1', name: 'rds/*-*-??????' }),
          secretArn({ region: 'us-east-1', name: 'apps/*/*-??????' }),
          secretArn({ region: 'eu-west-1', name: 'capbroker/*/*-??????' }),
        ],
      ],
      [
        'WriteBindingBundles',
        ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue'],
        [secretArn({ region: 'eu-west-1', name: 'capbroker/*/*-??????' })],
      ],
    ])
  })

  it('writes nothing when no environment injects into an AWS store', () => {
    const statements = resolveSecretStatements({
      read: [{ region: 'eu-west-1', name: 'rds/*-??????' }],
      bundles: [],
    })
    expect(statements.map((s) => s.Sid)).toEqual(['BatchReadSecrets', 'ReadCatalogSecrets'])
  })

  it('refuses a catalog with nothing on AWS: the deployment could not resolve anything', () => {
    expect(() => resolveSecretStatements({ read: [], bundles: [] })).toThrow(
      /serves nothing from an aws-secrets-manager store/,
    )
  })

  it('builds ARNs from pseudo-parameter Refs: Fn::Sub placeholders read as serverless.yml variables', () => {
    const arn = JSON.stringify(secretArn({ region: 'eu-west-1', name: 'rds/*-??????' }))
    expect(arn).not.toContain('${')
    expect(arn).toContain('AWS::Partition')
    expect(arn).toContain(':secretsmanager:eu-west-1:')
  })
})

describe('packagedCatalogPath', () => {
  const service = '/srv/capbroker'

  it('defaults to the example AWS catalog', () => {
    expect(packagedCatalogPath(service, {})).toBe(DEFAULT_PACKAGED_CATALOG)
    expect(packagedCatalogPath(service, { CAPBROKER_CATALOG: ' ' })).toBe(DEFAULT_PACKAGED_CATALOG)
  })

  it('takes CAPBROKER_CATALOG relative or absolute, inside the service directory', () => {
    expect(packagedCatalogPath(service, { CAPBROKER_CATALOG: 'config/capbroker.yaml' })).toBe(
      'config/capbroker.yaml',
    )
    expect(
      packagedCatalogPath(service, { CAPBROKER_CATALOG: '/srv/capbroker/ops/./capbroker.yaml' }),
    ).toBe('ops/capbroker.yaml')
  })

  it.each(['../capbroker.yaml', '/etc/capbroker.yaml', '.'])('refuses %s', (given) => {
    expect(() => packagedCatalogPath(service, { CAPBROKER_CATALOG: given })).toThrow(
      /must be a file inside the service directory/,
    )
  })
})

/** Globs in class environments and policies, picomatch's corners among them. */
const GLOBBED = `
version: 1
stores:
  local: { adapter: local }
  aws: { adapter: aws-secrets-manager, region: eu-west-1 }
environments:
  dev: { inject: { to: service-binding, root: .capbroker/bindings } }
  staging: { inject: { to: store, store: aws, name: "capbroker/{app}/{environment}" } }
  prod-eu: { inject: { to: store, store: aws, name: "capbroker/{app}/{environment}" } }
  prod-us: { inject: { to: store, store: aws, name: "capbroker/{app}/{environment}" } }
classes:
  - { type: postgres, environments: ["prod-*"], store: aws, key: "rds/{app}-{environment}" }
  - { type: postgres, environments: ["{dev,staging}"], store: local, key: "postgres/{app}" }
  - { type: secret, class: shared, environments: ["?ev", "[p-s]*"], store: aws, key: "shared/{params.key}" }
  - { type: secret, environments: ["*"], store: local, key: "apps/{app}/{params.key}" }
policies:
  - apps: [checkout]
    environments: ["*"]
    types: [postgres, secret]
    keys: ["apps/checkout/*", "rds/checkout-*", "postgres/checkout"]
  - { apps: ["billing-*", "!x"], environments: ["prod-*", dev], types: ["*"], keys: ["**"] }
  - { apps: ["?"], environments: ["[a-d]*", "{staging,prod-eu}"], types: [secret], keys: ["shared/.hidden*", "a/**/b"] }
`

describe('packagedCatalogJson', () => {
  it('gives the functions the same decisions as the YAML gives the embedded runtime', () => {
    const fromYaml = parseCatalog(GLOBBED, 'capbroker.yaml')
    const packaged = parsePackagedCatalog(packagedCatalogJson(fromYaml), 'catalog.json', '')
    // Which class, by position: the two catalogs hold equal but distinct documents.
    const classOf = (catalog: Catalog, type: string, cls: string | undefined, env: string) => {
      const found = catalog.findClass(type, cls, env)
      return found === undefined ? -1 : catalog.classes.indexOf(found)
    }
    const environments = ['dev', 'staging', 'prod-eu', 'prod-us', 'prod-', 'qa', '.dev', '']
    for (const environment of environments) {
      for (const type of ['postgres', 'secret', 'redis'])
        for (const cls of [undefined, 'shared'])
          expect(
            classOf(packaged, type, cls, environment),
            `${type}/${cls} in ${environment}`,
          ).toBe(classOf(fromYaml, type, cls, environment))
      for (const app of ['checkout', 'billing-api', 'billing-', 'x', '!x', 'a', 'ab', ''])
        for (const type of ['postgres', 'secret', 'queue'])
          for (const key of [
            undefined,
            'apps/checkout/stripe',
            'apps/checkout/a/b',
            'rds/checkout-prod-eu',
            'postgres/checkout',
            'shared/.hidden-token',
            'shared/hidden',
            'a/b',
            'a/x/.y/b',
            'anything/at/all',
          ]) {
            const subject = { app, environment, type, ...(key === undefined ? {} : { key }) }
            expect(packaged.policy.decide(subject), JSON.stringify(subject)).toEqual(
              fromYaml.policy.decide(subject),
            )
          }
    }
  })

  it('stores each glob once, and only the globs the catalog asks for', () => {
    const { globs } = JSON.parse(packagedCatalogJson(parseCatalog(GLOBBED, 'capbroker.yaml')))
    const keys = globs.map((g: { glob: string; dot: boolean }) => `${g.dot}:${g.glob}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(keys).toContain('false:prod-*')
    expect(keys).toContain('true:prod-*')
    expect(keys).toContain('true:shared/.hidden*')
    expect(keys).not.toContain('false:shared/.hidden*')
  })
})

describe('describePackagedCatalog', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'capbroker-catalog-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads, validates and describes the catalog', async () => {
    await writeFile(join(dir, 'capbroker.yaml'), MIXED)
    const described = await describePackagedCatalog(dir, { CAPBROKER_CATALOG: 'capbroker.yaml' })
    expect(described.path).toBe('capbroker.yaml')
    // The functions' copy: the validated document, its globs compiled, and their stamp,
    // as JSON, and no temporary file left.
    expect(described.runtimePath).toBe('.capbroker-package/catalog.json')
    const json = await readFile(join(dir, described.runtimePath), 'utf8')
    const prod = picomatchGlobs('prod', { dot: false }).source
    const dev = picomatchGlobs('dev', { dot: false }).source
    expect(JSON.parse(json)).toEqual({
      catalog: parseCatalog(MIXED, 'capbroker.yaml').document,
      globs: [
        { glob: 'prod', dot: false, regex: prod },
        { glob: 'dev', dot: false, regex: dev },
      ],
      stamp: expect.stringMatching(/^[0-9a-f]{16}\.[0-9a-f]{16}$/),
    })
    // Beside it, the problem lister the functions load on a failed check: a CommonJS
    // module that lists problems as the embedded runtime does.
    expect(described.problemsPath).toBe('.capbroker-package/problems.cjs')
    expect((await readdir(join(dir, '.capbroker-package'))).sort()).toEqual([
      'catalog.json',
      'problems.cjs',
    ])
    const lister = createRequire(import.meta.url)(join(dir, described.problemsPath)) as {
      listProblems: typeof listProblems
    }
    expect(lister.listProblems(CatalogShape, { version: 1 })).toEqual(
      listProblems(CatalogShape, { version: 1 }),
    )
    expect(described.secretStatements).toHaveLength(3)
    expect(described.githubSecretStatements).toEqual([READS_NO_SECRETS])
    expect(described.slackSecretStatements).toEqual([READS_NO_SECRETS])
  })

  it('gives the trigger roles the secrets of git.repos and chatops.slack', async () => {
    await writeFile(join(dir, 'triggers.yaml'), TRIGGERS)
    const described = await describePackagedCatalog(dir, { CAPBROKER_CATALOG: 'triggers.yaml' })
    const { github, slack } = triggerSecretAccessOf(parseCatalog(TRIGGERS, 'triggers.yaml'))
    const { bundles } = secretAccessOf(parseCatalog(TRIGGERS, 'triggers.yaml'))
    expect(described.githubSecretStatements).toEqual(githubSecretStatements(github, bundles))
    expect(described.slackSecretStatements).toEqual(slackSecretStatements(slack))
    expect(described.githubSecretStatements.map((s) => s.Sid)).toContain('RewriteBindingBundles')
  })

  it('fails packaging on an invalid catalog, naming the file and the problem', async () => {
    await writeFile(join(dir, 'broken.yaml'), MIXED.replace('region: us-east-1', 'regoin: x'))
    await expect(
      describePackagedCatalog(dir, { CAPBROKER_CATALOG: 'broken.yaml' }),
    ).rejects.toThrow(/broken\.yaml.*regoin/s)
  })

  it('fails on a missing catalog, naming it', async () => {
    await expect(
      describePackagedCatalog(dir, { CAPBROKER_CATALOG: 'missing.yaml' }),
    ).rejects.toThrow(/cannot read the catalog missing\.yaml/)
  })
})
