/**
 * A real HTTP/2 (h2c) proxy on loopback in front of a gRPC server. It forwards every
 * call byte for byte — headers, messages, trailers — and counts calls per method; on
 * demand it answers instead with a gRPC status of our choosing (RESOURCE_EXHAUSTED,
 * UNAVAILABLE, …) as a trailers-only response, exactly what a throttling or failing
 * server puts on the wire. Faults last until cleared: the SDK must give up, not retry
 * past them.
 */
import {
  type ClientHttp2Session,
  connect,
  constants,
  createServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2'
import type { Socket } from 'node:net'

/** A gRPC status to answer with instead of forwarding. */
export interface GrpcFault {
  /** The gRPC status code, e.g. 8 (RESOURCE_EXHAUSTED). */
  readonly code: number
  readonly message?: string
  /** Only calls whose method (last path segment) is this. */
  readonly method?: string
}

/** A running proxy. */
export interface GrpcFaultProxy {
  /** `127.0.0.1:PORT`: give it to the client as its endpoint. */
  readonly endpoint: string
  /** Calls seen (faulted ones too), optionally of one method (`AccessSecretVersion`). */
  count(method?: string): number
  /** Answers every matching call with the fault until {@link clearFaults}. */
  inject(fault: GrpcFault): void
  clearFaults(): void
  close(): Promise<void>
}

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_STATUS } = constants

/** Starts a proxy on a free loopback port forwarding to `upstream` (`host:port`, plaintext). */
export async function startGrpcFaultProxy(upstream: string): Promise<GrpcFaultProxy> {
  const seen: string[] = []
  const faults: GrpcFault[] = []
  const sockets = new Set<Socket>()
  let session: ClientHttp2Session | undefined
  const upstreamSession = (): ClientHttp2Session => {
    if (session === undefined || session.closed || session.destroyed) {
      const created = connect(`http://${upstream}`)
      created.on('error', () => created.destroy())
      created.on('close', () => {
        if (session === created) session = undefined
      })
      session = created
    }
    return session
  }

  const answerWithFault = (stream: ServerHttp2Stream, fault: GrpcFault) => {
    stream.resume()
    stream.respond(
      {
        [HTTP2_HEADER_STATUS]: 200,
        'content-type': 'application/grpc',
        'grpc-status': String(fault.code),
        'grpc-message': encodeURIComponent(fault.message ?? 'injected by the test proxy'),
      },
      { endStream: true },
    )
  }

  const forward = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const outgoing: OutgoingHttpHeaders = {}
    for (const [name, value] of Object.entries(headers)) {
      // The session sets :scheme and :authority for the upstream itself.
      if (name === ':scheme' || name === ':authority') continue
      outgoing[name] = value
    }
    const up = upstreamSession().request(outgoing)
    let trailers: OutgoingHttpHeaders = {}
    up.on('response', (responseHeaders, flags) => {
      const endStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0
      // A trailers-only answer (every error) must stay one HEADERS frame with END_STREAM.
      stream.respond(responseHeaders, endStream ? { endStream: true } : { waitForTrailers: true })
    })
    up.on('trailers', (received) => {
      trailers = received
    })
    stream.on('wantTrailers', () => stream.sendTrailers(trailers))
    up.on('data', (chunk: Buffer) => {
      if (!stream.destroyed) stream.write(chunk)
    })
    up.on('end', () => {
      if (!stream.destroyed && stream.headersSent && !stream.writableEnded) stream.end()
    })
    up.on('error', () => stream.destroy())
    stream.on('close', () => {
      if (!up.closed) up.close(constants.NGHTTP2_CANCEL)
    })
    stream.pipe(up)
  }

  const server = createServer()
  server.on('stream', (stream, headers) => {
    const path = String(headers[HTTP2_HEADER_PATH] ?? '')
    const method = path.slice(path.lastIndexOf('/') + 1)
    seen.push(method)
    const fault = faults.find((f) => f.method === undefined || f.method === method)
    stream.on('error', () => {})
    if (fault !== undefined && headers[HTTP2_HEADER_METHOD] === 'POST')
      answerWithFault(stream, fault)
    else forward(stream, headers)
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0

  return {
    endpoint: `127.0.0.1:${port}`,
    count: (method) =>
      method === undefined ? seen.length : seen.filter((m) => m === method).length,
    inject: (fault) => {
      faults.push(fault)
    },
    clearFaults: () => {
      faults.length = 0
    },
    close: async () => {
      faults.length = 0
      session?.destroy()
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
