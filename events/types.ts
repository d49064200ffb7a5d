import type * as Type from 'typebox/type'
import {
  InjectedData,
  OutcomeData,
  ReleasedData,
  RequestedData,
  ResolvedData,
  RotatedData,
} from './data.ts'

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

/** Each type's data schema. */
export const dataSchemas = {
  [EventTypes.requested]: RequestedData,
  [EventTypes.resolved]: ResolvedData,
  [EventTypes.failed]: OutcomeData,
  [EventTypes.denied]: OutcomeData,
  [EventTypes.injected]: InjectedData,
  [EventTypes.rotated]: RotatedData,
  [EventTypes.released]: ReleasedData,
} as const

/** The data type of an event type. */
export type DataOf<T extends EventType> = Type.Static<(typeof dataSchemas)[T]>

/** True for one of the seven type strings. */
export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.hasOwn(dataSchemas, type)
}
