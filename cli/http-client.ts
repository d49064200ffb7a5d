/** Talking to a running `capbroker serve`: problem documents become clear errors. */
import { UsageError } from './errors.ts'

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
    throw new UsageError(
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
