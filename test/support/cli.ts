import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The capbroker entry point, run with this test's Node. */
export const BIN = fileURLToPath(new URL('../../bin/capbroker.js', import.meta.url))

/** What a finished CLI run printed. */
export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `capbroker <args>` in a directory and collects its output. */
export function runCli(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, CAPBROKER_CATALOG: '', CAPBROKER_HOME: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

/** A running `capbroker serve` child process. */
export interface RunningServer {
  readonly url: string
  readonly child: ChildProcess
  /** Everything it printed so far. */
  output(): { stdout: string; stderr: string }
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>
}

/** Starts `capbroker serve --port 0` and waits for the URL it prints. */
export function startServer(options: {
  cwd: string
  env?: Record<string, string>
  args?: readonly string[]
}): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...(options.args ?? [])], {
      cwd: options.cwd,
      env: { ...process.env, CAPBROKER_CATALOG: '', CAPBROKER_HOME: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    const timer = setTimeout(
      () => reject(new Error(`server did not start in 10 s:\n${stderr}`)),
      10_000,
    )
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => {
      stderr += d
      const match = /listening on (http:\/\/\S+)/.exec(stderr)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve({
          url: match[1],
          child,
          output: () => ({ stdout, stderr }),
          async stop() {
            if (child.exitCode === null) child.kill('SIGTERM')
            return exited
          },
        })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening:\n${stderr}`))
    })
  })
}
