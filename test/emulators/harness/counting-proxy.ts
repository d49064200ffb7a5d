/**
 * A real HTTP reverse proxy on loopback in front of an emulator. It counts requests per
 * operation (the `X-Amz-Target` header of the AWS JSON protocols) and injects faults at
 * the wire — a throttling answer, a 5xx, a connection reset, a hang, or a rewritten
 * request/response — so adapters are tested against what a network really does, not
 * against a mocked client.
 */
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/** What the proxy can do to a request instead of (or on the way to) forwarding it. */
export type Fault =
  /** 400 with an AWS JSON `ThrottlingException` body (and `Retry-After` if given). */
  | { readonly kind: 'throttle'; readonly retryAfterSeconds?: number }
  /** An HTTP error status with an AWS JSON error body of `errorType`. */
  | { readonly kind: 'status'; readonly status: number; readonly errorType?: string }
  /** Closes the connection with a TCP RST before answering. */
  | { readonly kind: 'reset' }
  /** Never answers; the socket is closed when the proxy closes or the client gives up. */
  | { readonly kind: 'hang' }
  /** Forwards, transforming the request body and/or the upstream response body. */
  | {
      readonly kind: 'rewrite'
      readonly request?: (body: Buffer) => Buffer
      readonly response?: (body: Buffer, requestBody: Buffer) => Buffer
    }

/** Which requests a fault applies to, and how many of them. */
export interface FaultScope {
  /** How many matching requests to fault (default 1; `Infinity` until {@link CountingProxy.clearFaults}). */
  readonly times?: number
  /** Only requests of this operation (`BatchGetSecretValue` or the full target). */
  readonly operation?: string
}

/** One request as the proxy saw it. */
export interface SeenRequest {
  readonly operation: string
  readonly faulted: Fault['kind'] | undefined
}

/** A running proxy. */
export interface CountingProxy {
  /** The proxy's base URL: give it to the client as its endpoint. */
  readonly url: string
  /** Requests seen (faulted ones included: they reached the wire). No argument: all of them. */
  count(operation?: string): number
  /** Every request seen, in order. */
  readonly seen: readonly SeenRequest[]
  /** Queues a fault for the next matching request(s). Faults apply first-queued first. */
  inject(fault: Fault, scope?: FaultScope): void
  clearFaults(): void
  /** Forgets counts and seen requests (faults stay). */
  resetCounts(): void
  close(): Promise<void>
}

/** How the proxy names a request's operation; AWS JSON by default. */
export type OperationOf = (req: IncomingMessage) => string

const awsOperation: OperationOf = (req) => {
  const target = req.headers['x-amz-target']
  return typeof target === 'string' ? target : `${req.method} ${req.url}`
}

/** True when `target` (e.g. `secretsmanager.BatchGetSecretValue`) names `operation`. */
function matches(target: string, operation: string): boolean {
  return target === operation || target.endsWith(`.${operation}`)
}

/** Starts a proxy on a free loopback port forwarding to `upstream` (an http URL). */
export async function startCountingProxy(
  upstream: string,
  operationOf: OperationOf = awsOperation,
): Promise<CountingProxy> {
  const target = new URL(upstream)
  const agent = new Agent({ keepAlive: true })
  const seen: SeenRequest[] = []
  const faults: { fault: Fault; left: number; operation?: string }[] = []
  const sockets = new Set<Socket>()

  const takeFault = (operation: string): Fault | undefined => {
    const index = faults.findIndex(
      (f) => f.operation === undefined || matches(operation, f.operation),
    )
    const entry = faults[index]
    if (entry === undefined) return undefined
    entry.left -= 1
    if (entry.left <= 0) faults.splice(index, 1)
    return entry.fault
  }

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    fault?: Fault & { kind: 'rewrite' },
  ) => {
    const sent = fault?.request ? fault.request(body) : body
    const headers = { ...req.headers, 'content-length': String(sent.length) }
    const upstreamReq = request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      },
      (upstreamRes) => {
        if (fault?.response === undefined) {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers)
          upstreamRes.pipe(res)
          return
        }
        const chunks: Buffer[] = []
        upstreamRes.on('data', (c: Buffer) => chunks.push(c))
        upstreamRes.on('end', () => {
          const rewritten = fault.response!(Buffer.concat(chunks), sent)
          const {
            'content-length': _length,
            'transfer-encoding': _te,
            ...rest
          } = upstreamRes.headers
          res.writeHead(upstreamRes.statusCode ?? 502, {
            ...rest,
            'content-length': String(rewritten.length),
          })
          res.end(rewritten)
        })
      },
    )
    upstreamReq.on('error', () => res.destroy())
    upstreamReq.end(sent)
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', function answerOrFault() {
      const operation = operationOf(req)
      const fault = takeFault(operation)
      seen.push({ operation, faulted: fault?.kind })
      const body = Buffer.concat(chunks)
      switch (fault?.kind) {
        case undefined:
          return forward(req, res, body)
        case 'rewrite':
          return forward(req, res, body, fault)
        case 'throttle':
          return awsError(res, 400, 'ThrottlingException', 'Rate exceeded', fault.retryAfterSeconds)
        case 'status':
          return awsError(
            res,
            fault.status,
            fault.errorType ?? defaultErrorType(fault.status),
            'injected by the test proxy',
          )
        case 'reset':
          return req.socket.resetAndDestroy()
        case 'hang':
          return
      }
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0

  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    count: (operation) =>
      operation === undefined
        ? seen.length
        : seen.filter((s) => matches(s.operation, operation)).length,
    inject: (fault, scope = {}) => {
      faults.push({ fault, left: scope.times ?? 1, operation: scope.operation })
    },
    clearFaults: () => {
      faults.length = 0
    },
    resetCounts: () => {
      seen.length = 0
    },
    close: async () => {
      faults.length = 0
      for (const socket of sockets) socket.destroy()
      agent.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function defaultErrorType(status: number): string {
  return status === 503 ? 'ServiceUnavailable' : 'InternalServiceError'
}

/** An error as the AWS JSON protocols send it: `__type` in the body and `x-amzn-ErrorType`. */
function awsError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  retryAfterSeconds?: number,
): void {
  const body = JSON.stringify({ __type: type, message })
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-errortype': type,
    'x-amzn-requestid': 'counting-proxy',
  }
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds)
  res.writeHead(status, headers)
  res.end(body)
}
