/**
 * The embedded runtime's HTTP surface — the same paths as on AWS:
 * `POST /events`, `GET /apps/<app>/environments/<env>/bindings`, `GET /healthz`,
 * and the trigger paths `POST /webhooks/github` and `POST /chatops/slack` (see
 * webhooks.ts and chatops.ts). Handlers are thin: decode, call the broker, answer.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { bindingView } from '../broker/bindings.ts'
import type { Logger } from '../broker/ports.ts'
import type { ChatJob } from '../broker/triggers/chat-ops.ts'
import { EventTypes, NAME_PATTERN } from '../events/index.ts'
import { handleSlackCommand, MAX_SLASH_COMMAND_BYTES, notifyChatOutcome } from './chatops.ts'
import { decodeRequestedEvents, MAX_BODY_BYTES } from './ingest.ts'
import { HttpProblem, problemDocument } from './problem.ts'
import type { EmbeddedRuntime } from './runtime.ts'
import { outcomeBody } from './views.ts'
import { handleGitHubWebhook, MAX_WEBHOOK_BYTES } from './webhooks.ts'

/** What a request handler answers. */
interface Reply {
  readonly status: number
  readonly body: unknown
  readonly headers?: Record<string, string>
  /** Facts for the request's log line. */
  readonly log?: Record<string, unknown>
}

/** The HTTP server plus a way to wait for background work (graceful shutdown). */
export interface BrokerServer {
  readonly server: Server
  /** Resolves when every accepted event has been processed. */
  drain(): Promise<void>
}

const NAME = new RegExp(NAME_PATTERN)
const BINDINGS_PATH = /^\/apps\/([^/]+)\/environments\/([^/]+)\/bindings\/?$/
/** Events accepted without `wait` and not yet processed, at most. */
export const MAX_PENDING = 1000

function decodeSegment(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '')
  } catch {
    throw new HttpProblem(400, 'the path is not valid percent-encoding')
  }
}

/** The raw body, up to `limit` bytes (signatures are checked over the exact bytes). */
async function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(request.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit)
    throw new HttpProblem(413, `the body is larger than ${limit} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of request) {
      size += (chunk as Buffer).byteLength
      if (size > limit) throw new HttpProblem(413, `the body is larger than ${limit} bytes`)
      chunks.push(chunk as Buffer)
    }
  } catch (error) {
    if (error instanceof HttpProblem) throw error
    // The client went away mid-body: its problem, not an internal error to log loudly.
    throw new HttpProblem(400, 'the request body ended early (the client closed the connection)', {
      cause: error,
    })
  }
  return Buffer.concat(chunks)
}

/** Creates the HTTP server over an embedded runtime (not yet listening). */
export function createBrokerServer(
  runtime: EmbeddedRuntime,
  logger: Logger,
  version: string,
): BrokerServer {
  const background = new Set<Promise<unknown>>()

  const track = (work: Promise<unknown>) => {
    background.add(work)
    void work.finally(() => background.delete(work))
  }
  // A slash command's work runs after the acknowledgement, like any background request.
  const slackCommands = {
    ...runtime.triggers.slack,
    schedule: async (job: ChatJob) => {
      track(notifyChatOutcome(runtime.triggers.notify, job).catch(() => {}))
    },
  }

  async function postEvents(request: IncomingMessage, url: URL, requestId: string): Promise<Reply> {
    const events = decodeRequestedEvents(request.headers, await readBody(request))
    const wait = ['true', '1', ''].includes(url.searchParams.get('wait') ?? 'false')
    const [app, environment] = events[0]?.subject?.split('/') ?? []
    const subjects = { app, environment }
    if (!wait) {
      // Accepted work is bounded: past the limit the caller is asked to come back.
      if (background.size + events.length > MAX_PENDING) {
        throw new HttpProblem(503, `more than ${MAX_PENDING} requests are waiting; retry shortly`, {
          headers: { 'retry-after': '1' },
        })
      }
      for (const event of events) {
        if (event.type !== EventTypes.requested) continue
        track(
          runtime.broker.handle(event, { requestId }).catch((error: unknown) => {
            logger.error('request failed', {
              requestId,
              id: event.id,
              source: event.source,
              error: (error as Error).name,
            })
          }),
        )
      }
      return {
        status: 202,
        body: { accepted: events.map((e) => ({ id: e.id, source: e.source })) },
        log: subjects,
      }
    }
    const results = await Promise.all(
      events.map(async (event) => {
        if (event.type !== EventTypes.requested)
          throw new HttpProblem(400, 'only requested events are accepted')
        return outcomeBody(event, await runtime.broker.handle(event, { requestId }))
      }),
    )
    const single = results.length === 1 && !request.headers['content-type']?.includes('batch')
    if (single && results[0]?.status === 'in-progress') {
      throw new HttpProblem(
        409,
        `request ${results[0].id} from ${results[0].source} is being processed by another worker; retry shortly`,
        {
          headers: { 'retry-after': '5' },
        },
      )
    }
    return {
      status: 200,
      body: single ? results[0] : { results },
      log: { ...subjects, outcome: results.map((r) => r.status).join(',') },
    }
  }

  async function getBindings(app: string, environment: string): Promise<Reply> {
    for (const [what, value] of [
      ['app', app],
      ['environment', environment],
    ] as const) {
      if (!NAME.test(value)) throw new HttpProblem(400, `${what} must match ${NAME_PATTERN}`)
    }
    const bindings = (await runtime.state.listBindings({ app, environment })).map(bindingView)
    return { status: 200, body: { app, environment, bindings }, log: { app, environment } }
  }

  async function getHealth(): Promise<Reply> {
    const stores = await runtime.health()
    const ok = Object.values(stores).every((s) => s.status === 'ready')
    return {
      status: 200,
      body: { status: ok ? 'ok' : 'degraded', version, catalog: runtime.catalog.file, stores },
    }
  }

  async function route(request: IncomingMessage, url: URL, requestId: string): Promise<Reply> {
    const method = request.method ?? 'GET'
    const only = (allowed: string, handler: () => Promise<Reply>) => {
      if (method !== allowed)
        throw new HttpProblem(405, `${url.pathname} accepts ${allowed} only`, {
          headers: { allow: allowed },
        })
      return handler()
    }
    if (url.pathname === '/events') return only('POST', () => postEvents(request, url, requestId))
    if (url.pathname === '/healthz') return only('GET', getHealth)
    const bindings = BINDINGS_PATH.exec(url.pathname)
    if (bindings)
      return only('GET', () => getBindings(decodeSegment(bindings[1]), decodeSegment(bindings[2])))
    if (url.pathname === '/webhooks/github')
      return only('POST', async () =>
        handleGitHubWebhook(runtime.triggers.github, {
          headers: request.headers,
          body: await readBody(request, MAX_WEBHOOK_BYTES),
        }),
      )
    if (url.pathname === '/chatops/slack')
      return only('POST', async () =>
        handleSlackCommand(slackCommands, {
          headers: request.headers,
          body: await readBody(request, MAX_SLASH_COMMAND_BYTES),
        }),
      )
    throw new HttpProblem(404, `no such path: ${url.pathname}`)
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now()
    const header = request.headers['x-request-id']
    const requestId =
      typeof header === 'string' && /^[\w.-]{1,128}$/.test(header) ? header : randomUUID()
    const url = new URL(request.url ?? '/', 'http://localhost')
    let reply: Reply
    try {
      reply = await route(request, url, requestId)
    } catch (error) {
      const problem = problemDocument(error, url.pathname)
      if (problem.status >= 500 && problem.status !== 503)
        logger.error('internal error', {
          requestId,
          error: (error as Error).name,
          path: url.pathname,
        })
      reply = {
        status: problem.status,
        body: problem,
        headers: {
          'content-type': 'application/problem+json',
          ...(error instanceof HttpProblem ? error.headers : {}),
        },
      }
      // The rest of a refused body is not worth reading; close instead of draining it.
      if (!request.complete)
        reply = { ...reply, headers: { ...reply.headers, connection: 'close' } }
    }
    const body = JSON.stringify(reply.body)
    response.writeHead(reply.status, {
      'content-type': 'application/json',
      'x-request-id': requestId,
      ...reply.headers,
    })
    response.end(body)
    logger.info('http', {
      requestId,
      method: request.method,
      path: url.pathname,
      status: reply.status,
      ...reply.log,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    })
  }

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      logger.error('response failed', { error: (error as Error).name })
      response.destroy()
    })
  })
  return {
    server,
    async drain() {
      while (background.size > 0) await Promise.allSettled([...background])
    },
  }
}
