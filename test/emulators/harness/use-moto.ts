/**
 * vitest wiring for moto. With `globalSetup: ['test/emulators/harness/global-setup.ts']`
 * in the emulators project one moto serves the whole run; without it (or with
 * MOTO_ENDPOINT unset) each test file starts its own in `beforeAll`. Tests use unique
 * resource names, so files can share one server either way.
 */
import { afterAll, beforeAll, inject } from 'vitest'
import { type MotoServer, startMoto, useFakeAwsEnvironment } from './moto.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by global-setup.ts: the endpoint of the run's shared moto. */
    motoEndpoint?: string
  }
}

/** Where the file's tests reach moto; valid once `beforeAll` has run. */
export interface MotoHandle {
  readonly endpoint: string
}

/**
 * Registers hooks that make moto available to the current file and set fake AWS
 * credentials in the environment (so no test can reach a real account).
 */
export function useMoto(): MotoHandle {
  let endpoint = ''
  let own: MotoServer | undefined
  let restoreEnv: (() => void) | undefined
  beforeAll(async () => {
    restoreEnv = useFakeAwsEnvironment()
    const shared = inject('motoEndpoint') ?? process.env.MOTO_ENDPOINT
    if (shared !== undefined && shared !== '') {
      endpoint = shared
      return
    }
    own = await startMoto()
    endpoint = own.endpoint
  })
  afterAll(async () => {
    await own?.stop()
    restoreEnv?.()
  })
  return {
    get endpoint() {
      if (endpoint === '')
        throw new Error('moto is not started yet: use the handle inside tests or hooks')
      return endpoint
    },
  }
}
