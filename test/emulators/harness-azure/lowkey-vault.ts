/**
 * The Azure Key Vault peer for a test run, in order of preference:
 * 1. `LOWKEY_VAULT_URL` (e.g. `https://127.0.0.1:8443`): a Lowkey Vault someone runs;
 * 2. the pinned Lowkey Vault jar, installed into `.emu/lowkey` on first use and started
 *    with Java 25 on free loopback ports (`--server.port`, `--app.token.port`);
 * 3. when it cannot be installed, the in-repo HTTPS stand-in (stand-in.ts), said so in
 *    one line and in the suite's name.
 * Whatever the peer, the CA a client must trust is read off its TLS port (tls.ts).
 */
import { existsSync } from 'node:fs'
import { ensureLowkeyVault, lowkeyJava } from '../../../scripts/emulators/install-lowkey.ts'
import { findFreePort, startProcess, stopProcess, waitForPort } from '../harness/process.ts'
import { startKeyVaultStandIn } from './stand-in.ts'
import { fetchServerCertificate } from './tls.ts'

/**
 * The API version the tests send: one Lowkey Vault serves (the SDK's newest may be
 * newer than an emulator knows).
 */
export const KEY_VAULT_TEST_API_VERSION = '7.5'

/** A static token: Lowkey Vault and the stand-in check that one is sent, not what it is. */
export const STATIC_TEST_CREDENTIAL = {
  getToken: async () => ({
    token: 'capbroker-test-token',
    expiresOnTimestamp: Date.now() + 3_600_000,
  }),
}

/** Which peer a run uses. */
export type AzurePeer =
  | { readonly kind: 'external'; readonly url: string; readonly label: string }
  | { readonly kind: 'lowkey'; readonly jar: string; readonly label: string }
  | { readonly kind: 'stand-in'; readonly reason: string; readonly label: string }

/** A running peer. */
export interface RunningAzurePeer {
  /** The vault URL. */
  readonly url: string
  /** The PEM certificate (chain root) the client must trust. */
  readonly ca: string
  stop(): Promise<void>
}

/** Decides the peer (installing Lowkey Vault if it can); quick once decided. */
export async function chooseAzurePeer(): Promise<AzurePeer> {
  const external = process.env.LOWKEY_VAULT_URL
  if (external !== undefined && external !== '')
    return { kind: 'external', url: external, label: `Lowkey Vault at ${external}` }
  const install = await ensureLowkeyVault()
  if (install.available && existsSync(lowkeyJava()))
    return { kind: 'lowkey', jar: install.path, label: 'Lowkey Vault' }
  const reason = install.available
    ? `no Java 25 at ${lowkeyJava()} (set LOWKEY_JAVA)`
    : install.reason
  return { kind: 'stand-in', reason, label: 'in-repo HTTPS stand-in' }
}

let announced = false

/** Starts the chosen peer, waits until it answers TLS, and reads its certificate. */
export async function startAzurePeer(peer: AzurePeer): Promise<RunningAzurePeer> {
  switch (peer.kind) {
    case 'external': {
      const url = new URL(peer.url)
      const ca = await fetchServerCertificate(url.hostname, Number(url.port || 443))
      return { url: url.origin, ca, stop: async () => {} }
    }
    case 'lowkey': {
      const [port, tokenPort] = [await findFreePort(), await findFreePort()]
      const proc = startProcess({
        name: 'lowkey-vault',
        command: lowkeyJava(),
        args: ['-jar', peer.jar, `--server.port=${port}`, `--app.token.port=${tokenPort}`],
      })
      try {
        // Spring Boot takes a few seconds; the default vault https://127.0.0.1:<port> is there.
        await waitForPort('127.0.0.1', port, { process: proc, timeoutMs: 120_000 })
        const ca = await fetchServerCertificate('127.0.0.1', port)
        return { url: `https://127.0.0.1:${port}`, ca, stop: () => stopProcess(proc) }
      } catch (error) {
        await stopProcess(proc, 1000)
        throw error
      }
    }
    case 'stand-in': {
      if (!announced) {
        announced = true
        process.stderr.write(
          `emulators: Lowkey Vault unavailable (${peer.reason}); using the in-repo HTTPS stand-in\n`,
        )
      }
      const standIn = await startKeyVaultStandIn()
      const ca = await fetchServerCertificate('127.0.0.1', Number(new URL(standIn.url).port))
      return { url: standIn.url, ca, stop: () => standIn.close() }
    }
  }
}

if (import.meta.main) {
  // `node test/emulators/harness-azure/lowkey-vault.ts`: a peer to poke at; Ctrl-C stops it.
  const peer = await chooseAzurePeer()
  const running = await startAzurePeer(peer)
  process.stdout.write(`${peer.label} listening on ${running.url}\n`)
  process.once('SIGINT', () => void running.stop().then(() => process.exit(0)))
}
