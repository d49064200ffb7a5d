/** `capbroker serve`: the embedded runtime over HTTP, until SIGINT or SIGTERM. */
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { createBrokerServer } from '../../server/app.ts'
import { startRefreshLoop } from '../../server/refresh-loop.ts'
import { EXAMPLES_DIR } from '../catalog-file.ts'
import { type HomeOptions, loadRuntime, logger, shownPath, VERSION } from '../context.ts'
import { UsageError } from '../errors.ts'

interface ServeOptions extends HomeOptions {
  readonly port: string
  readonly host: string
}

/** Registers `serve`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run the broker on the embedded defaults (local store, SQLite state, in-memory bus)',
    )
    .option('-p, --port <port>', 'port to listen on (env PORT)', process.env.PORT ?? '7777')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '-c, --catalog <file>',
      'catalog file (env CAPBROKER_CATALOG; default ./capbroker.yaml)',
    )
    .option('--home <dir>', 'state directory (env CAPBROKER_HOME; default .capbroker)')
    .addHelpText(
      'after',
      `
Examples:
  $ capbroker serve
  $ capbroker serve --port 8080 --catalog ./platform/capbroker.yaml
  $ PORT=9000 CAPBROKER_HOME=/var/lib/capbroker capbroker serve --host 0.0.0.0`,
    )
    .action(serve)
}

async function serve(options: ServeOptions): Promise<void> {
  const port = Number(options.port)
  if (!/^\d+$/.test(options.port) || port > 65_535) {
    throw new UsageError(`--port must be a number from 0 to 65535 (got "${options.port}")`)
  }
  const log = logger('server')
  const { catalog, runtime, usingExample, home } = await loadRuntime(options, log, { seed: true })
  const { server, drain } = createBrokerServer(runtime, log, VERSION)
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      void runtime.close()
      if (error.code === 'EADDRINUSE') {
        reject(new UsageError(`port ${port} on ${options.host} is in use; pass --port or set PORT`))
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        reject(new UsageError(`cannot listen on ${options.host}: no such local address`))
      } else reject(error)
    })
    server.listen(port, options.host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`
  process.stderr.write(
    `capbroker ${VERSION} listening on ${url}\n  catalog: ${shownPath(catalog.file)}${usingExample ? ' (the bundled example: no capbroker.yaml here)' : ''}\n  state:   ${shownPath(home)}\n`,
  )
  // Bindings follow their sources while the server runs (catalog `refreshInterval`).
  const refreshing = startRefreshLoop(runtime.broker, { logger: log })
  if (refreshing)
    process.stderr.write(`  refresh: a sweep every ${formatPeriod(refreshing.periodMs)}\n`)
  if (usingExample) {
    const inject = catalog.environments.get('dev')?.inject
    process.stderr.write(
      nextSteps(
        url,
        shownPath(resolve(inject?.to === 'service-binding' ? inject.root : '.capbroker/bindings')),
      ),
    )
  }

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) {
      process.stderr.write('capbroker: stopping now\n')
      process.exit(1)
    }
    stopping = true
    process.stderr.write(`capbroker: ${signal}, finishing in-flight requests…\n`)
    const closed = new Promise((resolve) => server.close(resolve))
    server.closeIdleConnections()
    await closed
    await refreshing?.stop()
    await drain()
    await runtime.close()
    process.stderr.write('capbroker: stopped\n')
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}

function formatPeriod(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

function nextSteps(url: string, bindingsRoot: string): string {
  const event = JSON.stringify({
    specversion: '1.0',
    id: 'demo-1',
    source: '/apps/checkout',
    type: 'io.capbroker.capability.requested.v1',
    data: {
      app: 'checkout',
      environment: 'dev',
      capabilities: [{ name: 'orders-db', type: 'postgres' }],
    },
  })
  return `
Try it (in another terminal):
  npx capbroker request -f ${shownPath(resolve(EXAMPLES_DIR, 'capabilities.yaml'))} --app checkout --env dev --server ${url}
  curl -s -X POST '${url}/events?wait=true' -H 'content-type: application/cloudevents+json' -d '${event}'
  curl -s ${url}/apps/checkout/environments/dev/bindings
  ls ${bindingsRoot}/checkout/dev/orders-db/
`
}
