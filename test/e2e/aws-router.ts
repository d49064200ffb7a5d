/**
 * The one AWS endpoint the functions get in the e2e (CAPBROKER_AWS_ENDPOINT): a
 * loopback proxy that sends every call to moto, and every EventBridge PutEvents also
 * to serverless-offline-aws-eventbridge's mock, which invokes the local functions whose
 * rules match. So EventBridge here is two real peers: moto keeps the bus and delivers
 * to the queue an operator's rule would (where the test reads outcomes), the plugin
 * plays the rule → Lambda delivery that moto cannot run without Docker.
 */
import { createServer, type IncomingMessage, request } from 'node:http'
import type { Socket } from 'node:net'

/** A running router. */
export interface AwsRouter {
  /** `http://127.0.0.1:PORT`: the endpoint for every AWS client of the functions. */
  readonly url: string
  /** The `X-Amz-Target` (or method and path) of every call, in order. */
  readonly seen: readonly string[]
  close(): Promise<void>
}

interface Answer {
  readonly status: number
  readonly headers: IncomingMessage['headers']
  readonly body: Buffer
}

const PUT_EVENTS = 'AWSEvents.PutEvents'

/** Starts the router on a free loopback port in front of moto and the EventBridge mock. */
export async function startAwsRouter(upstreams: {
  readonly moto: string
  readonly eventBridgeMock: string
}): Promise<AwsRouter> {
  const seen: string[] = []
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async function routeAwsCall() {
      const body = Buffer.concat(chunks)
      const target = req.headers['x-amz-target']
      const operation = typeof target === 'string' ? target : `${req.method} ${req.url}`
      seen.push(operation)
      try {
        const [answer] = await Promise.all([
          forward(upstreams.moto, req, body),
          // The mock answers every call with success; only its delivery matters.
          operation === PUT_EVENTS ? forward(upstreams.eventBridgeMock, req, body) : undefined,
        ])
        const { 'transfer-encoding': _te, ...headers } = answer.headers
        res.writeHead(answer.status, { ...headers, 'content-length': answer.body.length })
        res.end(answer.body)
      } catch {
        res.destroy()
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
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function forward(upstream: string, req: IncomingMessage, body: Buffer): Promise<Answer> {
  const target = new URL(upstream)
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
      },
      (incoming) => {
        const chunks: Buffer[] = []
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 502,
            headers: incoming.headers,
            body: Buffer.concat(chunks),
          }),
        )
        incoming.on('error', reject)
      },
    )
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}
