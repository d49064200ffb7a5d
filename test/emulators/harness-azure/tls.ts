/**
 * TLS material for the Azure tests. Key Vault clients only speak HTTPS, so every peer
 * (Lowkey Vault, the stand-in, the fault proxy) has a certificate the client must trust
 * — for that client only: nothing here touches NODE_TLS_REJECT_UNAUTHORIZED.
 */
import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type DetailedPeerCertificate } from 'node:tls'
import { promisify } from 'node:util'

/** A certificate and its key, PEM. */
export interface TlsIdentity {
  readonly cert: string
  readonly key: string
}

let identity: Promise<TlsIdentity> | undefined

/**
 * A throwaway self-signed certificate for `127.0.0.1` and `localhost` (valid two days),
 * made once per process with the openssl command line.
 */
export function loopbackIdentity(): Promise<TlsIdentity> {
  identity ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'capbroker-tls-'))
    try {
      await promisify(execFile)('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ])
      const [cert, key] = await Promise.all([
        readFile(join(dir, 'cert.pem'), 'utf8'),
        readFile(join(dir, 'key.pem'), 'utf8'),
      ])
      return { cert, key }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })()
  return identity
}

/**
 * The root of the certificate chain a TLS server presents, as PEM: what a client must
 * trust to talk to it. This one probe skips verification (it is how we learn what to
 * trust: Lowkey Vault ships a self-signed certificate); the clients built with the
 * answer verify as usual.
 */
export function fetchServerCertificate(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false }, () => {
      let cert: DetailedPeerCertificate = socket.getPeerCertificate(true)
      // Walk up to the self-signed root; a lone self-signed leaf is its own root.
      for (let depth = 0; depth < 10; depth++) {
        const issuer = cert.issuerCertificate as DetailedPeerCertificate | undefined
        if (
          issuer === undefined ||
          issuer === cert ||
          issuer.fingerprint256 === cert.fingerprint256
        )
          break
        cert = issuer
      }
      socket.end()
      if (cert.raw === undefined) return reject(new Error(`${host}:${port} sent no certificate`))
      resolve(new X509Certificate(cert.raw).toString())
    })
    socket.setTimeout(5000, () =>
      socket.destroy(new Error(`TLS probe of ${host}:${port} timed out`)),
    )
    socket.once('error', reject)
  })
}
