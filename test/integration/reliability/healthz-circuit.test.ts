/**
 * The circuit breaker shows in `/healthz` of the embedded server: after five failed
 * calls a store's circuit opens, requests fail fast without reaching it, and `/healthz`
 * reports the store unavailable (and the broker degraded) until a trial call succeeds —
 * even though the store itself would answer a health check by then. The store is the
 * real AWS Secrets Manager adapter against a local stand-in peer that can be switched
 * off; the server is the real one.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseCatalog } from '../../../broker/catalog/load.ts'
import { EventTypes } from '../../../events/index.ts'
import { createBrokerServer } from '../../../server/app.ts'
import { createJsonLogger } from '../../../server/logger.ts'
import { createEmbeddedRuntime } from '../../../server/runtime.ts'

/** A Secrets Manager stand-in that answers 503 while `down`, and a secret otherwise. */
function fakeSecretsManager(): Promise<{ server: Server; url: string; down: { value: boolean } }> {
  const down = { value: false }
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const target = String(req.headers['x-amz-target'] ?? '')
    res.setHeader('content-type', 'application/x-amz-json-1.1')
    if (down.value) {
      res.writeHead(503, { 'x-amzn-errortype': 'ServiceUnavailable' })
      return res.end('{"__type":"ServiceUnavailable","message":"down"}')
    }
    if (target.endsWith('.ListSecrets')) return res.end('{"SecretList":[]}')
    const ids = (JSON.parse(body || '{}') as { SecretIdList?: string[] }).SecretIdList ?? []
    res.end(
      JSON.stringify({
        SecretValues: ids.map((id) => ({
          Name: id,
          ARN: `arn:x:${id}`,
          VersionId: 'v1',
          SecretString: 'x',
        })),
        Errors: [],
      }),
    )
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, down }),
    ),
  )
}

describe('/healthz and the circuit breaker', () => {
  it('reports a store whose circuit is open as unavailable, while requests fail fast', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'capbroker-pending-'))
    const peer = await fakeSecretsManager()
    const saved = { ...process.env }
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' })
    const runtime = createEmbeddedRuntime({
      catalog: parseCatalog(
        `version: 1
stores:
  aws: { adapter: aws-secrets-manager, region: eu-west-1, endpoint: "${peer.url}" }
environments:
  dev: { inject: { to: service-binding, root: bindings } }
classes:
  - { type: secret, store: aws, key: "apps/{app}/{name}" }
policies:
  - { apps: [checkout], environments: [dev], types: [secret], keys: ["apps/checkout/*"] }
`,
        'capbroker.yaml',
      ),
      home: join(dir, 'home'),
      cwd: dir,
    })
    const { server } = createBrokerServer(
      runtime,
      createJsonLogger({ level: 'error', write: () => {} }),
      'test',
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const ask = (i: number) =>
      fetch(`${base}/events?wait=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({
          specversion: '1.0',
          id: `circuit-${i}`,
          source: '/apps/checkout',
          type: EventTypes.requested,
          data: {
            app: 'checkout',
            environment: 'dev',
            capabilities: [{ name: 's', type: 'secret' }],
          },
        }),
      }).then((r) => r.json() as Promise<{ capabilities: { reason?: { message: string } }[] }>)
    try {
      peer.down.value = true
      for (let i = 0; i < 5; i++) await ask(i) // five failed calls open the circuit
      peer.down.value = false
      const failingFast = await ask(5)
      expect(failingFast.capabilities[0]?.reason?.message).toMatch(/is failing; not calling it/)
      const health = (await (await fetch(`${base}/healthz`)).json()) as {
        status: string
        stores: Record<string, Record<string, unknown>>
      }
      // The peer is up again, but callers still fail fast: /healthz says what they meet.
      expect(health.status).toBe('degraded')
      expect(health.stores.aws).toEqual({
        adapter: 'aws-secrets-manager',
        status: 'unavailable',
        message: expect.stringMatching(
          /^store "aws" is failing \(5 failed calls in a row\); circuit open until /,
        ),
      })
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await runtime.close()
      await new Promise((resolve) => peer.server.close(resolve))
      process.env = saved
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
