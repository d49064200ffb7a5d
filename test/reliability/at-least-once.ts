/**
 * Shared pieces of the at-least-once suites (SQLite in npm test, DynamoDB against moto):
 * a catalog with a file sink and a bundle sink, requested events, the child broker, and
 * what is on disk.
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EventTypes } from '../../events/index.ts'
import type { ChildConfig } from './broker-child.ts'

/** Two environments: bindings as files (`dev`), and as a bundle secret in the local store (`bundled`). */
export const AT_LEAST_ONCE_CATALOG = `
version: 1
stores:
  local: { adapter: local }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
  bundled:
    inject: { to: store, store: local, name: "bundles/{app}/{environment}" }
classes:
  - type: postgres
    store: local
    key: "postgres/{app}"
    outputs: { host: host, password: password }
    secret: [password]
policies:
  - apps: [checkout]
    environments: ["*"]
    types: [postgres]
    keys: ["postgres/checkout"]
`

/** The value the store holds for checkout's database; the password is what is injected. */
export const PG_PASSWORD = 'alo-pg-password-5150'
export const PG_SECRET = JSON.stringify({ host: 'db.internal', password: PG_PASSWORD })

/** A structured requested event asking for one postgres capability named `name`. */
export function requestedEvent(id: string, name: string, environment = 'dev') {
  return {
    specversion: '1.0',
    id,
    source: '/apps/checkout',
    type: EventTypes.requested,
    time: new Date().toISOString(),
    data: { app: 'checkout', environment, capabilities: [{ name, type: 'postgres' }] },
  }
}

const CHILD = fileURLToPath(new URL('./broker-child.ts', import.meta.url))

/** What a child broker printed, and how it ended. */
export interface ChildRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly published: { id: string; type: string }[]
  readonly result?: {
    status: string
    duplicate: boolean
    retryable: boolean
    capabilities: { name: string; status: string }[]
    events: string[]
  }
  readonly stderr: string
}

/** Runs the child broker once (see broker-child.ts). */
export function runChild(config: ChildConfig, env: Record<string, string> = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(config)], {
      cwd: config.cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const lines = stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      const result = lines.find((l) => 'result' in l)?.result as ChildRun['result']
      resolve({
        code,
        signal,
        stderr,
        published: lines.flatMap((l) =>
          'published' in l ? [l.published as ChildRun['published'][0]] : [],
        ),
        ...(result ? { result } : {}),
      })
    })
  })
}

/** The version directories of a binding in a service-binding root (not the `+previous` link). */
export function versionDirs(
  root: string,
  app: string,
  environment: string,
  name: string,
): string[] {
  const data = join(root, app, '.capbroker-data', environment)
  if (!existsSync(data)) return []
  return readdirSync(data).filter((e) => e.startsWith(`${name}+`) && e !== `${name}+previous`)
}

/** The binding's entries as a reader sees them, and which version directory the link names. */
export function readBinding(root: string, app: string, environment: string, name: string) {
  const link = join(root, app, environment, name)
  const entries = Object.fromEntries(
    readdirSync(link)
      .sort()
      .map((entry) => [entry, readFileSync(join(link, entry), 'utf8')]),
  )
  return { target: readlinkSync(link), entries }
}
