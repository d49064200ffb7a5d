/**
 * `ingest` — HTTP API `POST /events`: CloudEvents in (binary, structured or batch),
 * validated `requested` events onto the EventBridge bus, `202 { accepted }` out. The
 * resolution itself happens in `resolve`, on the bus's rule.
 */
import type { Headers } from 'cloudevents'
import { EventTooLargeError } from '../adapters/eventbridge/entries.ts'
import type { EventBus } from '../broker/ports.ts'
import { decodeRequestedEvents } from '../server/ingest.ts'
import { HttpProblem } from '../server/problem.ts'
import { createEventBus, createHostLogger, lazy, prewarm } from './host.ts'
import type { FunctionOptions } from './middleware.ts'
import { httpFunction, invocationFacts, jsonResponse, requestBody } from './middleware.ts'

/** What `ingest` needs: the bus (built once per execution environment). */
export interface IngestDependencies extends FunctionOptions {
  readonly bus: () => EventBus
}

/** Builds the `ingest` handler over its dependencies. */
export function createIngestHandler(deps: IngestDependencies) {
  return httpFunction(deps, async function ingestEvents(event, context) {
    const wait = new URLSearchParams(event.rawQueryString ?? '').get('wait')
    // The embedded server's ?wait=true answers with the outcome; here nobody waits for it.
    if (wait !== null && ['true', '1', ''].includes(wait))
      throw new HttpProblem(
        400,
        'wait is not available on the AWS deployment: requests are resolved asynchronously; follow the outcome events on the bus or GET the bindings',
      )
    const events = decodeRequestedEvents(event.headers as Headers, requestBody(event))
    const [app, environment] = events[0]?.subject?.split('/') ?? []
    Object.assign(invocationFacts(context), { app, environment, events: events.length })
    try {
      await deps.bus().publish(events)
    } catch (error) {
      if (error instanceof EventTooLargeError) throw new HttpProblem(413, error.message)
      throw error
    }
    return jsonResponse(202, { accepted: events.map((e) => ({ id: e.id, source: e.source })) })
  })
}

const logger = createHostLogger(process.env)
const bus = lazy(() => createEventBus(process.env))
prewarm(process.env, logger, bus)

/** The Lambda entry point (`functions/ingest.handler`). */
export const handler = createIngestHandler({ name: 'ingest', logger, bus })
