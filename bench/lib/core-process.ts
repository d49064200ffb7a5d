/**
 * The core alone, in a process of its own: `Broker.handle` on the embedded runtime, no
 * HTTP, `concurrency` requests in flight, each timed. A fresh process, like the HTTP
 * server's, so neither run inherits the other's heap or compiled code. Driven over the
 * IPC channel of `fork`: argv[2] is the config, the answer is one message.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs'
import { parseCatalog } from '../../broker/catalog/load.ts'
import { type CloudEvent, type EventTypes, parseEvent } from '../../events/index.ts'
import { createJsonLogger } from '../../server/logger.ts'
import { createEmbeddedRuntime } from '../../server/runtime.ts'
import { type LatencySummary, summarize } from './stats.ts'
import { benchApp, requestedEvent } from './workspace.ts'

/** What the parent asks for. */
export interface CoreRunConfig {
  readonly catalogPath: string
  readonly home: string
  readonly cwd: string
  readonly environment: 'warm' | 'cold'
  readonly capabilities: number
  readonly concurrency: number
  readonly warmupMs: number
  readonly durationMs: number
}

/** What the child answers. */
export interface CoreRunResult {
  readonly perSecond: number
  readonly latency: LatencySummary
  readonly failures: number
  readonly cpuMsPerRequest: number
}

async function main(config: CoreRunConfig): Promise<CoreRunResult> {
  const catalog = parseCatalog(readFileSync(config.catalogPath, 'utf8'), config.catalogPath)
  // The same log lines the server writes, to where the server's go: nowhere.
  const devNull = openSync('/dev/null', 'w')
  const logger = createJsonLogger({ level: 'info', write: (line) => writeSync(devNull, line) })
  const runtime = createEmbeddedRuntime({ catalog, home: config.home, cwd: config.cwd, logger })
  let n = 0
  const run = async (durationMs: number) => {
    const latencies: number[] = []
    let failures = 0
    const started = performance.now()
    const cpu = process.cpuUsage()
    const deadline = started + durationMs
    const worker = async () => {
      while (performance.now() < deadline) {
        const body = requestedEvent(
          `core-${n}`,
          config.environment,
          config.capabilities,
          benchApp(n++),
        )
        const t0 = performance.now()
        // Parsed here as the HTTP path parses it; the rest is Broker.handle.
        const event = parseEvent(JSON.parse(body)) as CloudEvent<typeof EventTypes.requested>
        const result = await runtime.broker.handle(event)
        latencies.push(performance.now() - t0)
        if (result.status !== 'resolved') failures++
      }
    }
    await Promise.all(Array.from({ length: config.concurrency }, worker))
    const used = process.cpuUsage(cpu)
    const elapsedMs = performance.now() - started
    return {
      perSecond: (latencies.length / elapsedMs) * 1000,
      latency: summarize(latencies),
      failures,
      cpuMsPerRequest: (used.user + used.system) / 1000 / Math.max(1, latencies.length),
    }
  }
  try {
    await run(config.warmupMs)
    return await run(config.durationMs)
  } finally {
    await runtime.close()
    closeSync(devNull)
  }
}

const result = await main(JSON.parse(process.argv[2] ?? '{}') as CoreRunConfig)
process.send?.(result, () => process.exit(0))
