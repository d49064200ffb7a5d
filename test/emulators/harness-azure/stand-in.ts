/**
 * A stand-in for Lowkey Vault, for machines where it cannot be installed (Maven Central
 * here answers 404 for lowkey-vault-app). It is a real HTTPS server on loopback speaking
 * the Key Vault secrets REST API the SDK calls, so the SDK under test runs its whole
 * pipeline against it: TLS with a CA it must be given, the bearer challenge (401 with
 * `WWW-Authenticate`, then the token), api-version, JSON bodies and error codes.
 * Behaviour follows the Key Vault REST reference for set/get/list/delete secret and
 * get/purge deleted secret, with soft delete on: names are case-insensitive, versions
 * are 32 hex characters, a deleted name answers 409 to a write until purged. It is not
 * independent of our reading of that reference: prefer Lowkey Vault wherever it installs.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { Socket } from 'node:net'
import { loopbackIdentity } from './tls.ts'

/** A running stand-in. */
export interface KeyVaultStandIn {
  /** `https://127.0.0.1:PORT`: the vault URL. */
  readonly url: string
  /** The PEM certificate clients must trust. */
  readonly ca: string
  close(): Promise<void>
}

interface Version {
  readonly id: string
  readonly value: string
  readonly contentType?: string
  readonly created: number
}
interface Secret {
  readonly name: string
  readonly versions: Version[]
  deletedDate?: number
}

const NAME = /^[0-9a-zA-Z-]{1,127}$/
/** What Azure answers an unauthenticated request with (any tenant; resource = Key Vault). */
const CHALLENGE =
  'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"'

/** Starts the stand-in on a free loopback port. */
export async function startKeyVaultStandIn(): Promise<KeyVaultStandIn> {
  const { cert, key } = await loopbackIdentity()
  const live = new Map<string, Secret>()
  const deleted = new Map<string, Secret>()
  let base = ''
  const seconds = () => Math.floor(Date.now() / 1000)

  const send = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    })
    res.end(text)
  }
  const error = (res: ServerResponse, status: number, code: string, message: string) =>
    send(res, status, { error: { code, message } })
  const attributes = (version: Version) => ({
    enabled: true,
    created: version.created,
    updated: version.created,
    recoveryLevel: 'Recoverable+Purgeable',
    recoverableDays: 7,
  })
  const bundle = (secret: Secret, version: Version, withValue = true) => ({
    ...(withValue ? { value: version.value } : {}),
    ...(version.contentType === undefined ? {} : { contentType: version.contentType }),
    id: `${base}/secrets/${secret.name}/${version.id}`,
    attributes: attributes(version),
    tags: {},
  })
  const deletedBundle = (secret: Secret) => ({
    ...bundle(secret, secret.versions.at(-1)!, false),
    recoveryId: `${base}/deletedsecrets/${secret.name}`,
    deletedDate: secret.deletedDate,
    scheduledPurgeDate: (secret.deletedDate ?? 0) + 7 * 86_400,
  })
  const notFound = (res: ServerResponse, name: string) =>
    error(
      res,
      404,
      'SecretNotFound',
      `A secret with (name/id) ${name} was not found in this key vault.`,
    )

  async function route(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', base)
    if (!/^Bearer \S+/.test(req.headers.authorization ?? ''))
      return send(
        res,
        401,
        {
          error: {
            code: 'Unauthorized',
            message: 'AKV10000: Request is missing a Bearer or PoP token.',
          },
        },
        { 'www-authenticate': CHALLENGE },
      )
    if (!url.searchParams.get('api-version'))
      return error(res, 400, 'BadParameter', 'The api-version query parameter is required.')
    const [collection, rawName, rawVersion = ''] = url.pathname.split('/').filter(Boolean)
    const name = rawName ?? ''
    const id = name.toLowerCase()
    if (collection === 'secrets' && rawName === undefined && req.method === 'GET') {
      const max = Number(url.searchParams.get('maxresults') ?? 25)
      const value = [...live.values()].slice(0, max).map((s) => {
        const { value: _value, ...item } = bundle(s, s.versions.at(-1)!, false) as Record<
          string,
          unknown
        >
        return { ...item, id: `${base}/secrets/${s.name}` }
      })
      return send(res, 200, { value, nextLink: null })
    }
    if (!NAME.test(name)) return error(res, 400, 'BadParameter', 'The secret name is invalid.')
    if (collection === 'secrets') {
      const secret = live.get(id)
      if (req.method === 'PUT' && rawVersion === '') {
        if (deleted.has(id))
          return error(
            res,
            409,
            'Conflict',
            `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
          )
        const parsed = JSON.parse(body || '{}') as { value?: unknown; contentType?: unknown }
        if (typeof parsed.value !== 'string')
          return error(res, 400, 'BadParameter', 'Property value is required.')
        const target = secret ?? { name, versions: [] }
        const version: Version = {
          id: randomBytes(16).toString('hex'),
          value: parsed.value,
          created: seconds(),
          ...(typeof parsed.contentType === 'string' ? { contentType: parsed.contentType } : {}),
        }
        target.versions.push(version)
        live.set(id, target)
        return send(res, 200, bundle(target, version))
      }
      if (req.method === 'GET') {
        if (!secret) return notFound(res, name)
        const version =
          rawVersion === ''
            ? secret.versions.at(-1)
            : secret.versions.find((v) => v.id === rawVersion.toLowerCase())
        if (!version) return notFound(res, `${name}/${rawVersion}`)
        return send(res, 200, bundle(secret, version))
      }
      if (req.method === 'DELETE' && rawVersion === '') {
        if (!secret) return notFound(res, name)
        live.delete(id)
        secret.deletedDate = seconds()
        deleted.set(id, secret)
        return send(res, 200, deletedBundle(secret))
      }
    }
    if (collection === 'deletedsecrets' && rawVersion === '') {
      const secret = deleted.get(id)
      if (!secret) return notFound(res, name)
      if (req.method === 'GET') return send(res, 200, deletedBundle(secret))
      if (req.method === 'DELETE') {
        deleted.delete(id)
        return send(res, 204)
      }
    }
    return error(
      res,
      405,
      'BadRequest',
      `${req.method} ${url.pathname} is not supported by the stand-in`,
    )
  }

  const sockets = new Set<Socket>()
  const server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      route(req, res, Buffer.concat(chunks).toString('utf8')).catch(() =>
        error(res, 500, 'InternalError', 'stand-in failure'),
      )
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  base = `https://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  return {
    url: base,
    ca: cert,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
