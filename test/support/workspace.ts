import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseCatalog } from '../../broker/catalog/load.ts'
import type { Logger } from '../../broker/ports.ts'
import { buildEvent, EventTypes, type RequestedData } from '../../events/index.ts'
import { createJsonLogger } from '../../server/logger.ts'
import { createEmbeddedRuntime } from '../../server/runtime.ts'

/** A catalog for tests: local store, service-binding sink under the workspace. */
export const TEST_CATALOG = `
version: 1
stores:
  local: { adapter: local }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
classes:
  - type: postgres
    store: local
    key: "postgres/{app}"
    outputs: { host: host, port: port, database: dbname, username: username, password: password }
    secret: [password]
  - type: secret
    store: local
    key: "apps/{app}/{params.key}"
  - type: queue
    store: local
    key: "queues/{app}/{name}"
  - type: cache
    store: local
    key: "shared/cache"
policies:
  - apps: [checkout]
    environments: [dev]
    types: [postgres, secret, queue, redis, cache]
    keys: ["postgres/checkout", "apps/checkout/*", "queues/checkout/*"]
`

/** A temporary working directory with a runtime over it and captured logs. */
export function workspace(catalogText = TEST_CATALOG) {
  const dir = mkdtempSync(join(tmpdir(), 'capbroker-test-'))
  const logs: string[] = []
  const logger: Logger = createJsonLogger({ level: 'debug', write: (line) => logs.push(line) })
  const catalog = parseCatalog(catalogText, 'capbroker.yaml')
  const runtime = createEmbeddedRuntime({ catalog, home: join(dir, 'home'), cwd: dir, logger })
  let n = 0
  return {
    dir,
    logs,
    runtime,
    /** A requested event with a fresh id. */
    request(
      data: Omit<RequestedData, 'app' | 'environment'> & { app?: string; environment?: string },
      id = `req-${++n}`,
    ) {
      return buildEvent(
        EventTypes.requested,
        { id, source: '/apps/checkout', time: new Date().toISOString() },
        {
          app: 'checkout',
          environment: 'dev',
          ...data,
        } as RequestedData,
      )
    },
    /** Every file under a directory, as path → content. */
    files(root = dir): Map<string, Buffer> {
      const out = new Map<string, Buffer>()
      const walk = (d: string) => {
        for (const name of readdirSync(d)) {
          const p = join(d, name)
          const s = statSync(p)
          if (s.isDirectory()) walk(p)
          else out.set(p, readFileSync(p))
        }
      }
      walk(root)
      return out
    },
    write(name: string, text: string) {
      writeFileSync(join(dir, name), text)
    },
    async close() {
      await runtime.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
