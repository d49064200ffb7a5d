/**
 * A real HTTPS reverse proxy on loopback in front of a Key Vault peer. Key Vault clients
 * refuse plain HTTP, so the proxy terminates TLS with its own loopback certificate (the
 * client trusts it like any emulator CA) and opens its own TLS connection upstream,
 * trusting the peer's certificate. It counts requests and, on demand, answers instead
 * with what a throttling or failing Key Vault sends: 429 with `Retry-After`, or a 5xx,
 * each with Key Vault's JSON error body. Faults last until cleared.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Agent, createServer, request } from 'node:https'
import type { Socket } from 'node:net'
import { loopbackIdentity } from './tls.ts'

/** What the proxy answers instead of forwarding. */
export interface HttpFault {
  readonly status: number
  /** Sent as `Retry-After` (seconds). */
  readonly retryAfterSeconds?: number
}

/** A running proxy. */
export interface HttpsFaultProxy {
  /** `https://127.0.0.1:PORT`: give it to the client as the vault URL. */
  readonly url: string
  /** The PEM certificate the client must trust for the proxy. */
  readonly ca: string
  /** Requests seen (faulted ones too), optionally only those of one HTTP method. */
  count(method?: string): number
  /** Answers every request with the fault until {@link clearFaults}. */
  inject(fault: HttpFault): void
  clearFaults(): void
  close(): Promise<void>
}

/** Starts a proxy for `upstream` (an https URL) whose certificate chains to `upstreamCa`. */
export async function startHttpsFaultProxy(
  upstream: string,
  upstreamCa: string,
): Promise<HttpsFaultProxy> {
  const { cert, key } = await loopbackIdentity()
  const target = new URL(upstream)
  const agent = new Agent({ keepAlive: true, ca: upstreamCa })
  const seen: string[] = []
  let fault: HttpFault | undefined
  const sockets = new Set<Socket>()

  const answerWithFault = (res: ServerResponse, f: HttpFault) => {
    const code = f.status === 429 ? 'Throttled' : 'InternalServerError'
    const body = JSON.stringify({ error: { code, message: 'injected by the test proxy' } })
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
    }
    if (f.retryAfterSeconds !== undefined) headers['retry-after'] = String(f.retryAfterSeconds)
    res.writeHead(f.status, headers)
    res.end(body)
  }

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const upstreamReq = request(
      {
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        // The peer picks its vault by Host (Lowkey Vault does): speak as its own URL.
        headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
        agent,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers)
        upstreamRes.pipe(res)
      },
    )
    upstreamReq.on('error', () => res.destroy())
    upstreamReq.end(body)
  }

  const server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen.push(req.method ?? 'GET')
      if (fault !== undefined) answerWithFault(res, fault)
      else forward(req, res, Buffer.concat(chunks))
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0

  return {
    url: `https://127.0.0.1:${port}`,
    ca: cert,
    count: (method) =>
      method === undefined ? seen.length : seen.filter((m) => m === method).length,
    inject: (f) => {
      fault = f
    },
    clearFaults: () => {
      fault = undefined
    },
    close: async () => {
      fault = undefined
      for (const socket of sockets) socket.destroy()
      agent.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
