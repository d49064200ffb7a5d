/**
 * The resolve function builds its Secrets Manager clients during Lambda's init phase:
 * createBroker opens every store the catalog reads from or injects into, once, before
 * any request — and a store that cannot be opened is left to the request that needs it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { StoreFactory, StoreRegistry } from '../../../adapters/registry.ts'
import { createBroker, storesInUse } from '../../../functions/aws-broker.ts'
import { awsStoreRegistry } from '../../../functions/aws-stores.ts'
import { createJsonLogger } from '../../../server/logger.ts'
import { writePackagedCatalog } from '../../support/packaged-catalog.ts'
import { WritableMemoryStore } from './writable-memory-store.ts'

const dir = mkdtempSync(join(tmpdir(), 'capbroker-init-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const CATALOG = `version: 1
stores:
  secrets: { adapter: aws-secrets-manager, region: eu-west-1 }
  bundles: { adapter: aws-secrets-manager, region: eu-west-1 }
  unused: { adapter: aws-secrets-manager, region: eu-west-1 }
  laptop: { adapter: local }
environments:
  prod:
    inject: { to: store, store: bundles, name: "capbroker/{app}/{environment}" }
classes:
  - type: secret
    environments: [prod]
    store: secrets
    key: "apps/{app}/{params.key}"
  - type: secret
    store: laptop
    key: "apps/{app}/{params.key}"
policies: []
`

function wire(registry: StoreRegistry) {
  const file = writePackagedCatalog(dir, CATALOG)
  return createBroker(
    { AWS_REGION: 'eu-west-1', CAPBROKER_CATALOG: file },
    {
      bus: { publish: async () => {} },
      state: {} as never,
      logger: createJsonLogger({ write: () => {} }),
      registry,
    },
  )
}

const flush = () => new Promise((resolve) => setImmediate(resolve))

describe('createBroker at cold start', () => {
  it('names the stores the classes read and the sinks write, not the unused ones', () => {
    const { catalog } = wire(awsStoreRegistry())
    expect(storesInUse(catalog).sort()).toEqual(['bundles', 'laptop', 'secrets'])
  })

  it('opens each store in use once, before any request', async () => {
    const opened: string[] = []
    const factory: StoreFactory = (config) => {
      opened.push(String(config.region))
      return new WritableMemoryStore({})
    }
    const { stores } = wire({ ...awsStoreRegistry(), 'aws-secrets-manager': async () => factory })
    await flush()
    expect(opened).toHaveLength(2) // secrets and bundles; `unused` stays closed
    await stores.get('secrets')
    await stores.get('bundles')
    expect(opened).toHaveLength(2)
  })

  it('leaves a store that cannot be opened to the request that needs it', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const { stores } = wire(awsStoreRegistry())
      await flush()
      expect(unhandled).toEqual([])
      // The Lambda registry refuses `local`; the error reaches whoever asks for it.
      await expect(stores.get('laptop')).rejects.toThrow(/not available in the AWS Lambda build/)
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
