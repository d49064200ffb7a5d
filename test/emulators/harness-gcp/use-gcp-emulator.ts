/**
 * vitest wiring for the GCP Secret Manager peer: `await chooseGcpPeer()` at the top of a
 * test file (so the suite can name its peer), then `useGcpEmulator(peer)` registers the
 * hooks that start it before the file's tests and stop it after.
 */
import { afterAll, beforeAll } from 'vitest'
import { type GcpPeer, type RunningGcpPeer, startGcpPeer } from './gcp-emulator.ts'

export { chooseGcpPeer, GCP_TEST_PROJECT, type GcpPeer } from './gcp-emulator.ts'

/** Where the file's tests reach the peer; valid once `beforeAll` has run. */
export interface GcpEmulatorHandle {
  /** `host:port`, plaintext gRPC. */
  readonly endpoint: string
}

/** Registers the hooks; the handle's endpoint is set once the peer answers. */
export function useGcpEmulator(peer: GcpPeer): GcpEmulatorHandle {
  let running: RunningGcpPeer | undefined
  beforeAll(async () => {
    running = await startGcpPeer(peer)
  })
  afterAll(async () => {
    await running?.stop()
  })
  return {
    get endpoint() {
      if (running === undefined)
        throw new Error('the GCP peer is not started yet: use the handle inside tests or hooks')
      return running.endpoint
    },
  }
}
