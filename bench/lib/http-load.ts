/**
 * A closed-loop HTTP load generator over keep-alive connections (what wrk and
 * autocannon do): `concurrency` workers each send a request, wait for the whole
 * answer, record its latency and send the next. Closed-loop numbers understate tail
 * latency under overload (coordinated omission), so the runs here stay below
 * saturation when they report a p99 — and say so next to the figure.
 */
import { Agent, request } from 'node:http'

/** One request to send. */
export interface LoadRequest {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly headers?: Record<string, string>
  readonly body?: string
}

/** What a worker learns from one answer. */
export interface LoadAnswer {
  readonly status: number
  readonly body: string
  readonly latencyMs: number
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  readonly url: string
  readonly concurrency: number
  /** Stop after this long... */
  readonly durationMs?: number
  /** ...or after this many requests, whichever comes first. */
  readonly requests?: number
  /** The i-th request (0-based, in send order). */
  readonly next: (index: number) => LoadRequest
  /** Called with every answer; may schedule a resend by returning a request. */
  readonly onAnswer?: (
    index: number,
    sent: LoadRequest,
    answer: LoadAnswer,
  ) => LoadRequest | undefined
}

/** The result of a run. */
export interface LoadResult {
  readonly sent: number
  readonly elapsedMs: number
  readonly latenciesMs: Float64Array
  readonly statuses: ReadonlyMap<number, number>
  readonly errors: number
}

/** Runs the load and resolves when every worker has finished its last request. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const target = new URL(options.url)
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  const latencies: number[] = []
  const statuses = new Map<number, number>()
  let errors = 0
  let issued = 0
  const limit = options.requests ?? Number.POSITIVE_INFINITY
  const started = performance.now()
  const deadline =
    options.durationMs === undefined ? Number.POSITIVE_INFINITY : started + options.durationMs

  const send = (req: LoadRequest): Promise<LoadAnswer> =>
    new Promise((resolve, reject) => {
      const begin = performance.now()
      const headers: Record<string, string> = { ...req.headers }
      if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body))
      const outgoing = request(
        {
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.path,
          headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              latencyMs: performance.now() - begin,
            }),
          )
          res.on('error', reject)
        },
      )
      outgoing.on('error', reject)
      outgoing.end(req.body)
    })

  async function worker(): Promise<void> {
    let resend: LoadRequest | undefined
    while (resend !== undefined || (issued < limit && performance.now() < deadline)) {
      const index = resend === undefined ? issued++ : -1
      const req = resend ?? options.next(index)
      resend = undefined
      try {
        const answer = await send(req)
        latencies.push(answer.latencyMs)
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
        const again = options.onAnswer?.(index, req, answer)
        if (again) resend = again
      } catch {
        errors++
      }
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, worker))
  const elapsedMs = performance.now() - started
  agent.destroy()
  return {
    sent: latencies.length + errors,
    elapsedMs,
    latenciesMs: Float64Array.from(latencies),
    statuses,
    errors,
  }
}
