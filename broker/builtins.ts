/**
 * Node built-ins that the Lambda functions need only after init, loaded on first use.
 *
 * A top-level `import … from 'node:crypto'` makes Node load crypto, and the streams it
 * builds on, while the bundle is being imported: about 2.6 ms of a cold start on the
 * benchmark machine, and `node:timers/promises` about 0.8 ms more (BENCHMARKS.md, the
 * notes on the 1.5× cold-start target). Code on the functions' init path reaches them through
 * these instead. `process.getBuiltinModule` loads a built-in once and hands back the
 * same module after, so a call costs a lookup.
 */
import type * as NodeCrypto from 'node:crypto'

/** `node:crypto`, loaded on the first call. */
export function nodeCrypto(): typeof NodeCrypto {
  return process.getBuiltinModule('node:crypto')
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return process.getBuiltinModule('node:timers/promises').setTimeout(ms, undefined, { signal })
}
