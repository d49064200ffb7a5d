/**
 * The embedded runtime's HTTP surface — the same paths as on AWS:
 * `POST /events`, `GET /apps/<app>/environments/<env>/bindings`, `GET /healthz`,
 * and the trigger paths. Handlers are thin: decode, call the broker, answer.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { RequestResult } from '../broker/pipeline.ts'
import type { Logger } from '../broker/ports.ts'
import { type AnyCloudEvent, EventTypes, NAME_PATTERN } from '../events/index.ts'
import { decodeRequestedEvents, MAX_BODY_BYTES } from './ingest.ts'
import { HttpProblem, problemDocument } from './problem.ts'
import type { EmbeddedRuntime } from './runtime.ts'

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

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const declared = Number(request.headers['content-length'])
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES)
    throw new HttpProblem(413, `the body is larger than ${MAX_BODY_BYTES} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength
    if (size > MAX_BODY_BYTES)
      throw new HttpProblem(413, `the body is larger than ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** The JSON an app gets for one processed request: statuses and names, never values. */
export function outcomeBody(event: AnyCloudEvent, result: RequestResult) {
  return {
    id: event.id,
    source: event.source,
    status: result.status,
    duplicate: result.duplicate,
    capabilities: result.capabilities,
    ...injectedInto(result.events),
    events: result.events.map((e) => ({ id: e.id, type: e.type })),
  }
}

function injectedInto(events: readonly AnyCloudEvent[]) {
  for (const e of events) {
    if (e.type === EventTypes.injected) {
      return {
        bindings: {
          sink: e.data.sink,
          location: e.data.location,
          ...(e.data.version ? { version: e.data.version } : {}),
        },
      }
    }
  }
  return {}
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

  async function postEvents(request: IncomingMessage, url: URL): Promise<Reply> {
    const events = decodeRequestedEvents(request.headers, await readBody(request))
    const wait = ['true', '1', ''].includes(url.searchParams.get('wait') ?? 'false')
    const subjects = {
      app: events[0]?.subject?.split('/')[0],
      environment: events[0]?.subject?.split('/')[1],
    }
    if (!wait) {
      for (const event of events) {
        if (event.type !== EventTypes.requested) continue
        track(
          runtime.broker.handle(event).catch((error: unknown) => {
            logger.error('request failed', {
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
        return outcomeBody(event, await runtime.broker.handle(event))
      }),
    )
    const single = results.length === 1 && !request.headers['content-type']?.includes('batch')
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
    const records = await runtime.state.listBindings({ app, environment })
    const bindings = records.map((r) => ({
      name: r.name,
      type: r.type,
      status: 'ready',
      provider: r.provider,
      store: r.store,
      key: r.key,
      version: r.version,
      entries: r.entries,
      secretEntries: r.secretEntries,
      sink: r.sink,
      location: r.location,
      injectedAt: r.injectedAt,
    }))
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

  async function route(request: IncomingMessage, url: URL): Promise<Reply> {
    const method = request.method ?? 'GET'
    const only = (allowed: string, handler: () => Promise<Reply>) => {
      if (method !== allowed)
        throw new HttpProblem(405, `${url.pathname} accepts ${allowed} only`, {
          headers: { allow: allowed },
        })
      return handler()
    }
    if (url.pathname === '/events') return only('POST', () => postEvents(request, url))
    if (url.pathname === '/healthz') return only('GET', getHealth)
    const bindings = BINDINGS_PATH.exec(url.pathname)
    if (bindings)
      return only('GET', () =>
        getBindings(decodeURIComponent(bindings[1] ?? ''), decodeURIComponent(bindings[2] ?? '')),
      )
    if (url.pathname === '/webhooks/github' || url.pathname === '/chatops/slack') {
      return only('POST', async () => {
        throw new HttpProblem(
          501,
          `${url.pathname} is not available yet in this version of capbroker`,
        )
      })
    }
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
      reply = await route(request, url)
    } catch (error) {
      const problem = problemDocument(error, url.pathname)
      if (problem.status >= 500)
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
