import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCatalog } from '../../../broker/catalog/load.ts'
import {
  DEFAULT_PACKAGED_CATALOG,
  describePackagedCatalog,
  packagedCatalogPath,
  resolveSecretStatements,
  secretAccessOf,
  secretArn,
  secretNamePattern,
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
    expect(described.secretStatements).toHaveLength(3)
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
