/**
 * Regressions: bugs the reliability suites found, each fixed, each kept here so it stays
 * fixed. In the emulators project because the DynamoDB case needs moto.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStateTable, DynamoDbStateStore } from '../../../adapters/dynamodb/index.ts'
import { LocalSecretStore } from '../../../adapters/local/index.ts'
import { parseCatalog } from '../../../broker/catalog/load.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import { type CloudEvent, EventTypes, parseEvent } from '../../../events/index.ts'
import { createBrokerServer } from '../../../server/app.ts'
import { createJsonLogger } from '../../../server/logger.ts'
import { createEmbeddedRuntime } from '../../../server/runtime.ts'
import { directClientConfig, uniqueName } from '../../emulators/aws/fixtures.ts'
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../../emulators/harness/moto.ts'
import { useMoto } from '../../emulators/harness/use-moto.ts'

describe('an /apps/<x> source with more path segments does not escape the app check', () => {
  it.each(['/apps/checkout/', '/apps/checkout/x', '/apps//checkout', '/apps/checkout/../billing'])(
    'source %s may not request for billing',
    async (source) => {
      const dir = mkdtempSync(join(tmpdir(), 'capbroker-pending-'))
      const store = new LocalSecretStore({ home: join(dir, 'home') })
      await store.write('apps/billing/s', new SecretValue('billing-value'))
      store.close()
      const runtime = createEmbeddedRuntime({
        catalog: parseCatalog(
          `version: 1
stores: { local: { adapter: local } }
environments: { dev: { inject: { to: service-binding, root: bindings } } }
classes: [{ type: secret, store: local, key: "apps/{app}/{name}" }]
policies: [{ apps: ["*"], environments: [dev], types: [secret], keys: ["apps/*/*"] }]
`,
          'capbroker.yaml',
        ),
        home: join(dir, 'home'),
        cwd: dir,
      })
      try {
        const event = parseEvent({
          specversion: '1.0',
          id: 'spoof',
          source,
          type: EventTypes.requested,
          data: {
            app: 'billing',
            environment: 'dev',
            capabilities: [{ name: 's', type: 'secret' }],
          },
        }) as CloudEvent<typeof EventTypes.requested>
        expect((await runtime.broker.handle(event)).status).toBe('denied')
      } finally {
        await runtime.close()
        rmSync(dir, { recursive: true, force: true })
      }
    },
  )
})

describe('a client that aborts mid-body is not an internal error', () => {
  it('logs no error and no 500 for a request its client abandoned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'capbroker-pending-'))
    const logs: string[] = []
    const runtime = createEmbeddedRuntime({
      catalog: parseCatalog(
        `version: 1
stores: { local: { adapter: local } }
environments: { dev: { inject: { to: service-binding, root: bindings } } }
classes: []
`,
        'capbroker.yaml',
      ),
      home: join(dir, 'home'),
      cwd: dir,
    })
    const { server } = createBrokerServer(
      runtime,
      createJsonLogger({ write: (l) => logs.push(l) }),
      'test',
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1')
      await new Promise((resolve) => socket.once('connect', resolve))
      socket.write(
        'POST /events HTTP/1.1\r\nhost: x\r\ncontent-type: application/cloudevents+json\r\ncontent-length: 1000\r\n\r\n{"spec',
      )
      await new Promise((resolve) => setTimeout(resolve, 100))
      socket.destroy()
      await new Promise((resolve) => setTimeout(resolve, 200))
      // Today: {"level":"error","msg":"internal error","error":"Error"} and an http line with 500.
      expect(
        logs.filter((l) => l.includes('"level":"error"') || l.includes('"status":500')),
      ).toEqual([])
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await runtime.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('DynamoDB: a transient outcome is not remembered, not even for a second', () => {
  const moto = useMoto()
  const tableName = uniqueName('capbroker-pending')
  let direct: DynamoDBClient
  let state: DynamoDbStateStore
  beforeAll(async () => {
    direct = new DynamoDBClient(directClientConfig(moto.endpoint))
    await createStateTable(direct, tableName)
    state = new DynamoDbStateStore({
      tableName,
      region: AWS_TEST_REGION,
      endpoint: moto.endpoint,
      credentials: AWS_TEST_CREDENTIALS,
    })
  })
  afterAll(async () => {
    await state?.close()
    direct?.destroy()
  })

  it('lets the redelivery of an outcome completed with ttlMs 0 be claimed at once', async () => {
    // The pipeline completes a transient outcome (every failure UNAVAILABLE) with
    // ttlMs 0 so that the bus's redelivery tries again. SQLite forgets it at once; here
    // `expiresAt` is rounded up to a whole second and compared with `<` to the current
    // second, so a redelivery within the next 1–2 s gets the stale failure as a duplicate.
    const key = { source: '/apps/checkout', id: uniqueName('transient') }
    const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 400)
    expect(await state.claim(key, { now, leaseMs: 60_000 })).toEqual({ status: 'claimed' })
    await state.complete(key, { events: [], completedAt: now.toISOString() }, [], { now, ttlMs: 0 })
    const redelivery = new Date(now.getTime() + 700)
    expect(await state.claim(key, { now: redelivery, leaseMs: 60_000 })).toEqual({
      status: 'claimed',
    })
  })
})
