/**
 * The embedded runtime as `capbroker serve` runs it — the real catalog loader, runtime,
 * HTTP server and JSON logger at `info` — in a child process of its own, so the load
 * generator and the server each have a core. Driven over the IPC channel of `fork`:
 * it sends `{ ready, port }`, answers `{ stats }`, and on `{ stop }` drains, closes and
 * answers with what the run left behind (peak RSS, the outcome events per request).
 */
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { StoreSet } from '../../adapters/store-set.ts'
import { parseCatalog } from '../../broker/catalog/load.ts'
import { EventTypes } from '../../events/index.ts'
import { createBrokerServer } from '../../server/app.ts'
import { createJsonLogger } from '../../server/logger.ts'
import { createEmbeddedRuntime } from '../../server/runtime.ts'
import { type FaultCounters, faultyLocalRegistry } from './faulty-registry.ts'

/** What the parent passes (as JSON in argv[2]). */
export interface ServerProcessConfig {
  readonly catalogPath: string
  readonly home: string
  readonly cwd: string
  /** Share of local-store reads that fail with UnavailableError (0 = none). */
  readonly faultRate?: number
  readonly faultSeed?: number
  /** Count outcome events per request (the load run's exactly-once check). */
  readonly trackOutcomes?: boolean
}

/** Messages the child sends. */
export type ServerProcessMessage =
  | { readonly ready: true; readonly port: number }
  | { readonly stats: ServerStats }
  | {
      readonly stopped: true
      readonly stats: ServerStats
      /** `[source, id]` JSON → outcome events (resolved/failed/denied) published for it. */
      readonly outcomes: Record<string, number>
    }

/** Figures of the server process. */
export interface ServerStats {
  readonly rssBytes: number
  /** Peak resident set size of the process so far (getrusage maxrss). */
  readonly maxRssBytes: number
  readonly heapUsedBytes: number
  /** CPU time the process has used (user + system), in microseconds. */
  readonly cpuMicros: number
  readonly faults: FaultCounters
}

const OUTCOME_TYPES: ReadonlySet<string> = new Set([
  EventTypes.resolved,
  EventTypes.failed,
  EventTypes.denied,
])

async function main(config: ServerProcessConfig): Promise<void> {
  const catalog = parseCatalog(readFileSync(config.catalogPath, 'utf8'), config.catalogPath)
  // What `capbroker serve` logs (one line per request, and per outcome); nobody reads it.
  const logger = createJsonLogger({ level: 'info' })
  const runtime = createEmbeddedRuntime({ catalog, home: config.home, cwd: config.cwd, logger })
  const faults: FaultCounters = { reads: 0, faults: 0 }
  if ((config.faultRate ?? 0) > 0) {
    // The runtime has no registry option: route its store lookups to a StoreSet whose
    // local stores fail some reads. The resolver and the sinks call `stores.get`.
    const faulty = new StoreSet(
      catalog.stores,
      faultyLocalRegistry(config.faultRate ?? 0, config.faultSeed ?? 1, faults),
      { home: config.home, cwd: config.cwd },
    )
    const original = runtime.stores.close.bind(runtime.stores)
    Object.assign(runtime.stores, {
      get: (name: string) => faulty.get(name),
      close: async () => {
        await faulty.close()
        await original()
      },
    })
  }
  const outcomes = new Map<string, number>()
  if (config.trackOutcomes) {
    runtime.bus.subscribe((event) => {
      if (!OUTCOME_TYPES.has(event.type)) return
      const request = (event.data as { request?: { source: string; id: string } }).request
      if (!request) return
      const key = JSON.stringify([request.source, request.id])
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
    })
  }
  const server = createBrokerServer(runtime, logger, 'bench')
  server.server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', resolve))
  const stats = (): ServerStats => ({
    rssBytes: process.memoryUsage.rss(),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedBytes: process.memoryUsage().heapUsed,
    cpuMicros: (({ user, system }) => user + system)(process.cpuUsage()),
    faults: { ...faults },
  })
  process.on('message', async (message: { stats?: true; stop?: true }) => {
    if (message.stats) process.send?.({ stats: stats() } satisfies ServerProcessMessage)
    if (message.stop) {
      server.server.closeAllConnections()
      await new Promise<void>((resolve) => server.server.close(() => resolve()))
      await server.drain()
      await runtime.close()
      const done: ServerProcessMessage = {
        stopped: true,
        stats: stats(),
        outcomes: Object.fromEntries(outcomes),
      }
      process.send?.(done, () => process.exit(0))
    }
  })
  const port = (server.server.address() as AddressInfo).port
  process.send?.({ ready: true, port } satisfies ServerProcessMessage)
}

await main(JSON.parse(process.argv[2] ?? '{}') as ServerProcessConfig)
