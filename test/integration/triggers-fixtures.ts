import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseCatalog } from '../../broker/catalog/load.ts'
import { isWritable } from '../../broker/ports.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import { createBrokerServer } from '../../server/app.ts'
import { createJsonLogger } from '../../server/logger.ts'
import { createEmbeddedRuntime } from '../../server/runtime.ts'

/** What an HTTP call to the broker returned, the raw text kept for leak checks. */
export interface Answer {
  readonly status: number
  readonly type: string | null
  readonly text: string
  readonly json: Record<string, unknown>
  readonly ms: number
}

/**
 * The embedded runtime and its HTTP server in this process, over a catalog, with the
 * local store seeded, logs captured and every answer kept (to check for leaks).
 */
export async function startTriggerServer(options: {
  readonly dir?: string
  readonly catalog: (dir: string) => string
  readonly secrets: Record<string, string>
  readonly clock?: () => Date
}) {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'capbroker-triggers-'))
  const logs: string[] = []
  const logger = createJsonLogger({ level: 'debug', write: (line) => logs.push(line) })
  const catalog = parseCatalog(options.catalog(dir), 'capbroker.yaml')
  const runtime = createEmbeddedRuntime({
    catalog,
    home: join(dir, 'home'),
    cwd: dir,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  })
  const store = await runtime.stores.get('local')
  if (!isWritable(store)) throw new Error('the local store is writable')
  for (const [key, value] of Object.entries(options.secrets))
    await store.write(key, new SecretValue(value))
  const { server, drain } = createBrokerServer(runtime, logger, 'test')
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const answers: Answer[] = []
  return {
    dir,
    url,
    runtime,
    logs,
    answers,
    drain,
    /** Events on the embedded bus so far. */
    events: () => runtime.bus.events,
    async post(
      path: string,
      body: string | Buffer,
      headers: Record<string, string>,
    ): Promise<Answer> {
      const started = performance.now()
      const response = await fetch(`${url}${path}`, { method: 'POST', headers, body })
      const text = await response.text()
      let json: Record<string, unknown> = {}
      try {
        json = JSON.parse(text) as Record<string, unknown>
      } catch {}
      const answer = {
        status: response.status,
        type: response.headers.get('content-type'),
        text,
        json,
        ms: performance.now() - started,
      }
      answers.push(answer)
      return answer
    },
    /** Everything the broker said: answers, logs and events (not the binding files). */
    transcript(): string {
      return [...answers.map((a) => a.text), ...logs, JSON.stringify(runtime.bus.events)].join('\n')
    },
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await drain()
      await runtime.close()
      if (!options.dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Postgres connection details as the store holds them; the password is a canary. */
export const pgSecret = (password: string) =>
  JSON.stringify({
    host: 'db.internal',
    port: 5432,
    dbname: 'orders',
    username: 'checkout',
    password,
  })
