import { createHash } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request the fake API received. */
export interface ReceivedRequest {
  readonly method: string
  readonly url: string
  readonly path: string
  readonly ref: string | null
  readonly headers: IncomingHttpHeaders
}

/** A canned answer for the next requests (status, headers, JSON body). */
export interface CannedAnswer {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: unknown
}

/**
 * A stand-in for the GitHub REST API's contents endpoint on 127.0.0.1, answering in
 * the documented shape: `GET /repos/{owner}/{repo}/contents/{path}?ref=` gives
 * `{ type: "file", encoding: "base64", content, size, sha, … }` (content wrapped at 60
 * characters, as GitHub does), `404 { message: "Not Found" }` for a missing file, and
 * an array for a directory. `prefix` stands for GitHub Enterprise's `/api/v3`.
 */
export class ContentsApi {
  readonly requests: ReceivedRequest[] = []
  readonly #files = new Map<string, string>()
  readonly #server: Server
  readonly #prefix: string
  canned: CannedAnswer | undefined

  constructor(prefix = '') {
    this.#prefix = prefix
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const match = new RegExp(`^${this.#prefix}/repos/([^/]+)/([^/]+)/contents/(.+)$`).exec(
        url.pathname,
      )
      const path = match ? decodeURIComponent(match[3] ?? '') : ''
      const ref = url.searchParams.get('ref')
      this.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        path,
        ref,
        headers: req.headers,
      })
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
        res.end(JSON.stringify(body))
      }
      if (this.canned)
        return send(
          this.canned.status,
          this.canned.body ?? { message: 'canned' },
          this.canned.headers,
        )
      if (!match || req.method !== 'GET') return send(404, { message: 'Not Found' })
      const [owner, repo] = [match[1], match[2]]
      const dir = [...this.#files.keys()].filter((k) =>
        k.startsWith(`${owner}/${repo}@${ref}:${path}/`),
      )
      const text = this.#files.get(`${owner}/${repo}@${ref}:${path}`)
      if (text === undefined && dir.length > 0)
        return send(
          200,
          dir.map((k) => ({ type: 'file', name: k.split('/').at(-1), path: k.split(':')[1] })),
        )
      if (text === undefined)
        return send(404, {
          message: 'Not Found',
          documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content',
        })
      const content = Buffer.from(text)
        .toString('base64')
        .replace(/(.{60})/g, '$1\n')
      const html = `https://github.com/${owner}/${repo}/blob/${ref}/${path}`
      send(200, {
        type: 'file',
        encoding: 'base64',
        size: Buffer.byteLength(text),
        name: path.split('/').at(-1),
        path,
        content,
        sha: createHash('sha1')
          .update(`blob ${Buffer.byteLength(text)}\0${text}`)
          .digest('hex'),
        url: `${this.url}/repos/${owner}/${repo}/contents/${path}?ref=${ref}`,
        git_url: null,
        html_url: html,
        download_url: null,
        _links: { self: `${this.url}/repos/${owner}/${repo}/contents/${path}`, git: null, html },
      })
    })
  }

  /** A file of a repository at a commit. */
  put(repository: string, commit: string, path: string, text: string): void {
    this.#files.set(`${repository}@${commit}:${path}`, text)
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${this.#prefix}`
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
