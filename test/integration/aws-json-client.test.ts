/**
 * The AWS JSON-protocol client against a real HTTP server on loopback: what goes on the
 * wire (a SigV4 signature that an independent signer — the SDK's own — reproduces, the
 * target, the JSON body) and how answers, faults and timeouts come back. The services
 * themselves are covered against moto in test/emulators/aws/.
 */
import { createHash, createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignatureV4 } from '@smithy/signature-v4'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { classifyAwsFailure } from '../../adapters/aws-common/failure.ts'
import {
  AwsJsonClient,
  type AwsJsonClientOptions,
  DYNAMODB,
  defaultEndpoint,
  SECRETS_MANAGER,
} from '../../adapters/aws-common/json-client.ts'
import { AwsSecretsManagerStore } from '../../adapters/aws-secrets-manager/index.ts'
import { SecretValue } from '../../broker/secret-value.ts'

interface Received {
  readonly headers: IncomingMessage['headers']
  readonly body: string
  readonly method: string
  readonly url: string
}

type Answer = (request: Received, response: ServerResponse) => void

let server: Server
let endpoint: string
const received: Received[] = []
let answers: Answer[] = []

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      const entry = {
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        method: request.method ?? '',
        url: request.url ?? '',
      }
      received.push(entry)
      const answer = answers.shift() ?? json(200, {})
      answer(entry, response)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

afterEach(() => {
  received.length = 0
  answers = []
  vi.unstubAllEnvs()
})

function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return (_request, response) => {
    response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', ...headers })
    response.end(JSON.stringify(body))
  }
}

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' }

function client(overrides: Partial<AwsJsonClientOptions> = {}, service = SECRETS_MANAGER) {
  const built = new AwsJsonClient(service, {
    region: 'eu-west-1',
    endpoint,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestTimeoutMs: 2_000,
    ...overrides,
  })
  clients.push(built)
  return built
}
const clients: AwsJsonClient[] = []
afterAll(() => {
  for (const c of clients) c.destroy()
})

/** node:crypto as the SDK signer's hash constructor (what @smithy/hash-node wraps). */
class Sha256 {
  readonly #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret))
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.#hash.update(bytes(data))
  }
  async digest() {
    return new Uint8Array(this.#hash.digest())
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return new Uint8Array(data)
}

/** Signs the received request again with the SDK's signer, over the headers it signed. */
async function expectedAuthorization(
  request: Received,
  scope: { service: string; region: string },
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
) {
  const authorization = String(request.headers.authorization)
  const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? []
  const headers = Object.fromEntries(
    signedNames
      .filter((name) => name !== 'x-amz-date' && name !== 'x-amz-security-token')
      .map((name) => [name, String(request.headers[name])]),
  )
  const stamp = String(request.headers['x-amz-date'])
  const signingDate = new Date(
    `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`,
  )
  const signer = new SignatureV4({
    ...scope,
    credentials,
    sha256: Sha256,
    applyChecksum: false,
  })
  const [hostname, port] = String(request.headers.host).split(':')
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: hostname as string,
      port: Number(port),
      path: request.url,
      query: {},
      headers,
      body: request.body,
    },
    { signingDate },
  )
  return signed.headers.authorization
}

describe('AwsJsonClient on the wire', () => {
  it('sends a SigV4-signed JSON call the SDK signer reproduces, and returns the parsed answer', async () => {
    answers.push(json(200, { SecretString: 'not logged', VersionId: 'v1' }))
    const out = await client().call<{ VersionId: string }>('GetSecretValue', { SecretId: 'db' })
    expect(out.VersionId).toBe('v1')
    const [request] = received
    if (!request) throw new Error('no request received')
    expect(request.method).toBe('POST')
    expect(request.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue')
    expect(request.headers['content-type']).toBe('application/x-amz-json-1.1')
    expect(JSON.parse(request.body)).toEqual({ SecretId: 'db' })
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, /,
    )
    expect(request.headers.authorization).toBe(
      await expectedAuthorization(
        request,
        { service: 'secretsmanager', region: 'eu-west-1' },
        CREDENTIALS,
      ),
    )
  })

  it('signs the session token, and speaks JSON 1.0 with the DynamoDB target', async () => {
    const credentials = { ...CREDENTIALS, sessionToken: 'FwoGZXIvYXdzEXAMPLE' }
    await client({ credentials }, DYNAMODB).call('GetItem', { TableName: 't', Key: {} })
    const [request] = received
    if (!request) throw new Error('no request received')
    expect(request.headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem')
    expect(request.headers['content-type']).toBe('application/x-amz-json-1.0')
    expect(request.headers['x-amz-security-token']).toBe('FwoGZXIvYXdzEXAMPLE')
    expect(String(request.headers.authorization)).toContain('x-amz-security-token')
    expect(request.headers.authorization).toBe(
      await expectedAuthorization(
        request,
        { service: 'dynamodb', region: 'eu-west-1' },
        credentials,
      ),
    )
  })

  it('takes the environment’s credentials when none are given (as Lambda sets them)', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENV')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-from-env')
    vi.stubEnv('AWS_SESSION_TOKEN', 'token-from-env')
    const fromEnv = new AwsJsonClient(SECRETS_MANAGER, {
      region: 'eu-west-1',
      endpoint,
      maxAttempts: 1,
      requestTimeoutMs: 2_000,
    })
    clients.push(fromEnv)
    await fromEnv.call('ListSecrets', { MaxResults: 1 })
    expect(received[0]?.headers.authorization).toMatch(/Credential=AKIDFROMENV\//)
    expect(received[0]?.headers['x-amz-security-token']).toBe('token-from-env')
  })

  it('uses the AWS CLI’s chain when a profile is named: a profile of the shared credentials file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'capbroker-creds-'))
    try {
      writeFileSync(
        join(dir, 'credentials'),
        '[capbroker-test]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = profile-secret\n',
      )
      writeFileSync(join(dir, 'config'), '')
      // Keys in the environment too: as with the AWS CLI, the named profile wins.
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENV')
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-from-env')
      vi.stubEnv('AWS_SESSION_TOKEN', '')
      vi.stubEnv('AWS_PROFILE', 'capbroker-test')
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'))
      vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'))
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true')
      const fromProfile = new AwsJsonClient(SECRETS_MANAGER, {
        region: 'eu-west-1',
        endpoint,
        maxAttempts: 1,
        requestTimeoutMs: 2_000,
      })
      clients.push(fromProfile)
      await fromProfile.call('ListSecrets', { MaxResults: 1 })
      expect(received[0]?.headers.authorization).toMatch(/Credential=AKIDFROMPROFILE\//)
      expect(received[0]?.headers['x-amz-security-token']).toBeUndefined()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('finds an emulator through AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL, as the AWS CLI does', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', endpoint)
    const viaEnv = new AwsJsonClient(SECRETS_MANAGER, {
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      maxAttempts: 1,
      requestTimeoutMs: 2_000,
    })
    clients.push(viaEnv)
    await viaEnv.call('ListSecrets', { MaxResults: 1 })
    expect(received[0]?.headers['x-amz-target']).toBe('secretsmanager.ListSecrets')

    const env = (vars: Record<string, string>) => vars
    const generic = 'http://localhost:4566'
    expect(defaultEndpoint(DYNAMODB, 'eu-west-1', env({ AWS_ENDPOINT_URL: generic }))).toBe(generic)
    expect(
      defaultEndpoint(
        DYNAMODB,
        'eu-west-1',
        env({ AWS_ENDPOINT_URL: generic, AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' }),
      ),
    ).toBe('http://127.0.0.1:8000')
    expect(
      defaultEndpoint(
        DYNAMODB,
        'eu-west-1',
        env({ AWS_ENDPOINT_URL: generic, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }),
      ),
    ).toBe('https://dynamodb.eu-west-1.amazonaws.com')
    expect(defaultEndpoint(SECRETS_MANAGER, 'cn-north-1', env({}))).toBe(
      'https://secretsmanager.cn-north-1.amazonaws.com.cn',
    )
    expect(() =>
      defaultEndpoint(DYNAMODB, 'eu-west-1', env({ AWS_ENDPOINT_URL_DYNAMODB: 'localhost:8000' })),
    ).toThrow(/AWS_ENDPOINT_URL_DYNAMODB must be an http\(s\) URL/)
  })

  it('writes timestamps as epoch seconds and leaves out undefined fields', async () => {
    await client().call('PutEvents', {
      Entries: [{ Time: new Date('2026-01-01T00:00:01.500Z'), Detail: '{}' }],
      NextToken: undefined,
    })
    expect(JSON.parse(received[0]?.body ?? '')).toEqual({
      Entries: [{ Time: 1767225601.5, Detail: '{}' }],
    })
  })
})

describe('AwsJsonClient answers and faults', () => {
  it('turns an error answer into an SDK-shaped error: code from __type, message, status', async () => {
    answers.push(
      json(
        400,
        { __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'gone' },
        { 'x-amzn-RequestId': 'req-1' },
      ),
    )
    const error = await client()
      .call('GetItem', {})
      .catch((e: unknown) => e)
    expect(error).toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'gone',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: 'req-1', attempts: 1 },
    })
    expect(classifyAwsFailure(error).kind).toBe('not-found')
  })

  it('reads the code from X-Amzn-ErrorType, and keeps the extra fields of the body', async () => {
    answers.push(
      json(
        400,
        { Message: 'cancelled', CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] },
        { 'X-Amzn-ErrorType': 'TransactionCanceledException:http://internal.amazon.com/' },
      ),
    )
    const error = await client()
      .call('TransactWriteItems', {})
      .catch((e: unknown) => e)
    expect(error).toMatchObject({
      name: 'TransactionCanceledException',
      message: 'cancelled',
      CancellationReasons: [{ Code: 'ConditionalCheckFailed' }],
    })
  })

  it('passes Retry-After on to the failure, and classifies throttling and 5xx', async () => {
    answers.push(json(400, { __type: 'ThrottlingException' }, { 'Retry-After': '2' }))
    answers.push(json(503, {}))
    const throttled = classifyAwsFailure(
      await client()
        .call('X', {})
        .catch((e: unknown) => e),
    )
    expect(throttled).toMatchObject({ kind: 'throttled', retryAfterMs: 2000 })
    const unavailable = classifyAwsFailure(
      await client()
        .call('X', {})
        .catch((e: unknown) => e),
    )
    expect(unavailable).toMatchObject({ kind: 'server', code: 'Http503', status: 503 })
  })

  it('reads a non-JSON error page (a proxy’s 502) by its status, and refuses a non-JSON success', async () => {
    answers.push((_request, response) => {
      response.writeHead(502, { 'Content-Type': 'text/html' })
      response.end('<html>Bad Gateway</html>')
    })
    answers.push((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' })
      response.end('<html>captive portal</html>')
    })
    const gateway = classifyAwsFailure(
      await client()
        .call('X', {})
        .catch((e: unknown) => e),
    )
    expect(gateway).toMatchObject({ kind: 'server', code: 'Http502', status: 502 })
    const portal = await client()
      .call('X', {})
      .catch((e: unknown) => e)
    expect(portal).toMatchObject({ name: 'InvalidResponse' })
    expect(classifyAwsFailure(portal).kind).toBe('other')
  })

  it('retries transient failures when maxAttempts allows, but never a client error', async () => {
    answers.push(json(500, { __type: 'InternalFailure' }), json(200, { ok: true }))
    await expect(client({ maxAttempts: 3 }).call('X', {})).resolves.toEqual({ ok: true })
    expect(received).toHaveLength(2)
    received.length = 0
    answers.push(json(400, { __type: 'ValidationException' }), json(200, { ok: true }))
    await expect(client({ maxAttempts: 3 }).call('X', {})).rejects.toMatchObject({
      name: 'ValidationException',
    })
    expect(received).toHaveLength(1)
  })

  it('ends a call the server never answers with a TimeoutError after requestTimeoutMs', async () => {
    answers.push(() => {}) // never answers
    const started = Date.now()
    const error = await client({ requestTimeoutMs: 200 })
      .call('X', {})
      .catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(1_500)
    expect(error).toMatchObject({ name: 'TimeoutError' })
    expect(classifyAwsFailure(error).kind).toBe('timeout')
  })

  it('stops when the caller aborts, as an AbortError', async () => {
    answers.push(() => {})
    const controller = new AbortController()
    const call = client().call('X', {}, { abortSignal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    const error = await call.catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'AbortError' })
    expect(classifyAwsFailure(error).kind).toBe('abort')
  })

  it('sends nothing when the caller aborts before the request is on its way', async () => {
    const controller = new AbortController()
    const call = client().call('X', {}, { abortSignal: controller.signal })
    controller.abort() // while the first call still loads its transport
    await expect(call).rejects.toMatchObject({ name: 'AbortError' })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(received).toHaveLength(0)
  })

  it('keeps the service’s extra fields, but none that would change how the error is read', async () => {
    answers.push((_request, response) => {
      response.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.1' })
      response.end(
        '{"__type":"ValidationException","message":"bad","code":"ECONNRESET","$fault":"server","__proto__":{"polluted":true},"Reason":"x"}',
      )
    })
    const error = (await client()
      .call('X', {})
      .catch((e: unknown) => e)) as Record<string, unknown>
    expect(error).toBeInstanceOf(Error)
    expect(error.Reason).toBe('x')
    expect(error.polluted).toBeUndefined()
    expect(classifyAwsFailure(error)).toMatchObject({ kind: 'validation', status: 400 })
    expect(error.$fault).toBe('client')
  })

  it('reports a refused connection with Node’s code (a network failure)', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const error = await client({ endpoint: `http://127.0.0.1:${port}` })
      .call('X', {})
      .catch((e: unknown) => e)
    expect(classifyAwsFailure(error)).toMatchObject({ kind: 'network', code: 'ECONNREFUSED' })
  })
})

describe('the Secrets Manager store on the wire', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

  it('gives every write its own ClientRequestToken, which AWS requires of callers without an SDK', async () => {
    const store = new AwsSecretsManagerStore({
      region: 'eu-west-1',
      endpoint,
      credentials: CREDENTIALS,
    })
    try {
      // A missing secret is created; an existing one gets a new version.
      answers.push(json(400, { __type: 'ResourceNotFoundException', message: 'no' }))
      answers.push(json(200, { VersionId: 'v1' }))
      answers.push(json(200, { SecretString: 'old', VersionId: 'v1' }))
      answers.push(json(200, { VersionId: 'v2' }))
      await store.write('apps/checkout/db', new SecretValue('first'))
      await store.write('apps/checkout/db', new SecretValue('second'))
      const writes = received.filter((r) =>
        /CreateSecret|PutSecretValue/.test(String(r.headers['x-amz-target'])),
      )
      const tokens = writes.map((r) => JSON.parse(r.body).ClientRequestToken as string)
      expect(writes.map((r) => r.headers['x-amz-target'])).toEqual([
        'secretsmanager.CreateSecret',
        'secretsmanager.PutSecretValue',
      ])
      for (const token of tokens) expect(token).toMatch(UUID)
      expect(new Set(tokens).size).toBe(2)
    } finally {
      store.close()
    }
  })
})
