import type * as Type from 'typebox/type'
import type { dataSchemas } from './data.ts'
import * as checks from './generated/checks.ts'

/** The seven CloudEvent types of the public contract. */
export const EventTypes = {
  requested: 'io.capbroker.capability.requested.v1',
  resolved: 'io.capbroker.capability.resolved.v1',
  failed: 'io.capbroker.capability.failed.v1',
  denied: 'io.capbroker.capability.denied.v1',
  injected: 'io.capbroker.binding.injected.v1',
  rotated: 'io.capbroker.binding.rotated.v1',
  released: 'io.capbroker.capability.released.v1',
} as const

/** One of the seven type strings. */
export type EventType = (typeof EventTypes)[keyof typeof EventTypes]

/**
 * Each type's data check, generated ahead of time from its schema in data.ts
 * (`npm run schemas`): what parseEvent and buildEvent check data with.
 */
export const dataChecks = {
  [EventTypes.requested]: checks.RequestedData,
  [EventTypes.resolved]: checks.ResolvedData,
  [EventTypes.failed]: checks.OutcomeData,
  [EventTypes.denied]: checks.OutcomeData,
  [EventTypes.injected]: checks.InjectedData,
  [EventTypes.rotated]: checks.RotatedData,
  [EventTypes.released]: checks.ReleasedData,
} as const

/** The data type of an event type. */
export type DataOf<T extends EventType> = Type.Static<(typeof dataSchemas)[T]>

/** True for one of the seven type strings. */
export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.hasOwn(dataChecks, type)
}
