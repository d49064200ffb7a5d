/** `capbroker refresh`: re-read every binding's source now; re-inject what changed. */
import type { Command } from 'commander'
import type { RefreshResult } from '../../broker/lifecycle/refresh.ts'
import { cliTrigger, type HomeOptions, loadRuntime, logger, table } from '../context.ts'

interface RefreshOptions extends HomeOptions {
  readonly app?: string
  readonly env?: string
  readonly json?: boolean
}

/** One line per binding a refresh looked at, and a summary; for people. */
export function describeRefresh(result: RefreshResult): string {
  const count = (r: string) => result.bindings.filter((b) => b.result === r).length
  const summary = `${result.bindings.length} checked: ${count('rotated')} rotated, ${count('unchanged')} unchanged, ${count('stale')} stale, ${count('failed')} failed`
  if (result.bindings.length === 0) return 'no bindings to refresh'
  const detail = (b: RefreshResult['bindings'][number]) => {
    if (b.result === 'rotated') return `${b.key}: version ${b.previousVersion} → ${b.version}`
    if (b.result === 'stale') return `since ${b.since}: ${b.reason?.code}: ${b.reason?.message}`
    if (b.result === 'failed') return `${b.reason?.code}: ${b.reason?.message}`
    if (b.result === 'pinned') return `${b.key}@${b.version} (the class pins the version)`
    return `${b.key}@${b.version}`
  }
  return `${summary}\n\n${table(
    ['APP', 'ENV', 'NAME', 'RESULT', 'DETAIL'],
    result.bindings.map((b) => [b.app, b.environment, b.name, b.result, detail(b)]),
  )}`
}

/** Registers `refresh`. */
export function registerRefresh(program: Command): void {
  program
    .command('refresh')
    .description(
      "re-read every binding's source now; re-inject and announce (binding.rotated) what changed, write nothing where nothing did",
    )
    .option('-a, --app <app>', 'only this application')
    .option('-e, --env <environment>', 'only this environment')
    .option('--json', 'print the result as JSON')
    .option('-c, --catalog <file>', 'catalog file')
    .option('--home <dir>', 'state directory (env CAPBROKER_HOME)')
    .addHelpText(
      'after',
      `
Examples:
  $ capbroker refresh
  $ capbroker refresh --app checkout --env dev --json

Runs in this process against the same home as \`capbroker serve\` (state, stores, sinks);
a running server picks up the rotated values on its next request.
Exit status: 0 every binding ready, 1 at least one stale (source unreadable) or failed.`,
    )
    .action(async (options: RefreshOptions) => {
      const { runtime } = await loadRuntime(options, logger())
      let result: RefreshResult
      try {
        result = await runtime.broker.refresh({
          select: {
            kind: 'all',
            ...(options.app === undefined ? {} : { app: options.app }),
            ...(options.env === undefined ? {} : { environment: options.env }),
          },
          trigger: cliTrigger(),
          reason: 'capbroker refresh',
        })
      } finally {
        await runtime.close()
      }
      if (options.json)
        process.stdout.write(
          `${JSON.stringify({ bindings: result.bindings, events: result.events.map((e) => ({ id: e.id, type: e.type })) }, null, 2)}\n`,
        )
      else process.stdout.write(`${describeRefresh(result)}\n`)
      if (result.bindings.some((b) => b.result === 'stale' || b.result === 'failed'))
        process.exitCode = 1
    })
}
