import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningServer, runCli, startServer } from '../support/cli.ts'
import { TEST_CATALOG } from '../support/workspace.ts'

const DB = JSON.stringify({
  host: 'db.internal',
  port: 5432,
  dbname: 'orders',
  username: 'checkout',
  password: 'canary-int-pg-91',
})
const STRIPE = 'canary-int-stripe-55'

let dir: string
let server: RunningServer

const requested = (id: string, capabilities: unknown[], extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id,
  source: '/apps/checkout',
  type: 'io.capbroker.capability.requested.v1',
  data: { app: 'checkout', environment: 'dev', capabilities },
  ...extra,
})

async function post(
  path: string,
  body: string | Buffer,
  contentType: string,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body,
  })
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as Record<string, unknown>,
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-int-'))
  writeFileSync(join(dir, 'capbroker.yaml'), TEST_CATALOG)
  // Seed through the CLI, as an operator would: value on stdin, and from a file.
  expect(
    (await runCli(['secrets', 'put', 'postgres/checkout'], { cwd: dir, input: `${DB}\n` })).stdout,
  ).toBe('stored postgres/checkout (version 1)\n')
  writeFileSync(join(dir, 'stripe.txt'), STRIPE)
  expect(
    (await runCli(['secrets', 'put', 'apps/checkout/stripe', '--file', 'stripe.txt'], { cwd: dir }))
      .code,
  ).toBe(0)
  rmSync(join(dir, 'stripe.txt'))
  server = await startServer({ cwd: dir })
})

afterAll(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('POST /events', () => {
  it('structured mode, waiting for the outcome', async () => {
    const r = await post(
      '/events?wait=true',
      JSON.stringify(requested('s-1', [{ name: 'orders-db', type: 'postgres' }])),
      'application/cloudevents+json',
    )
    expect(r.status).toBe(200)
    expect(r.body.status).toBe('resolved')
    expect(readFileSync(join(dir, 'bindings/checkout/dev/orders-db/password'), 'utf8')).toBe(
      'canary-int-pg-91',
    )
  })

  it('binary mode', async () => {
    const r = await post(
      '/events?wait=true',
      JSON.stringify({
        app: 'checkout',
        environment: 'dev',
        capabilities: [{ name: 'stripe', type: 'secret', params: { key: 'stripe' } }],
      }),
      'application/json',
      {
        'ce-specversion': '1.0',
        'ce-id': 'b-1',
        'ce-source': '/apps/checkout',
        'ce-type': 'io.capbroker.capability.requested.v1',
      },
    )
    expect(r.status).toBe(200)
    expect(r.body.status).toBe('resolved')
    expect(readFileSync(join(dir, 'bindings/checkout/dev/stripe/value'), 'utf8')).toBe(STRIPE)
  })

  it('batch mode: one result per event', async () => {
    const batch = [
      requested('batch-1', [{ name: 'orders-db', type: 'postgres' }]),
      requested('batch-2', [{ name: 'nope', type: 'secret', params: { key: 'missing' } }]),
    ]
    const r = await post(
      '/events?wait=true',
      JSON.stringify(batch),
      'application/cloudevents-batch+json',
    )
    expect(r.status).toBe(200)
    const results = r.body.results as { id: string; status: string }[]
    expect(results.map((x) => [x.id, x.status])).toEqual([
      ['batch-1', 'resolved'],
      ['batch-2', 'failed'],
    ])
  })

  it('without wait: 202 with the accepted ids, processed in the background', async () => {
    const r = await post(
      '/events',
      JSON.stringify(requested('async-1', [{ name: 'late', type: 'queue' }])),
      'application/cloudevents+json',
    )
    expect(r.status).toBe(202)
    expect(r.body).toEqual({ accepted: [{ id: 'async-1', source: '/apps/checkout' }] })
    // The queue key is missing, so the outcome is a failure; what matters is that it was
    // processed: its recorded outcome comes back for a redelivery.
    for (let i = 0; i < 50; i++) {
      const again = await post(
        '/events?wait=true',
        JSON.stringify(requested('async-1', [{ name: 'late', type: 'queue' }])),
        'application/cloudevents+json',
      )
      if (again.body.duplicate === true) {
        expect(again.body.status).toBe('failed')
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error('the accepted event was never processed')
  })

  it('a redelivery returns the recorded outcome', async () => {
    const event = JSON.stringify(
      requested('redeliver-1', [{ name: 'orders-db', type: 'postgres' }]),
    )
    const first = await post('/events?wait=true', event, 'application/cloudevents+json')
    expect([first.body.status, first.body.duplicate]).toEqual(['resolved', false])
    const second = await post('/events?wait=true', event, 'application/cloudevents+json')
    expect([second.body.status, second.body.duplicate]).toEqual(['resolved', true])
    expect(second.body.events).toEqual(first.body.events)
  })

  it.each([
    [
      'malformed JSON',
      '{"specversion": "1.0", "id": ',
      'application/cloudevents+json',
      400,
      /not valid JSON/,
    ],
    [
      'a missing type',
      JSON.stringify({ ...requested('x', []), type: undefined }),
      'application/cloudevents+json',
      400,
      /type: is required/,
    ],
    [
      'an unknown event type',
      JSON.stringify({ ...requested('x', []), type: 'com.example.other' }),
      'application/cloudevents+json',
      400,
      /type: unknown event type/,
    ],
    [
      'an outcome type',
      JSON.stringify({
        ...requested('x', []),
        type: 'io.capbroker.capability.failed.v1',
        data: {
          app: 'checkout',
          environment: 'dev',
          request: { source: '/x', id: '1' },
          capabilities: [],
        },
      }),
      'application/cloudevents+json',
      400,
      /"io.capbroker.capability.failed.v1" cannot be sent to \/events/,
    ],
    [
      'a missing id',
      JSON.stringify({ ...requested('x', []), id: undefined }),
      'application/cloudevents+json',
      400,
      /id: is required/,
    ],
    [
      'a missing id in a batch',
      JSON.stringify([requested('ok', []), { ...requested('x', []), id: undefined }]),
      'application/cloudevents-batch+json',
      400,
      /\[1\]\.id: is required/,
    ],
    [
      'neither capabilities nor score',
      JSON.stringify({ ...requested('x', []), data: { app: 'checkout', environment: 'dev' } }),
      'application/cloudevents+json',
      400,
      /data: must have exactly one of "capabilities"/,
    ],
    [
      'duplicate capability names',
      JSON.stringify(
        requested('x', [
          { name: 'a', type: 'secret' },
          { name: 'a', type: 'queue' },
        ]),
      ),
      'application/cloudevents+json',
      400,
      /data.capabilities\[1\].name: duplicate capability name "a"/,
    ],
    [
      'a JSON array sent as one event',
      JSON.stringify([requested('x', [])]),
      'application/cloudevents+json',
      400,
      /send a batch as application\/cloudevents-batch\+json/,
    ],
    [
      'a bad data field',
      JSON.stringify(requested('x', [{ name: 'db', type: 'Bad Type' }])),
      'application/cloudevents+json',
      400,
      /data.capabilities\[0\].type: must match/,
    ],
    [
      'a 2 MiB body',
      'x'.repeat(2 * 1024 * 1024),
      'application/cloudevents+json',
      413,
      /larger than 1048576 bytes/,
    ],
    [
      'a wrong content type',
      'hello',
      'text/plain',
      415,
      /content type "text\/plain" is not accepted/,
    ],
    [
      'JSON without CloudEvent headers',
      '{}',
      'application/json',
      400,
      /binary-mode CloudEvents need the headers ce-id, ce-source, ce-type, ce-specversion/,
    ],
    ['a batch that is not an array', '{}', 'application/cloudevents-batch+json', 400, /JSON array/],
    [
      'non-UTF-8 bytes',
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      'application/cloudevents+json',
      400,
      /not valid UTF-8/,
    ],
  ])('%s → a problem document saying what was wrong', async (_what, body, type, status, detail) => {
    const r = await post('/events', body, type)
    expect(r.status).toBe(status)
    expect(r.type).toBe('application/problem+json')
    expect(r.body.status).toBe(status)
    expect(String(r.body.detail)).toMatch(detail)
    // …and the server keeps serving.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })
})

describe('GET endpoints', () => {
  it('bindings: metadata and status, never values', async () => {
    const response = await fetch(`${server.url}/apps/checkout/environments/dev/bindings`)
    const text = await response.text()
    expect(response.status).toBe(200)
    const body = JSON.parse(text) as {
      bindings: { name: string; status: string; entries: string[] }[]
    }
    const db = body.bindings.find((b) => b.name === 'orders-db')
    expect(db?.status).toBe('ready')
    expect(db?.entries).toContain('password')
    expect(text).not.toContain('canary')
  })

  it('bindings: a bad app name is a 400', async () => {
    expect((await fetch(`${server.url}/apps/..%2F..%2Fetc/environments/dev/bindings`)).status).toBe(
      400,
    )
  })

  it('healthz reports each store', async () => {
    const body = (await (await fetch(`${server.url}/healthz`)).json()) as {
      status: string
      stores: Record<string, { status: string }>
    }
    expect(body.status).toBe('ok')
    expect(body.stores.local?.status).toBe('ready')
  })

  it('unknown paths and wrong methods', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404)
    const wrong = await fetch(`${server.url}/events`)
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('POST')
  })
})

describe('the CLI', () => {
  it('request against the server prints a table and exits 0', async () => {
    writeFileSync(
      join(dir, 'caps.yaml'),
      'capabilities:\n  - { name: orders-db, type: postgres }\n  - { name: stripe, type: secret, params: { key: stripe } }\n',
    )
    const r = await runCli(
      ['request', '-f', 'caps.yaml', '--app', 'checkout', '--env', 'dev', '--server', server.url],
      { cwd: dir },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^resolved — 2 ready, 0 failed, 0 denied/)
    expect(r.stdout).toMatch(/orders-db\s+postgres\s+ready\s+local/)
  })

  it('request in-process (no server) with --json, exit 1 when a capability failed', async () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      'capabilities:\n  - { name: stripe, type: secret, params: { key: stripe } }\n  - { name: gone, type: secret, params: { key: gone } }\n',
    )
    const r = await runCli(
      ['request', '-f', 'bad.yaml', '--app', 'checkout', '--env', 'dev', '--json'],
      { cwd: dir },
    )
    expect(r.code).toBe(1)
    const outcome = JSON.parse(r.stdout) as {
      status: string
      capabilities: { name: string; status: string; reason?: { code: string } }[]
    }
    expect(outcome.status).toBe('failed')
    expect(outcome.capabilities.map((c) => [c.name, c.status, c.reason?.code])).toEqual([
      ['stripe', 'ready', undefined],
      ['gone', 'failed', 'NOT_FOUND'],
    ])
  })

  it('request exits 3 when denied, 2 on a bad manifest', async () => {
    writeFileSync(join(dir, 'caps2.yaml'), 'capabilities:\n  - { name: db, type: postgres }\n')
    expect(
      (
        await runCli(
          [
            'request',
            '-f',
            'caps2.yaml',
            '--app',
            'billing',
            '--env',
            'dev',
            '--server',
            server.url,
          ],
          { cwd: dir },
        )
      ).code,
    ).toBe(3)
    writeFileSync(join(dir, 'broken.yaml'), 'capabilities:\n  - { name: db }\n')
    const broken = await runCli(
      ['request', '-f', 'broken.yaml', '--app', 'checkout', '--env', 'dev'],
      { cwd: dir },
    )
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(/data.capabilities\[0\].type: is required/)
  })

  it('bindings and secrets commands never print values unless asked', async () => {
    const bindings = await runCli(['bindings', 'checkout', 'dev', '--server', server.url], {
      cwd: dir,
    })
    expect(bindings.stdout).toMatch(/orders-db\s+postgres\s+ready/)
    const list = await runCli(['secrets', 'list'], { cwd: dir })
    expect(list.stdout).toMatch(/postgres\/checkout\s+1/)
    const get = await runCli(['secrets', 'get', 'apps/checkout/stripe'], { cwd: dir })
    expect(get.stdout).toMatch(/version 1: \[redacted\]/)
    for (const r of [bindings, list, get]) expect(r.stdout + r.stderr).not.toContain('canary')
    const reveal = await runCli(['secrets', 'get', 'apps/checkout/stripe', '--reveal'], {
      cwd: dir,
    })
    expect(reveal.stdout).toBe(`${STRIPE}\n`)
  })

  it('server logs are JSON lines with the request id, without values', async () => {
    const { stdout } = server.output()
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const http = lines.filter((l) => l.msg === 'http')
    expect(http.length).toBeGreaterThan(10)
    for (const line of http) expect(line).toHaveProperty('requestId')
    expect(http.find((l) => l.path === '/events' && l.status === 200)).toMatchObject({
      app: 'checkout',
      environment: 'dev',
      outcome: 'resolved',
    })
    expect(stdout + server.output().stderr).not.toContain('canary')
  })
})

describe('shutdown', () => {
  it('finishes in-flight work and exits 0 on SIGTERM', async () => {
    writeFileSync(join(dir, 'last.txt'), 'q')
    expect(
      (
        await runCli(['secrets', 'put', 'queues/checkout/final', '--file', 'last.txt'], {
          cwd: dir,
        })
      ).code,
    ).toBe(0)
    const r = await post(
      '/events',
      JSON.stringify(requested('last', [{ name: 'final', type: 'queue' }])),
      'application/cloudevents+json',
    )
    expect(r.status).toBe(202)
    expect(await server.stop()).toBe(0)
    expect(server.output().stderr).toMatch(/stopped/)
    // The event accepted just before SIGTERM was processed: its binding is recorded.
    const bindings = await runCli(['bindings', 'checkout', 'dev', '--json'], { cwd: dir })
    const names = (JSON.parse(bindings.stdout) as { bindings: { name: string }[] }).bindings.map(
      (b) => b.name,
    )
    expect(names).toContain('final')
  })

  it('a second server on a port in use says so, without a stack trace', async () => {
    const first = await startServer({ cwd: dir })
    try {
      const port = new URL(first.url).port
      const second = await runCli(['serve', '--port', port], { cwd: dir })
      expect(second.code).toBe(2)
      expect(second.stderr).toMatch(
        new RegExp(`port ${port} on 127.0.0.1 is in use; pass --port or set PORT`),
      )
      expect(second.stderr).not.toMatch(/at .*\.ts:\d+/)
    } finally {
      await first.stop()
    }
  })
})

describe('catalog validate and first-run seeding', () => {
  it('exits 1 on an invalid catalog and lists the problems as JSON', async () => {
    writeFileSync(
      join(dir, 'bad-catalog.yaml'),
      'version: 2\nstores: {}\nenvironments: {}\nclasses: []\n',
    )
    const r = await runCli(['catalog', 'validate', 'bad-catalog.yaml', '--json'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({
      valid: false,
      problems: [{ path: 'version', message: 'must be 1' }],
    })
    const ok = await runCli(['catalog', 'validate'], { cwd: dir })
    expect([ok.code, ok.stdout]).toEqual([
      0,
      'capbroker.yaml: valid (1 store, 1 environment, 4 classes, 1 policy)\n',
    ])
  })

  it('seeds the example values on the first serve only: a deleted example secret stays deleted', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'capbroker-first-'))
    try {
      const first = await startServer({ cwd: fresh })
      await first.stop()
      expect(
        (await runCli(['secrets', 'delete', 'apps/checkout/stripe'], { cwd: fresh })).code,
      ).toBe(0)
      const again = await startServer({ cwd: fresh })
      await again.stop()
      const get = await runCli(['secrets', 'get', 'apps/checkout/stripe'], { cwd: fresh })
      expect(get.code).toBe(1)
      expect(get.stderr).toMatch(/not found/)
    } finally {
      rmSync(fresh, { recursive: true, force: true })
    }
  })
})
