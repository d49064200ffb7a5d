/**
 * Generic helpers to run an emulator as a child process for a test run: pick a free
 * loopback port, spawn, wait until it answers, stop it. Nothing here knows about a
 * particular emulator (moto, the GCP emulator, Lowkey Vault all use it).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { connect, createServer } from 'node:net'

/** Asks the kernel for a free TCP port on `host` (it is free now; bind it soon). */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))))
    })
  })
}

/** What {@link startProcess} needs. */
export interface ProcessSpec {
  /** A short name for error messages (`moto`, `lowkey-vault`). */
  readonly name: string
  readonly command: string
  readonly args?: readonly string[]
  /** Added to (not replacing) the parent's environment. */
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
}

/** A running child process with the tail of its output kept for error messages. */
export interface ManagedProcess {
  readonly name: string
  readonly pid: number
  readonly child: ChildProcess
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>
  /** True once the process has ended. */
  hasExited(): boolean
  /** The last few KB of stderr and stdout, for "why did it not start" messages. */
  outputTail(): string
}

const TAIL_BYTES = 4096
const running = new Set<ManagedProcess>()

/**
 * Spawns a process in its own process group (so a wrapper script's children are stopped
 * with it) and keeps the tail of its output. Children still running when the test
 * process exits are killed, so a crashed run leaves no emulator behind.
 */
export function startProcess(spec: ProcessSpec): ManagedProcess {
  const child = spawn(spec.command, [...(spec.args ?? [])], {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let tail = ''
  const keep = (chunk: string) => {
    tail = (tail + chunk).slice(-TAIL_BYTES)
  }
  child.stdout?.setEncoding('utf8').on('data', keep)
  child.stderr?.setEncoding('utf8').on('data', keep)
  let ended = false
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (error) => {
      keep(`\n[spawn error] ${error.message}\n`)
      ended = true
      resolve('spawn-error')
    })
    child.once('exit', (code, signal) => {
      ended = true
      resolve(code ?? signal ?? 'unknown')
    })
  })
  const managed: ManagedProcess = {
    name: spec.name,
    pid: child.pid ?? -1,
    child,
    exited,
    hasExited: () => ended,
    outputTail: () => tail,
  }
  running.add(managed)
  void exited.then(() => running.delete(managed))
  return managed
}

process.once('exit', function killLeftoverEmulators() {
  for (const managed of running) signalGroup(managed, 'SIGKILL')
})

function signalGroup(managed: ManagedProcess, signal: NodeJS.Signals): void {
  if (managed.pid <= 0 || managed.hasExited()) return
  try {
    process.kill(-managed.pid, signal)
  } catch {
    try {
      process.kill(managed.pid, signal)
    } catch {
      // already gone
    }
  }
}

/** Options shared by the wait helpers. */
export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  readonly timeoutMs?: number
  /** Poll interval (default 100 ms). */
  readonly intervalMs?: number
  /** Fail fast, with its output tail, if this process exits while we wait. */
  readonly process?: ManagedProcess
}

/** Waits until a TCP connection to `host:port` succeeds. */
export function waitForPort(host: string, port: number, options: WaitOptions = {}): Promise<void> {
  return poll(`${host}:${port} to accept connections`, options, () => canConnect(host, port))
}

/**
 * Waits until `url` answers with a status `accept` likes (default: any status below 500).
 * Extra fetch options (e.g. a TLS-ignoring dispatcher) go in `init`.
 */
export function waitForHttp(
  url: string,
  options: WaitOptions & { accept?: (status: number) => boolean; init?: RequestInit } = {},
): Promise<void> {
  const accept = options.accept ?? ((status: number) => status < 500)
  return poll(`${url} to answer`, options, async () => {
    try {
      const response = await fetch(url, { ...options.init, signal: AbortSignal.timeout(2000) })
      await response.body?.cancel()
      return accept(response.status)
    } catch {
      return false
    }
  })
}

async function poll(
  what: string,
  options: WaitOptions,
  probe: () => Promise<boolean>,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const deadline = Date.now() + timeoutMs
  const proc = options.process
  for (;;) {
    if (proc?.hasExited()) {
      throw new Error(
        `${proc.name} exited (${await proc.exited}) before ${what}:\n${proc.outputTail()}`,
      )
    }
    if (await probe()) return
    if (Date.now() > deadline) {
      const tail = proc === undefined ? '' : `; ${proc.name} output:\n${proc.outputTail()}`
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${tail}`)
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100))
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Stops a process: SIGTERM to its group, then SIGKILL after `graceMs` (default 5 s). */
export async function stopProcess(managed: ManagedProcess, graceMs = 5000): Promise<void> {
  if (managed.hasExited()) return
  signalGroup(managed, 'SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      signalGroup(managed, 'SIGKILL')
      resolve()
    }, graceMs)
  })
  await Promise.race([managed.exited, killed])
  clearTimeout(timer)
  await managed.exited
}
