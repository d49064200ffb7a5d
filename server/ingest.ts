/**
 * Decoding `POST /events`: the CloudEvents HTTP binding (binary, structured, batch)
 * through the CloudEvents SDK, then our own parser for the contract. Shared by the
 * embedded server and the `ingest` Lambda.
 */
import { type Headers, HTTP, type CloudEvent as SdkEvent } from 'cloudevents'
import {
  type AnyCloudEvent,
  EventTypes,
  EventValidationError,
  parseEvent,
} from '../events/index.ts'
import { HttpProblem } from './problem.ts'

/** The largest body `POST /events` accepts. */
export const MAX_BODY_BYTES = 1024 * 1024
/** The most events one batch may carry. */
export const MAX_BATCH_EVENTS = 100

const JSON_TYPES = [
  'application/json',
  'application/cloudevents+json',
  'application/cloudevents-batch+json',
]

/** The media type without parameters, lower case. */
export function mediaType(headers: Headers): string {
  const raw = headers['content-type']
  const value = Array.isArray(raw) ? raw[0] : raw
  return (value ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/** Where JSON.parse stopped, without the snippet of input V8 quotes (it may hold a value). */
function jsonPosition(error: unknown): string {
  const match = /line (\d+) column (\d+)/.exec((error as Error).message)
  return match ? ` (line ${match[1]}, column ${match[2]})` : ''
}

function decodeText(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    throw new HttpProblem(400, 'the body is not valid UTF-8')
  }
}

/**
 * Decodes and validates the CloudEvents of an HTTP request. Only `requested` events
 * are accepted. Throws {@link HttpProblem}: 413 too large, 415 other content types,
 * 400 malformed (with `errors` naming each attribute or data field).
 */
export function decodeRequestedEvents(headers: Headers, body: Buffer): AnyCloudEvent[] {
  if (body.byteLength > MAX_BODY_BYTES)
    throw new HttpProblem(413, `the body is larger than ${MAX_BODY_BYTES} bytes`)
  const type = mediaType(headers)
  if (!JSON_TYPES.includes(type)) {
    throw new HttpProblem(
      415,
      `content type "${type || '(none)'}" is not accepted; send ${JSON_TYPES.join(', ')}`,
      {
        headers: { accept: JSON_TYPES.join(', ') },
      },
    )
  }
  const text = decodeText(body)
  if (type === 'application/json' && headers['ce-id'] === undefined) {
    throw new HttpProblem(
      400,
      'binary-mode CloudEvents need ce-id, ce-source, ce-type and ce-specversion headers (or send application/cloudevents+json)',
    )
  }
  if (type !== 'application/json') {
    try {
      JSON.parse(text)
    } catch (error) {
      throw new HttpProblem(400, `the body is not valid JSON${jsonPosition(error)}`, {
        cause: error,
      })
    }
  }
  let decoded: unknown
  try {
    const out = HTTP.toEvent({ headers, body: text }) as SdkEvent<unknown> | SdkEvent<unknown>[]
    decoded = Array.isArray(out) ? out.map((e) => e.toJSON()) : out.toJSON()
  } catch (error) {
    if (type === 'application/cloudevents-batch+json') {
      // The SDK validates batch members itself; re-check them with our parser for a precise message.
      decoded = JSON.parse(text)
      if (!Array.isArray(decoded))
        throw new HttpProblem(400, 'a batch must be a JSON array of events', { cause: error })
    } else {
      const message =
        error instanceof SyntaxError
          ? `the data is not valid JSON${jsonPosition(error)}`
          : `not a CloudEvent: ${(error as Error).message}`
      throw new HttpProblem(400, message, { cause: error })
    }
  }
  const list = Array.isArray(decoded) ? decoded : [decoded]
  if (list.length === 0) throw new HttpProblem(400, 'the batch is empty')
  if (list.length > MAX_BATCH_EVENTS)
    throw new HttpProblem(413, `a batch may carry at most ${MAX_BATCH_EVENTS} events`)
  return list.map((raw, i) => {
    const prefix = Array.isArray(decoded) ? `[${i}].` : ''
    try {
      const event = parseEvent(raw)
      if (event.type !== EventTypes.requested) {
        throw new EventValidationError([
          {
            path: 'type',
            message: `"${event.type}" cannot be sent to /events (only ${EventTypes.requested})`,
          },
        ])
      }
      return event
    } catch (error) {
      if (!(error instanceof EventValidationError)) throw error
      const errors = error.problems.map((p) => ({ path: `${prefix}${p.path}`, message: p.message }))
      throw new HttpProblem(
        400,
        `invalid CloudEvent: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
        { errors, cause: error },
      )
    }
  })
}
