/**
 * A stand-in for the GCP Secret Manager emulator, for machines where it cannot be
 * installed (the Go module proxy here answers 403 for it). It is a real gRPC server on
 * loopback — Google's own service definition from the SDK package, served by
 * @grpc/grpc-js — so the SDK under test speaks real HTTP/2 gRPC to it, with real status
 * codes. Its behaviour follows the Secret Manager v1 RPC reference for the methods the
 * adapter uses: CreateSecret (ALREADY_EXISTS, replication required), AddSecretVersion
 * (NOT_FOUND for a missing secret, versions numbered from 1), AccessSecretVersion
 * (`latest` = newest enabled version, NOT_FOUND, FAILED_PRECONDITION for a disabled or
 * destroyed one), DeleteSecret (NOT_FOUND) and ListSecrets. Other methods answer
 * UNIMPLEMENTED. It is not independent of our reading of that reference: prefer the real
 * emulator (see gcp-emulator.ts) wherever it installs.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { loadGax } from '../../../adapters/gcp-secret-manager/client.ts'

/** A running stand-in. */
export interface GcpStandIn {
  /** `127.0.0.1:PORT`. */
  readonly endpoint: string
  close(): Promise<void>
}

interface Version {
  readonly number: number
  readonly data: Buffer
  readonly createTime: Timestamp
  state: 'ENABLED' | 'DISABLED' | 'DESTROYED'
}
interface Secret {
  readonly name: string
  readonly createTime: Timestamp
  readonly replication: unknown
  readonly versions: Version[]
}
interface Timestamp {
  readonly seconds: number
  readonly nanos: number
}
type Callback = (error: { code: number; details: string } | null, response?: unknown) => void
type Handler = (call: { request: Record<string, unknown> }, callback: Callback) => void

const ID = '[A-Za-z0-9_-]{1,255}'
const PROJECT = /^projects\/([^/]+)$/
const SECRET = new RegExp(`^projects/[^/]+/secrets/${ID}$`)
const VERSION = new RegExp(`^(projects/[^/]+/secrets/${ID})/versions/([^/]+)$`)
/** Secret Manager's payload limit. */
const MAX_PAYLOAD = 64 * 1024

/** Starts the stand-in on a free loopback port. */
export async function startGcpStandIn(): Promise<GcpStandIn> {
  const gax = loadGax()
  const { grpc } = gax
  const sdkMain = createRequire(import.meta.url).resolve('@google-cloud/secret-manager')
  const protos = join(dirname(sdkMain), '..', 'protos')
  const root = new gax.GrpcClient().loadProto(protos, 'google/cloud/secretmanager/v1/service.proto')
  // biome-ignore lint/suspicious/noExplicitAny: a dynamically loaded gRPC package tree
  const service = (root as any).google.cloud.secretmanager.v1.SecretManagerService.service
  const code = grpc.status
  const secrets = new Map<string, Secret>()
  const now = (): Timestamp => {
    const ms = Date.now()
    return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 }
  }
  const fail = (callback: Callback, status: number, details: string) =>
    callback({ code: status, details })
  const string = (value: unknown) => (typeof value === 'string' ? value : '')

  const handlers: Record<string, Handler> = {
    createSecret({ request }, callback) {
      const parent = string(request.parent)
      const secretId = string(request.secretId)
      if (!PROJECT.test(parent)) return fail(callback, code.INVALID_ARGUMENT, 'bad parent')
      if (!new RegExp(`^${ID}$`).test(secretId))
        return fail(callback, code.INVALID_ARGUMENT, 'bad secret id')
      const replication = (request.secret as { replication?: unknown } | null)?.replication
      if (!replication) return fail(callback, code.INVALID_ARGUMENT, 'replication is required')
      const name = `${parent}/secrets/${secretId}`
      if (secrets.has(name))
        return fail(callback, code.ALREADY_EXISTS, `Secret [${name}] already exists.`)
      const secret: Secret = { name, createTime: now(), replication, versions: [] }
      secrets.set(name, secret)
      callback(null, { name, createTime: secret.createTime, replication })
    },
    addSecretVersion({ request }, callback) {
      const parent = string(request.parent)
      if (!SECRET.test(parent)) return fail(callback, code.INVALID_ARGUMENT, 'bad parent')
      const secret = secrets.get(parent)
      if (!secret) return fail(callback, code.NOT_FOUND, `Secret [${parent}] not found.`)
      const data = Buffer.from((request.payload as { data?: Uint8Array } | null)?.data ?? [])
      if (data.length > MAX_PAYLOAD)
        return fail(callback, code.INVALID_ARGUMENT, 'payload too large')
      const version: Version = {
        number: (secret.versions.at(-1)?.number ?? 0) + 1,
        data,
        createTime: now(),
        state: 'ENABLED',
      }
      secret.versions.push(version)
      callback(null, {
        name: `${parent}/versions/${version.number}`,
        createTime: version.createTime,
        state: 'ENABLED',
      })
    },
    accessSecretVersion({ request }, callback) {
      const match = VERSION.exec(string(request.name))
      if (!match) return fail(callback, code.INVALID_ARGUMENT, 'bad version name')
      const [, secretName, wanted] = match as unknown as [string, string, string]
      const secret = secrets.get(secretName)
      if (!secret) return fail(callback, code.NOT_FOUND, `Secret [${secretName}] not found.`)
      const version =
        wanted === 'latest'
          ? secret.versions.filter((v) => v.state === 'ENABLED').at(-1)
          : secret.versions.find((v) => String(v.number) === wanted)
      if (!version)
        return fail(
          callback,
          code.NOT_FOUND,
          `Secret Version [${secretName}/versions/${wanted}] not found.`,
        )
      if (version.state !== 'ENABLED')
        return fail(
          callback,
          code.FAILED_PRECONDITION,
          `Secret Version is in ${version.state} state.`,
        )
      callback(null, {
        name: `${secretName}/versions/${version.number}`,
        payload: { data: version.data },
      })
    },
    deleteSecret({ request }, callback) {
      const name = string(request.name)
      if (!SECRET.test(name)) return fail(callback, code.INVALID_ARGUMENT, 'bad secret name')
      if (!secrets.delete(name))
        return fail(callback, code.NOT_FOUND, `Secret [${name}] not found.`)
      callback(null, {})
    },
    listSecrets({ request }, callback) {
      const parent = string(request.parent)
      if (!PROJECT.test(parent)) return fail(callback, code.INVALID_ARGUMENT, 'bad parent')
      const all = [...secrets.values()].filter((s) => s.name.startsWith(`${parent}/`))
      const pageSize = Number(request.pageSize) > 0 ? Number(request.pageSize) : 25
      const page = all
        .slice(0, pageSize)
        .map((s) => ({ name: s.name, createTime: s.createTime, replication: s.replication }))
      callback(null, { secrets: page, nextPageToken: '', totalSize: all.length })
    },
  }

  const server = new grpc.Server()
  server.addService(service, handlers as unknown as Parameters<typeof server.addService>[1])
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  )
  return {
    endpoint: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve())
        // Open client channels keep a graceful shutdown waiting: cut them after a moment.
        setTimeout(() => server.forceShutdown(), 500).unref()
      }),
  }
}
