import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One message posted to the receiver. */
export interface Posted {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly json: Record<string, unknown>
}

/**
 * Stands in for Slack's response_url on 127.0.0.1: records every POST and answers as
 * Slack does (200 `ok`), or with a status a test sets.
 */
export class ResponseUrlReceiver {
  readonly posted: Posted[] = []
  status = 200
  redirectTo: string | undefined
  readonly #server: Server
  readonly #waiters: (() => void)[] = []

  constructor() {
    this.#server = createServer(async (req, res) => {
      let body = ''
      for await (const chunk of req) body += chunk
      let json: Record<string, unknown> = {}
      try {
        json = JSON.parse(body) as Record<string, unknown>
      } catch {}
      this.posted.push({ path: req.url ?? '', headers: req.headers, body, json })
      for (const wake of this.#waiters.splice(0)) wake()
      if (this.redirectTo) {
        res.writeHead(302, { location: this.redirectTo })
        return res.end()
      }
      res.writeHead(this.status, { 'content-type': 'text/plain' })
      res.end(this.status === 200 ? 'ok' : 'no_text')
    })
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  /** Resolves once `count` messages have arrived (or rejects after `timeoutMs`). */
  async waitFor(count: number, timeoutMs = 5_000): Promise<Posted[]> {
    const deadline = Date.now() + timeoutMs
    while (this.posted.length < count) {
      if (Date.now() > deadline)
        throw new Error(`expected ${count} posts, got ${this.posted.length}`)
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 50)
      })
    }
    return this.posted
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    return this
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise((resolve) => this.#server.close(resolve))
  }
}
