/**
 * The data schemas of the seven event types: one TypeBox source yields the JSON Schema
 * (written to events/schemas/ by `npm run schemas`), the checks generated ahead of time
 * (events/generated/checks.ts, same command) and the TypeScript types. Run-time code
 * imports this module for its types only: the checks need no TypeBox type builders, so
 * they never run at a cold start (BENCHMARKS.md).
 */
import * as Type from 'typebox/type'
import { MAX_CAPABILITIES, NAME_PATTERN, PARAM_KEY_PATTERN, TYPE_PATTERN } from './patterns.ts'
import { EventTypes } from './types.ts'

const Name = (description: string) => Type.String({ pattern: NAME_PATTERN, description })
const TypeName = (description: string) => Type.String({ pattern: TYPE_PATTERN, description })
const ParamValue = Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()])

/** One capability as an app declares it. */
export const CapabilityRequest = Type.Object(
  {
    name: Name('the binding name, unique within the request'),
    type: TypeName('what is needed: postgres, secret, queue, …'),
    class: Type.Optional(TypeName('a flavour of the type the catalog may distinguish')),
    params: Type.Optional(
      // A record with a key pattern is `patternProperties`, which on its own lets any
      // other key through: `additionalProperties: false` is what enforces the pattern.
      Type.Record(Type.String({ pattern: PARAM_KEY_PATTERN }), ParamValue, {
        maxProperties: 32,
        additionalProperties: false,
      }),
    ),
  },
  { additionalProperties: false },
)
export type CapabilityRequest = Type.Static<typeof CapabilityRequest>

/** A Score workload (score.dev): only `resources` matters to the broker. */
export const ScoreWorkload = Type.Object(
  {
    apiVersion: Type.String({ pattern: '^score\\.dev/' }),
    metadata: Type.Object({ name: Type.String({ minLength: 1 }) }),
    resources: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object({
          type: Type.String(),
          class: Type.Optional(Type.String()),
          id: Type.Optional(Type.String()),
          params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        }),
      ),
    ),
  },
  { additionalProperties: true },
)
export type ScoreWorkload = Type.Static<typeof ScoreWorkload>

/** `io.capbroker.capability.requested.v1`: exactly one of `capabilities` and `score`. */
export const RequestedData = Type.Object(
  {
    app: Name('the application asking'),
    environment: Name('the environment to resolve for'),
    capabilities: Type.Optional(Type.Array(CapabilityRequest, { maxItems: MAX_CAPABILITIES })),
    score: Type.Optional(ScoreWorkload),
  },
  { additionalProperties: false },
)
export type RequestedData = Type.Static<typeof RequestedData>

const Reason = Type.Object(
  { code: Type.String({ minLength: 1 }), message: Type.String() },
  { additionalProperties: false },
)
export type Reason = Type.Static<typeof Reason>

const RequestRef = Type.Object(
  { source: Type.String({ minLength: 1 }), id: Type.String({ minLength: 1 }) },
  { additionalProperties: false, description: 'the requested event this outcome answers' },
)

const ResolvedFields = {
  provider: Type.String({ description: 'the adapter kind that served it' }),
  store: Type.String({ description: 'the catalog store name' }),
  key: Type.String({ description: 'the key read at the store' }),
  version: Type.String({ description: 'the version resolved' }),
  entries: Type.Array(Type.String(), { description: 'binding entry names, never values' }),
  secretEntries: Type.Array(Type.String(), { description: 'which entries are secret' }),
}

/** A capability that resolved: where from, which version, and entry names only. */
export const ResolvedCapability = Type.Object(
  { name: Type.String(), type: Type.String(), status: Type.Literal('ready'), ...ResolvedFields },
  { additionalProperties: false },
)
export type ResolvedCapability = Type.Static<typeof ResolvedCapability>

/** Any capability's outcome, as listed in failed and denied events. */
export const CapabilityOutcome = Type.Object(
  {
    name: Type.String(),
    type: Type.String(),
    status: Type.Union([Type.Literal('ready'), Type.Literal('failed'), Type.Literal('denied')]),
    reason: Type.Optional(Reason),
    provider: Type.Optional(ResolvedFields.provider),
    store: Type.Optional(ResolvedFields.store),
    key: Type.Optional(ResolvedFields.key),
    version: Type.Optional(ResolvedFields.version),
    entries: Type.Optional(ResolvedFields.entries),
    secretEntries: Type.Optional(ResolvedFields.secretEntries),
  },
  { additionalProperties: false },
)
export type CapabilityOutcome = Type.Static<typeof CapabilityOutcome>

/** `io.capbroker.capability.resolved.v1`: every capability is ready. */
export const ResolvedData = Type.Object(
  {
    app: Type.String(),
    environment: Type.String(),
    request: RequestRef,
    capabilities: Type.Array(ResolvedCapability),
  },
  { additionalProperties: false },
)
export type ResolvedData = Type.Static<typeof ResolvedData>

/** `failed.v1` and `denied.v1`: every capability with its status; `reason` for the whole request. */
export const OutcomeData = Type.Object(
  {
    app: Type.String(),
    environment: Type.String(),
    request: RequestRef,
    reason: Type.Optional(Reason),
    capabilities: Type.Array(CapabilityOutcome),
  },
  { additionalProperties: false },
)
export type OutcomeData = Type.Static<typeof OutcomeData>

/** `io.capbroker.binding.injected.v1`: where the bindings went. */
export const InjectedData = Type.Object(
  {
    app: Type.String(),
    environment: Type.String(),
    request: Type.Optional(RequestRef),
    sink: Type.String({ description: 'service-binding or store' }),
    location: Type.String({ description: 'the directory, or the bundle secret name' }),
    version: Type.Optional(Type.String({ description: 'the bundle secret version' })),
    bindings: Type.Array(
      Type.Object(
        { name: Type.String(), path: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
export type InjectedData = Type.Static<typeof InjectedData>

/** `io.capbroker.binding.rotated.v1`: a value changed at the provider and was re-injected. */
export const RotatedData = Type.Object(
  {
    app: Type.String(),
    environment: Type.String(),
    name: Type.String(),
    type: Type.String(),
    store: Type.String(),
    key: Type.String(),
    previousVersion: Type.String(),
    version: Type.String(),
    entries: Type.Array(Type.String()),
  },
  { additionalProperties: false },
)
export type RotatedData = Type.Static<typeof RotatedData>

/** `io.capbroker.capability.released.v1`: a capability was removed and its binding cleaned up. */
export const ReleasedData = Type.Object(
  {
    app: Type.String(),
    environment: Type.String(),
    name: Type.String(),
    type: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String({ description: 'why: manifest change, chat release, …' })),
  },
  { additionalProperties: false },
)
export type ReleasedData = Type.Static<typeof ReleasedData>

/** Each type's data schema (the source of its published file and of its generated check). */
export const dataSchemas = {
  [EventTypes.requested]: RequestedData,
  [EventTypes.resolved]: ResolvedData,
  [EventTypes.failed]: OutcomeData,
  [EventTypes.denied]: OutcomeData,
  [EventTypes.injected]: InjectedData,
  [EventTypes.rotated]: RotatedData,
  [EventTypes.released]: ReleasedData,
} as const
