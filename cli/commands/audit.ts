/** `capbroker audit <app> <env>`: what happened to an app's bindings, and who caused it. */
import type { Command } from 'commander'
import { hasLifecycle } from '../../broker/ports.ts'
import { type HomeOptions, loadRuntime, logger, table } from '../context.ts'
import { UsageError } from '../errors.ts'

interface AuditOptions extends HomeOptions {
  readonly limit: string
  readonly json?: boolean
}

/** Registers `audit`. */
export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description(
      'list the history of an app in an environment: requested, resolved, failed, denied, injected, rotated, released, stale — with what triggered each (names only)',
    )
    .argument('<app>', 'the application')
    .argument('<env>', 'the environment')
    .option('-n, --limit <n>', 'the newest n entries', '100')
    .option('--json', 'print JSON')
    .option('-c, --catalog <file>', 'catalog file')
    .option('--home <dir>', 'state directory (env CAPBROKER_HOME)')
    .addHelpText(
      'after',
      `
Examples:
  $ capbroker audit checkout dev
  $ capbroker audit checkout dev --limit 20 --json | jq '.entries[] | select(.kind == "rotated")'`,
    )
    .action(async (app: string, env: string, options: AuditOptions) => {
      const limit = Number(options.limit)
      if (!/^\d+$/.test(options.limit) || limit < 1 || limit > 10_000)
        throw new UsageError(`--limit must be a number from 1 to 10000 (got "${options.limit}")`)
      const { runtime } = await loadRuntime(options, logger())
      let entries: Awaited<ReturnType<typeof runtime.state.listAudit>>
      try {
        if (!hasLifecycle(runtime.state)) throw new UsageError('this state keeps no audit log')
        entries = await runtime.state.listAudit({ app, environment: env }, { limit })
      } finally {
        await runtime.close()
      }
      if (options.json)
        return void process.stdout.write(
          `${JSON.stringify({ app, environment: env, entries }, null, 2)}\n`,
        )
      if (entries.length === 0)
        return void process.stdout.write(`no history for ${app} in ${env}\n`)
      process.stdout.write(
        `${table(
          ['TIME', 'EVENT', 'NAMES', 'TRIGGERED BY', 'DETAIL'],
          entries.map((e) => [
            e.time,
            e.kind,
            e.names.join(',') || '-',
            `${e.trigger.source} ${e.trigger.id}`,
            e.detail ?? '',
          ]),
        )}\n`,
      )
    })
}
