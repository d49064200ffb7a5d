/** Starting and stopping {@link ./server-process.ts} from the benchmark process. */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ServerProcessConfig, ServerProcessMessage, ServerStats } from './server-process.ts'

const SCRIPT = fileURLToPath(new URL('./server-process.ts', import.meta.url))

/** A running benchmark server. */
export interface BenchServer {
  readonly url: string
  readonly pid: number
  stats(): Promise<ServerStats>
  /** Drains, closes the runtime, and returns its last figures and outcome counts. */
  stop(): Promise<Extract<ServerProcessMessage, { stopped: true }>>
}

function next<T extends ServerProcessMessage>(
  child: ChildProcess,
  pick: (m: ServerProcessMessage) => m is T,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: ServerProcessMessage) => {
      if (!pick(m)) return
      cleanup()
      resolve(m)
    }
    const onExit = (code: number | null) => {
      cleanup()
      reject(new Error(`benchmark server exited (${code}) before answering`))
    }
    const cleanup = () => {
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    child.on('message', onMessage)
    child.on('exit', onExit)
  })
}

/** Forks the server; resolves once it listens. */
export async function startBenchServer(config: ServerProcessConfig): Promise<BenchServer> {
  const child = fork(SCRIPT, [JSON.stringify(config)], {
    // The server's JSON log lines go nowhere, as a production log shipper's would.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: process.env.CAPBROKER_BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? [],
  })
  const ready = await next(
    child,
    (m): m is Extract<ServerProcessMessage, { ready: true }> => 'ready' in m,
  )
  return {
    url: `http://127.0.0.1:${ready.port}`,
    pid: child.pid ?? 0,
    async stats() {
      const answer = next(
        child,
        (m): m is Extract<ServerProcessMessage, { stats: ServerStats }> =>
          'stats' in m && !('stopped' in m),
      )
      child.send({ stats: true })
      return (await answer).stats
    },
    async stop() {
      const answer = next(
        child,
        (m): m is Extract<ServerProcessMessage, { stopped: true }> => 'stopped' in m,
      )
      child.send({ stop: true })
      const result = await answer
      await new Promise<void>((resolve) =>
        child.exitCode === null ? child.once('exit', () => resolve()) : resolve(),
      )
      return result
    },
  }
}
