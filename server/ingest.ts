/**
 * Decoding `POST /events`: the CloudEvents HTTP binding (binary, structured, batch)
 * through the CloudEvents SDK, then our own parser for the contract. Shared by the
 * embedded server and the `ingest` Lambda.
 */
import { type Headers, HTTP, type CloudEvent as SdkEvent } from 'cloudevents'
import { ManifestError } from '../broker/errors.ts'
import { normalizeRequest } from '../broker/manifest.ts'
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
 * are accepted, and their manifests are checked here, once, at the edge. Throws
 * {@link HttpProblem}: 413 too large, 415 other content types, 400 malformed (with
 * `errors` naming each attribute or data field).
 *
 * Binary mode goes through the CloudEvents SDK, which maps the `ce-*` headers.
 * Structured and batch bodies are checked as sent: the SDK fills a missing `id` with a
 * random one, which would turn every redelivery of such an event into a new request.
 */
export function decodeRequestedEvents(headers: Headers, body: Buffer): AnyCloudEvent[] {
  if (body.byteLength > MAX_BODY_BYTES) {
    throw new HttpProblem(413, `the body is larger than ${MAX_BODY_BYTES} bytes`)
  }
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
  const batch = type === 'application/cloudevents-batch+json'
  const raws = type === 'application/json' ? [decodeBinary(headers, text)] : decodeJson(text, batch)
  if (raws.length === 0) throw new HttpProblem(400, 'the batch is empty')
  if (raws.length > MAX_BATCH_EVENTS) {
    throw new HttpProblem(413, `a batch may carry at most ${MAX_BATCH_EVENTS} events`)
  }
  return raws.map((raw, i) => checkRequested(raw, batch ? `[${i}].` : ''))
}

function decodeBinary(headers: Headers, text: string): unknown {
  const missing = ['ce-id', 'ce-source', 'ce-type', 'ce-specversion'].filter(
    (h) => headers[h] === undefined,
  )
  if (missing.length > 0) {
    throw new HttpProblem(
      400,
      `binary-mode CloudEvents need the headers ${missing.join(', ')} (or send application/cloudevents+json)`,
    )
  }
  try {
    return (HTTP.toEvent({ headers, body: text }) as SdkEvent<unknown>).toJSON()
  } catch (error) {
    const message =
      error instanceof SyntaxError
        ? `the data is not valid JSON${jsonPosition(error)}`
        : `not a CloudEvent: ${(error as Error).message}`
    throw new HttpProblem(400, message, { cause: error })
  }
}

function decodeJson(text: string, batch: boolean): unknown[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new HttpProblem(400, `the body is not valid JSON${jsonPosition(error)}`, { cause: error })
  }
  if (batch && !Array.isArray(parsed))
    throw new HttpProblem(400, 'a batch must be a JSON array of events')
  if (!batch && Array.isArray(parsed)) {
    throw new HttpProblem(
      400,
      'the body is a JSON array: send a batch as application/cloudevents-batch+json',
    )
  }
  return batch ? (parsed as unknown[]) : [parsed]
}

/** Problems one answer lists at most; the parsers cap theirs too, this is the backstop. */
export const MAX_LISTED_PROBLEMS = 100

function invalid(
  problems: readonly { path: string; message: string }[],
  prefix: string,
  cause: unknown,
): HttpProblem {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS)
  if (problems.length > listed.length)
    listed.push({ path: 'data', message: `has ${problems.length - listed.length} more problems` })
  const errors = listed.map((p) => ({ path: `${prefix}${p.path}`, message: p.message }))
  return new HttpProblem(
    400,
    `invalid CloudEvent: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    {
      errors,
      cause,
    },
  )
}

function checkRequested(raw: unknown, prefix: string): AnyCloudEvent {
  let event: AnyCloudEvent
  try {
    event = parseEvent(raw)
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error
    throw invalid(error.problems, prefix, error)
  }
  if (event.type !== EventTypes.requested) {
    const message = `"${event.type}" cannot be sent to /events (only ${EventTypes.requested})`
    throw invalid([{ path: 'type', message }], prefix, undefined)
  }
  try {
    normalizeRequest(event.data)
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error
    throw invalid(
      error.problems.map((p) => ({
        path: p.path.startsWith('data') ? p.path : `data.${p.path}`,
        message: p.message,
      })),
      prefix,
      error,
    )
  }
  return event
}
