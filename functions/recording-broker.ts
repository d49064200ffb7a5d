/**
 * The broker of the functions that record bindings — resolve, notify and rotate: the
 * packaged catalog's broker over the bus and the state table, with the digest key when
 * one is configured (functions/digest-key.ts), so a later refresh can tell whether a
 * value changed. github only releases, so it builds its broker without one.
 */
import type { Logger, StateStore } from '../broker/ports.ts'
import { type AwsBroker, createBroker } from './aws-broker.ts'
import { digestKeyFromEnvironment } from './digest-key.ts'
import type { FunctionEnvironment } from './environment.ts'
import { createEventBus, createStateStore } from './host.ts'

/** Builds it; `state` when the caller needs the state table itself too. */
export function createRecordingBroker(
  env: FunctionEnvironment,
  logger: Logger,
  state: StateStore = createStateStore(env),
): AwsBroker {
  const digestKey = digestKeyFromEnvironment(env)
  const parts = { bus: createEventBus(env), state, logger }
  return createBroker(env, digestKey ? { ...parts, digestKey } : parts)
}
