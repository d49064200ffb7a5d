/**
 * The AWS host without AWS: configuration from the environment, the AWS-only store
 * registry (the endpoint override checked on the wire, against a loopback server), and
 * the broker it wires — over a memory store standing in for Secrets Manager, so what is
 * tested is the wiring: sinks, store kinds, catalog loading.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { SqliteStateStore } from '../../../adapters/sqlite/index.ts'
import { StoreSet } from '../../../adapters/store-set.ts'
import type { StoreConfig } from '../../../broker/catalog/schema.ts'
import { CatalogError, InvalidConfigError } from '../../../broker/errors.ts'
import type { AnyCloudEvent } from '../../../events/index.ts'
import { createBroker } from '../../../functions/aws-broker.ts'
import { awsStoreRegistry } from '../../../functions/aws-stores.ts'
import { catalogPath, eventBusName, readAwsClientSettings } from '../../../functions/environment.ts'
import { createHostLogger, lazy, prewarm } from '../../../functions/host.ts'
import { createJsonLogger } from '../../../server/logger.ts'
import { writePackagedCatalog } from '../../support/packaged-catalog.ts'
import { logCapture, requestedEvent } from './fixtures.ts'
import { WritableMemoryStore } from './writable-memory-store.ts'

describe('configuration from the environment', () => {
  it('names the missing or malformed variable', () => {
    expect(() => eventBusName({})).toThrow(/CAPBROKER_EVENT_BUS is not set/)
    expect(() => readAwsClientSettings({})).toThrow(/AWS_REGION is not set/)
    expect(() => readAwsClientSettings({ AWS_REGION: 'Ireland' })).toThrow(InvalidConfigError)
    expect(() =>
      readAwsClientSettings({ AWS_REGION: 'eu-west-1', CAPBROKER_AWS_ENDPOINT: 'moto:5000' }),
    ).toThrow(/CAPBROKER_AWS_ENDPOINT must be an http\(s\) URL/)
    expect(
      readAwsClientSettings({
        AWS_REGION: 'eu-west-1',
        CAPBROKER_AWS_ENDPOINT: 'http://127.0.0.1:5000',
      }),
    ).toEqual({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:5000' })
  })

  it('finds the catalog next to the unpacked function unless told otherwise', () => {
    expect(catalogPath({ LAMBDA_TASK_ROOT: '/var/task' })).toBe(
      '/var/task/.capbroker-package/catalog.json',
    )
    expect(
      catalogPath({ LAMBDA_TASK_ROOT: '/var/task', CAPBROKER_CATALOG: 'conf/prod.yaml' }),
    ).toBe('/var/task/conf/prod.yaml')
    expect(catalogPath({ LAMBDA_TASK_ROOT: '/var/task', CAPBROKER_CATALOG: '/opt/c.yaml' })).toBe(
      '/opt/c.yaml',
    )
  })

  it('builds a part once, and again after a failed build', () => {
    const env: Record<string, string> = {}
    let builds = 0
    const bus = lazy(() => {
      builds++
      return { name: eventBusName(env) }
    })
    expect(() => bus()).toThrow(/CAPBROKER_EVENT_BUS/)
    env.CAPBROKER_EVENT_BUS = 'capbroker'
    expect(bus()).toBe(bus())
    expect(builds).toBe(2)
  })

  it('prewarms only inside Lambda, and logs a configuration error instead of throwing', () => {
    const log = logCapture()
    const logger = createJsonLogger({ write: log.write })
    const part = vi.fn(() => eventBusName({}))
    prewarm({}, logger, part)
    expect(part).not.toHaveBeenCalled()
    prewarm({ AWS_LAMBDA_FUNCTION_NAME: 'capbroker-resolve' }, logger, part)
    expect(log.records()).toEqual([
      expect.objectContaining({
        level: 'error',
        error: 'InvalidConfigError',
        detail: expect.stringContaining('CAPBROKER_EVENT_BUS'),
      }),
    ])
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    createHostLogger({ CAPBROKER_LOG_LEVEL: 'loud' }).info('still logged')
    const written = stdout.mock.calls.map(([line]) => String(line)).join('')
    stdout.mockRestore()
    expect(written).toMatch(/"msg":"logging at info".*CAPBROKER_LOG_LEVEL must be one of/)
    expect(written).toContain('still logged')
  })
})

describe('the AWS-only store registry', () => {
  let server: Server
  let url: string
  const seen: { host: string | undefined; target: string | undefined }[] = []
  beforeAll(async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test')
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true')
    server = createServer((req, res) => {
      seen.push({ host: req.headers.host, target: req.headers['x-amz-target'] as string })
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
      res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not here' }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  })
  afterAll(async () => {
    vi.unstubAllEnvs()
    await new Promise((resolve) => server.close(resolve))
  })

  const lambdaContext = { home: '', cwd: process.cwd() }
  const configs = (endpoint: string) =>
    new Map<string, StoreConfig>([
      ['aws', { adapter: 'aws-secrets-manager', region: 'eu-west-1', endpoint }],
      ['laptop', { adapter: 'local' }],
      ['gcp', { adapter: 'gcp-secret-manager', project: 'acme-prod' }],
      ['azure', { adapter: 'azure-key-vault', vaultUrl: 'https://acme.vault.azure.net' }],
    ])

  it.each(['laptop', 'gcp', 'azure'])(
    'refuses the %s store: not in the Lambda build',
    async (name) => {
      const stores = new StoreSet(configs(url), awsStoreRegistry(), lambdaContext, { retries: 0 })
      const error = await stores.get(name).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidConfigError)
      expect((error as Error).message).toMatch(
        new RegExp(`^store "${name}": adapter ".+" is not available in the AWS Lambda build`),
      )
    },
  )

  it('talks to the catalog endpoint, or to CAPBROKER_AWS_ENDPOINT when that is set', async () => {
    const direct = new StoreSet(configs(url), awsStoreRegistry(), lambdaContext, { retries: 0 })
    const aws = await direct.get('aws')
    expect(aws.provider).toBe('aws-secrets-manager')
    expect(await direct.get('aws')).toBe(aws)
    // The loopback server answers every call with an error: only where it went matters.
    await aws.read([{ key: 'apps/checkout/stripe' }]).catch(() => undefined)
    expect(seen.at(-1)).toEqual({
      host: url.slice(7),
      target: 'secretsmanager.BatchGetSecretValue',
    })

    // The catalog points nowhere; the override wins.
    const overridden = new StoreSet(
      configs('http://127.0.0.1:9'),
      awsStoreRegistry({ endpoint: url }),
      lambdaContext,
      { retries: 0 },
    )
    seen.length = 0
    const store = await overridden.get('aws')
    await store.read([{ key: 'apps/checkout/stripe' }]).catch(() => undefined)
    expect(seen).toHaveLength(1)
    await Promise.all([direct.close(), overridden.close()])
  })
})

describe('the broker of the AWS host', () => {
  const home = mkdtempSync(join(tmpdir(), 'capbroker-host-'))
  afterAll(() => rmSync(home, { recursive: true, force: true }))
  const catalogFile = writePackagedCatalog(
    home,
    `version: 1
stores:
  aws: { adapter: aws-secrets-manager, region: eu-west-1 }
  laptop: { adapter: local }
environments:
  prod: { inject: { to: store, store: aws, name: "capbroker/{app}/{environment}" } }
  dev: { inject: { to: service-binding, root: .capbroker/bindings } }
classes:
  - { type: secret, environments: [prod, dev], store: aws, key: "apps/{app}/{params.key}" }
  - { type: notes, store: laptop, key: "notes/{app}" }
policies:
  - { apps: [checkout], environments: ["*"], types: ["*"], keys: ["apps/checkout/*", "notes/checkout"] }
`,
  )

  function wire() {
    const memory = new WritableMemoryStore({ 'apps/checkout/stripe': 'sk_test_123' })
    const published: AnyCloudEvent[] = []
    const state = new SqliteStateStore({ home })
    const { broker } = createBroker(
      { AWS_REGION: 'eu-west-1', CAPBROKER_CATALOG: catalogFile },
      {
        bus: { publish: async (events) => void published.push(...events) },
        state,
        logger: createJsonLogger({ write: () => {} }),
        registry: { ...awsStoreRegistry(), 'aws-secrets-manager': async () => () => memory },
      },
    )
    return { broker, memory, published, state }
  }

  const request = (id: string, environment: string, capabilities: unknown[]) => ({
    ...requestedEvent(id),
    subject: `checkout/${environment}`,
    data: { app: 'checkout', environment, capabilities },
  })

  it('injects into the bundle secret of the store sink', async () => {
    const { broker, memory, published, state } = wire()
    const stripe = { name: 'stripe', type: 'secret', params: { key: 'stripe' } }
    const result = await broker.handle(request('h-1', 'prod', [stripe]) as never)
    expect(result.status).toBe('resolved')
    expect(JSON.parse(memory.current('capbroker/checkout/prod') ?? '')).toEqual({
      stripe: { type: 'secret', provider: 'aws-secrets-manager', value: 'sk_test_123' },
    })
    expect(published.map((e) => e.type)).toContain('io.capbroker.binding.injected.v1')
    await state.close()
  })

  it('fails a service-binding environment and a non-AWS store with messages that say why', async () => {
    const { broker, state } = wire()
    const stripe = { name: 'stripe', type: 'secret', params: { key: 'stripe' } }
    const dev = await broker.handle(request('h-2', 'dev', [stripe]) as never)
    expect(dev.capabilities[0]?.reason).toMatchObject({
      code: 'INJECTION_FAILED',
      message: expect.stringMatching(
        /service-binding files, which the AWS Lambda build cannot write/,
      ),
    })
    const notes = await broker.handle(
      request('h-3', 'prod', [{ name: 'notes', type: 'notes' }]) as never,
    )
    expect(notes.capabilities[0]?.reason).toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringContaining('not available in the AWS Lambda build'),
    })
    await state.close()
  })

  it('refuses a YAML catalog: the functions read the JSON packaging writes, and say so', () => {
    const yaml = join(home, 'capbroker.yaml')
    writeFileSync(yaml, 'version: 1\nstores: {}\n')
    const given = () =>
      createBroker(
        { AWS_REGION: 'eu-west-1', CAPBROKER_CATALOG: yaml },
        { bus: { publish: async () => {} }, state: {} as never, logger: createJsonLogger() },
      )
    expect(given).toThrow(CatalogError)
    expect(given).toThrow(/is not JSON[\s\S]*npm run package[\s\S]*catalog\.json/)
  })

  it('names the catalog file and the variable when the catalog is missing', () => {
    const missing = () =>
      createBroker(
        { AWS_REGION: 'eu-west-1', LAMBDA_TASK_ROOT: home, CAPBROKER_CATALOG: 'nope.yaml' },
        { bus: { publish: async () => {} }, state: {} as never, logger: createJsonLogger() },
      )
    expect(missing).toThrow(CatalogError)
    expect(missing).toThrow(/nope\.yaml[\s\S]*CAPBROKER_CATALOG/)
  })
})
