/**
 * The schemas of what the triggers read from outside — GitHub's push payload, the chat
 * work a job carries to `notify` — as TypeBox sources of the checks generated ahead of
 * time (broker/generated/checks.ts, `npm run schemas`). Run-time code imports this
 * module for its types only.
 */
import * as Type from 'typebox/type'
import { MAX_CAPABILITIES, NAME_PATTERN } from '../../events/patterns.ts'
import { REPOSITORY_PATTERN } from '../catalog/patterns.ts'

const SHA = '^([0-9a-f]{40}|[0-9a-f]{64})$'
const Paths = Type.Optional(Type.Array(Type.String()))
const Commit = Type.Object({ added: Paths, modified: Paths, removed: Paths })

/** The part of GitHub's `push` payload the broker reads; everything else is ignored. */
export const PushPayload = Type.Object({
  ref: Type.String({ minLength: 1, maxLength: 1024 }),
  before: Type.String({ pattern: SHA }),
  after: Type.String({ pattern: SHA }),
  created: Type.Optional(Type.Boolean()),
  deleted: Type.Optional(Type.Boolean()),
  forced: Type.Optional(Type.Boolean()),
  repository: Type.Object({
    full_name: Type.String({ pattern: REPOSITORY_PATTERN }),
    html_url: Type.Optional(Type.String()),
  }),
  commits: Type.Optional(Type.Array(Commit)),
  head_commit: Type.Optional(Type.Union([Type.Null(), Commit])),
})
/** A push payload that passed git-push.ts's `checkPush`. */
export type PushPayload = Type.Static<typeof PushPayload>

const Name = Type.String({ pattern: NAME_PATTERN })
const Target = { app: Name, environment: Name }
/** The release and status work a job may carry; a requested event is checked by parseEvent. */
export const OtherWork = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('release'),
      release: Type.Object(
        {
          ...Target,
          names: Type.Array(Name, { minItems: 1, maxItems: MAX_CAPABILITIES }),
          reason: Type.String({ maxLength: 256 }),
          request: Type.Object(
            { source: Type.String({ minLength: 1 }), id: Type.String({ minLength: 1 }) },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('status'), target: Type.Object(Target, { additionalProperties: false }) },
    { additionalProperties: false },
  ),
])
