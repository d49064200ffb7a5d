/** Talking to a running `capbroker serve`: problem documents become clear errors. */
import { UsageError } from './errors.ts'

/** The server answered with an error status: the problem document's message, and the status. */
export class HttpAnswerError extends UsageError {
  override name = 'HttpAnswerError'
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

async function call(url: URL, init: RequestInit): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) })
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name
    throw new UsageError(
      `cannot reach capbroker at ${url.origin} (${cause}); is \`capbroker serve\` running?`,
    )
  }
  const text = await response.text()
  let body: unknown
  try {
    body = text === '' ? undefined : JSON.parse(text)
  } catch {
    throw new UsageError(
      `${url.origin} answered ${response.status} with something that is not JSON; is it capbroker?`,
    )
  }
  if (!response.ok) {
    const problem = body as
      | { detail?: string; title?: string; errors?: { path: string; message: string }[] }
      | undefined
    const errors = problem?.errors?.map((e) => `\n  ${e.path}: ${e.message}`).join('') ?? ''
    throw new HttpAnswerError(
      response.status,
      `capbroker answered ${response.status} ${problem?.title ?? ''}: ${problem?.detail ?? 'no detail'}${errors}`,
    )
  }
  return body
}

/** POSTs a JSON body and returns the JSON answer. */
export function postJson(
  url: URL,
  body: unknown,
  contentType = 'application/json',
): Promise<unknown> {
  return call(url, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: JSON.stringify(body),
  })
}

/** GETs JSON. */
export function getJson(url: URL): Promise<unknown> {
  return call(url, { method: 'GET' })
}

/** Checks a `--server` value: an http(s) URL. */
export function serverUrl(value: string): URL {
  const url = URL.canParse(value) ? new URL(value) : undefined
  if (!url || !/^https?:$/.test(url.protocol)) {
    throw new UsageError(`--server must be a URL like http://127.0.0.1:7777 (got "${value}")`)
  }
  return url
}
