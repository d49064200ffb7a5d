/**
 * vitest wiring for the Key Vault peer: `await chooseAzurePeer()` at the top of a test
 * file (so the suite can name its peer), then `useLowkeyVault(peer)` registers the hooks
 * that start it before the file's tests and stop it after.
 */
import { afterAll, beforeAll } from 'vitest'
import { type AzurePeer, type RunningAzurePeer, startAzurePeer } from './lowkey-vault.ts'

export {
  type AzurePeer,
  chooseAzurePeer,
  KEY_VAULT_TEST_API_VERSION,
  STATIC_TEST_CREDENTIAL,
} from './lowkey-vault.ts'

/** Where the file's tests reach the vault; valid once `beforeAll` has run. */
export interface LowkeyVaultHandle {
  readonly url: string
  /** The PEM certificate to trust for {@link url}. */
  readonly ca: string
}

/** Registers the hooks; the handle is usable once the peer answers. */
export function useLowkeyVault(peer: AzurePeer): LowkeyVaultHandle {
  let running: RunningAzurePeer | undefined
  beforeAll(async () => {
    running = await startAzurePeer(peer)
  })
  afterAll(async () => {
    await running?.stop()
  })
  const started = (): RunningAzurePeer => {
    if (running === undefined)
      throw new Error('the Key Vault peer is not started yet: use the handle inside tests or hooks')
    return running
  }
  return {
    get url() {
      return started().url
    },
    get ca() {
      return started().ca
    },
  }
}
