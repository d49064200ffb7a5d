/**
 * moto (the AWS emulator) as a local process: installed on first use into
 * `.emu/venv-moto`, started as `moto_server -H 127.0.0.1 -p PORT`, one server for
 * every AWS service. Tests reach it with fake credentials in eu-west-1.
 */
import { ensureMoto } from '../../../scripts/emulators/install-moto.ts'
import {
  findFreePort,
  type ManagedProcess,
  startProcess,
  stopProcess,
  waitForHttp,
} from './process.ts'

/** The region every emulator test uses. */
export const AWS_TEST_REGION = 'eu-west-1'

/** moto's default account id (ARNs of everything it creates). */
export const MOTO_ACCOUNT_ID = '123456789012'

/** Credentials moto accepts (it checks none); never real ones. */
export const AWS_TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const

/**
 * The environment for an SDK or a child process that must only ever reach the
 * emulator: fake keys, the test region, no instance metadata lookups, no shared
 * config files that could name a real profile.
 */
export const AWS_TEST_ENV: Readonly<Record<string, string>> = {
  AWS_ACCESS_KEY_ID: AWS_TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: AWS_TEST_CREDENTIALS.secretAccessKey,
  AWS_REGION: AWS_TEST_REGION,
  AWS_DEFAULT_REGION: AWS_TEST_REGION,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
}

/** Puts {@link AWS_TEST_ENV} into this process's environment; returns the undo. */
export function useFakeAwsEnvironment(): () => void {
  const saved = Object.fromEntries(Object.keys(AWS_TEST_ENV).map((k) => [k, process.env[k]]))
  Object.assign(process.env, AWS_TEST_ENV)
  return function restoreAwsEnvironment() {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}

/** A running moto server. */
export interface MotoServer {
  /** `http://127.0.0.1:PORT`: the endpoint for every AWS client. */
  readonly endpoint: string
  readonly port: number
  readonly process: ManagedProcess
  stop(): Promise<void>
}

/** Installs moto if needed, starts it on a free port and waits until it answers. */
export async function startMoto(
  options: { port?: number; timeoutMs?: number } = {},
): Promise<MotoServer> {
  const { binPath } = await ensureMoto()
  const port = options.port ?? (await findFreePort())
  const endpoint = `http://127.0.0.1:${port}`
  const proc = startProcess({
    name: 'moto',
    command: binPath,
    args: ['-H', '127.0.0.1', '-p', String(port)],
    env: { ...AWS_TEST_ENV, PYTHONUNBUFFERED: '1' },
  })
  try {
    await waitForHttp(`${endpoint}/moto-api/`, {
      process: proc,
      timeoutMs: options.timeoutMs ?? 60_000,
    })
  } catch (error) {
    await stopProcess(proc, 1000)
    throw error
  }
  return { endpoint, port, process: proc, stop: () => stopProcess(proc) }
}

if (import.meta.main) {
  // `node test/emulators/harness/moto.ts`: a moto to poke at by hand; Ctrl-C stops it.
  const moto = await startMoto()
  process.stdout.write(`moto listening on ${moto.endpoint}\n`)
  process.once('SIGINT', () => void moto.stop().then(() => process.exit(0)))
}
