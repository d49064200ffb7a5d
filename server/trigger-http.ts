/**
 * What the chat-ops and webhook triggers share over HTTP: the request and reply shapes
 * and reading headers and a signed body. Apart from webhooks.ts so that the Slack
 * functions do not carry the Git trigger (and its YAML manifest parser).
 */
import type { IncomingHttpHeaders } from 'node:http'
import { HttpProblem } from './problem.ts'

/** A trigger request as any host sees it: lower-case headers and the raw body. */
export interface TriggerRequest {
  readonly headers: IncomingHttpHeaders | Readonly<Record<string, string | undefined>>
  readonly body: Buffer
}

/** A trigger's answer (the embedded server's Reply shape). */
export interface TriggerReply {
  readonly status: number
  readonly body: unknown
  readonly headers?: Record<string, string>
  readonly log?: Record<string, unknown>
}

/** A header's first value. */
export function header(request: TriggerRequest, name: string): string | undefined {
  const value = (request.headers as Record<string, string | string[] | undefined>)[name]
  return Array.isArray(value) ? value[0] : value
}

/** The body as text; GitHub and Slack sign the exact bytes, so invalid UTF-8 is refused. */
export function bodyText(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    throw new HttpProblem(400, 'the body is not valid UTF-8')
  }
}
