/** What the HTTP API (and the CLI) show of an outcome: statuses and names, never values. */
import type { RequestResult } from '../broker/outcome.ts'
import { type AnyCloudEvent, EventTypes } from '../events/index.ts'

function injectedInto(events: readonly AnyCloudEvent[]) {
  for (const e of events) {
    if (e.type === EventTypes.injected) {
      const { sink, location, version } = e.data
      return { bindings: { sink, location, ...(version ? { version } : {}) } }
    }
  }
  return {}
}

/** The JSON an app gets for one processed request. */
export function outcomeBody(event: { id: string; source: string }, result: RequestResult) {
  return {
    id: event.id,
    source: event.source,
    status: result.status,
    duplicate: result.duplicate,
    ...(result.retryable ? { retryable: true } : {}),
    ...(result.reason ? { reason: result.reason } : {}),
    capabilities: result.capabilities,
    ...injectedInto(result.events),
    events: result.events.map((e) => ({ id: e.id, type: e.type })),
  }
}

/** The body of {@link outcomeBody}. */
export type OutcomeBody = ReturnType<typeof outcomeBody>
