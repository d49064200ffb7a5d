/**
 * Read-back by an independent consumer of the Service Binding spec: the
 * `kube-service-bindings` npm package, pointed at `<root>/<app>/<environment>`.
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ServiceBindingSink } from '../../../../adapters/service-binding/index.ts'
import { binding, tempDir } from './fixtures.ts'

const require = createRequire(import.meta.url)
const { getBinding } = require('kube-service-bindings') as {
  getBinding(type: string, client: string): Record<string, unknown>
}

const target = { app: 'checkout', environment: 'dev' }
let cleanup: () => void
let root: string
let previousRoot: string | undefined

beforeEach(() => {
  let dir: string
  ;({ dir, cleanup } = tempDir('capbroker-ksb-'))
  root = join(dir, 'bindings')
  previousRoot = process.env.SERVICE_BINDING_ROOT
  process.env.SERVICE_BINDING_ROOT = join(root, target.app, target.environment)
})
afterEach(() => {
  if (previousRoot === undefined) delete process.env.SERVICE_BINDING_ROOT
  else process.env.SERVICE_BINDING_ROOT = previousRoot
  cleanup()
})

const postgres = (password: string) =>
  binding('orders-db', {
    host: 'db.internal',
    port: '5432',
    username: 'checkout',
    password,
    database: 'orders',
  })

describe('kube-service-bindings reads what ServiceBindingSink wrote', () => {
  it('finds a postgresql binding for the pg client', async () => {
    await new ServiceBindingSink({ root }).inject(target, [postgres('s3cret-pg')])
    expect(getBinding('POSTGRESQL', 'pg')).toEqual({
      type: 'postgresql',
      provider: 'local',
      host: 'db.internal',
      port: '5432',
      user: 'checkout',
      password: 's3cret-pg',
      database: 'orders',
    })
  })

  it('reads the new values after an update', async () => {
    const sink = new ServiceBindingSink({ root })
    await sink.inject(target, [postgres('before')])
    await sink.inject(target, [postgres('after')])
    expect(getBinding('POSTGRESQL', 'pg')).toMatchObject({ password: 'after' })
  })

  it('finds nothing once the binding is removed', async () => {
    const sink = new ServiceBindingSink({ root })
    await sink.inject(target, [postgres('gone')])
    await sink.remove(target, ['orders-db'])
    expect(() => getBinding('POSTGRESQL', 'pg')).toThrow()
  })
})
