/** `capbroker release`: take capabilities out of an app's context. */
import type { Command } from 'commander'
import { cliTrigger, type HomeOptions, loadRuntime, logger } from '../context.ts'
import { UsageError } from '../errors.ts'

interface ReleaseOptions extends HomeOptions {
  readonly app: string
  readonly env: string
  readonly all?: boolean
  readonly reason?: string
  readonly json?: boolean
}

/** Registers `release`. */
export function registerRelease(program: Command): void {
  program
    .command('release')
    .description(
      'remove bindings from their sink (files, or the key of the bundle secret) and from state; emits capability.released',
    )
    .argument('[names...]', 'the capability names to release')
    .requiredOption('-a, --app <app>', 'the application')
    .requiredOption('-e, --env <environment>', 'the environment')
    .option('--all', 'release every binding of the app in the environment')
    .option('--reason <text>', 'why, for the released event and the audit log', 'capbroker release')
    .option('--json', 'print the result as JSON')
    .option('-c, --catalog <file>', 'catalog file')
    .option('--home <dir>', 'state directory (env CAPBROKER_HOME)')
    .addHelpText(
      'after',
      `
Examples:
  $ capbroker release stripe --app checkout --env dev
  $ capbroker release --all --app checkout --env dev --reason "app retired"

Releasing what is not bound does nothing (exit 0).`,
    )
    .action(async (names: string[], options: ReleaseOptions) => {
      if (options.all === true && names.length > 0)
        throw new UsageError('give capability names or --all, not both')
      if (options.all !== true && names.length === 0)
        throw new UsageError('give the capability names to release, or --all')
      if ((options.reason ?? '').length > 256)
        throw new UsageError('--reason is at most 256 characters')
      const { runtime } = await loadRuntime(options, logger())
      let released: readonly string[]
      try {
        released = (
          await runtime.broker.release({
            app: options.app,
            environment: options.env,
            names: options.all === true ? 'all' : [...new Set(names)],
            reason: options.reason ?? 'capbroker release',
            request: cliTrigger(),
          })
        ).released
      } finally {
        await runtime.close()
      }
      const where = `${options.app}/${options.env}`
      if (options.json)
        return void process.stdout.write(
          `${JSON.stringify({ app: options.app, environment: options.env, released }, null, 2)}\n`,
        )
      process.stdout.write(
        released.length === 0
          ? `nothing to release: no such binding in ${where}\n`
          : `released ${released.join(', ')} from ${where}\n`,
      )
    })
}
