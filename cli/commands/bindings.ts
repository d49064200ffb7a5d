/** `capbroker bindings <app> <env>`: what is bound where — metadata, never values. */
import type { Command } from 'commander'
import { type BindingView, bindingView, describeStatus } from '../../broker/bindings.ts'
import { type HomeOptions, loadRuntime, logger, table } from '../context.ts'
import { getJson, serverUrl } from '../http-client.ts'

interface BindingsOptions extends HomeOptions {
  readonly server?: string
  readonly json?: boolean
}

/** Registers `bindings`. */
export function registerBindings(program: Command): void {
  program
    .command('bindings')
    .description(
      "list an app's current bindings in an environment (names and versions, never values)",
    )
    .argument('<app>', 'the application')
    .argument('<env>', 'the environment')
    .option('-s, --server <url>', 'ask a running capbroker (default: read the local state)')
    .option('--json', 'print JSON')
    .option('-c, --catalog <file>', 'catalog file, when reading local state')
    .option('--home <dir>', 'state directory, when reading local state')
    .addHelpText(
      'after',
      `
Examples:
  $ capbroker bindings checkout dev
  $ capbroker bindings checkout dev --server http://127.0.0.1:7777 --json`,
    )
    .action(async (app: string, env: string, options: BindingsOptions) => {
      let bindings: readonly BindingView[]
      if (options.server) {
        const url = new URL(
          `/apps/${encodeURIComponent(app)}/environments/${encodeURIComponent(env)}/bindings`,
          serverUrl(options.server),
        )
        bindings = ((await getJson(url)) as { bindings: BindingView[] }).bindings
      } else {
        const { runtime } = await loadRuntime(options, logger())
        try {
          bindings = (await runtime.state.listBindings({ app, environment: env })).map(bindingView)
        } finally {
          await runtime.close()
        }
      }
      if (options.json)
        return void process.stdout.write(
          `${JSON.stringify({ app, environment: env, bindings }, null, 2)}\n`,
        )
      if (bindings.length === 0)
        return void process.stdout.write(`no bindings for ${app} in ${env}\n`)
      process.stdout.write(
        `${table(
          ['NAME', 'TYPE', 'STATUS', 'PROVIDER', 'KEY', 'VERSION', 'INJECTED', 'ROTATED', 'WHERE'],
          bindings.map((b) => [
            b.name,
            b.type,
            describeStatus(b),
            b.provider,
            b.key,
            b.version,
            b.injectedAt,
            b.lastRotatedAt ?? '-',
            b.location,
          ]),
        )}\n`,
      )
    })
}
