/**
 * The GCP Secret Manager peer for a test run, in order of preference:
 * 1. `GCP_SM_EMULATOR_ENDPOINT` (`host:port`): an emulator someone already runs;
 * 2. the pinned gcp-secret-manager-emulator, installed into `.emu/bin` on first use and
 *    started on a free loopback port with `--port`;
 * 3. when it cannot be installed, the in-repo gRPC stand-in (stand-in.ts), said so in
 *    one line and in the suite's name.
 */
import { ensureGcpEmulator } from '../../../scripts/emulators/install-gcp.ts'
import { findFreePort, startProcess, stopProcess, waitForPort } from '../harness/process.ts'
import { startGcpStandIn } from './stand-in.ts'

/** The project every GCP emulator test uses (any id is accepted by the emulators). */
export const GCP_TEST_PROJECT = 'capbroker-test'

/** Which peer a run uses. */
export type GcpPeer =
  | { readonly kind: 'external'; readonly endpoint: string; readonly label: string }
  | { readonly kind: 'emulator'; readonly binary: string; readonly label: string }
  | { readonly kind: 'stand-in'; readonly reason: string; readonly label: string }

/** A running peer. */
export interface RunningGcpPeer {
  /** `host:port` for a plaintext gRPC client. */
  readonly endpoint: string
  stop(): Promise<void>
}

/** Decides the peer (installing the emulator if it can); quick once decided. */
export async function chooseGcpPeer(): Promise<GcpPeer> {
  const external = process.env.GCP_SM_EMULATOR_ENDPOINT
  if (external !== undefined && external !== '')
    return { kind: 'external', endpoint: external, label: `emulator at ${external}` }
  const install = await ensureGcpEmulator()
  if (install.available)
    return { kind: 'emulator', binary: install.path, label: 'gcp-secret-manager-emulator' }
  return { kind: 'stand-in', reason: install.reason, label: 'in-repo gRPC stand-in' }
}

let announced = false

/** Starts the chosen peer and waits until it accepts connections. */
export async function startGcpPeer(peer: GcpPeer): Promise<RunningGcpPeer> {
  switch (peer.kind) {
    case 'external':
      return { endpoint: peer.endpoint, stop: async () => {} }
    case 'emulator': {
      const port = await findFreePort()
      const proc = startProcess({
        name: 'gcp-secret-manager-emulator',
        command: peer.binary,
        args: ['--port', String(port)],
        env: { GCP_MOCK_LOG_LEVEL: 'warn' },
      })
      try {
        await waitForPort('127.0.0.1', port, { process: proc, timeoutMs: 30_000 })
      } catch (error) {
        await stopProcess(proc, 1000)
        throw error
      }
      return { endpoint: `127.0.0.1:${port}`, stop: () => stopProcess(proc) }
    }
    case 'stand-in': {
      if (!announced) {
        announced = true
        process.stderr.write(
          `emulators: GCP Secret Manager emulator unavailable (${peer.reason}); using the in-repo gRPC stand-in\n`,
        )
      }
      const standIn = await startGcpStandIn()
      return { endpoint: standIn.endpoint, stop: () => standIn.close() }
    }
  }
}

if (import.meta.main) {
  // `node test/emulators/harness-gcp/gcp-emulator.ts`: a peer to poke at; Ctrl-C stops it.
  const peer = await chooseGcpPeer()
  const running = await startGcpPeer(peer)
  process.stdout.write(`${peer.label} listening on ${running.endpoint}\n`)
  process.once('SIGINT', () => void running.stop().then(() => process.exit(0)))
}
