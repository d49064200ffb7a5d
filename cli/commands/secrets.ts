/** `capbroker secrets put|get|list|delete`: the embedded local store. */
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { RefreshResult } from '../../broker/lifecycle/refresh.ts'
import { isListable, isWritable, type WritableSecretStore } from '../../broker/ports.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import type { EmbeddedRuntime } from '../../server/runtime.ts'
import { cliTrigger, type HomeOptions, loadRuntime, logger, table } from '../context.ts'
import { UsageError } from '../errors.ts'

interface StoreOptions extends HomeOptions {
  readonly store: string
}

async function withStore<T>(
  options: StoreOptions,
  work: (store: WritableSecretStore, runtime: EmbeddedRuntime) => Promise<T>,
): Promise<T> {
  const { runtime } = await loadRuntime(options, logger())
  try {
    if (!runtime.catalog.stores.has(options.store)) {
      throw new UsageError(
        `the catalog has no store "${options.store}" (it has ${[...runtime.catalog.stores.keys()].join(', ')})`,
      )
    }
    const store = await runtime.stores.get(options.store)
    if (!isWritable(store))
      throw new UsageError(
        `store "${options.store}" (${store.provider}) cannot be written from the CLI`,
      )
    return await work(store, runtime)
  } finally {
    await runtime.close()
  }
}

/**
 * The push refresh of the embedded runtime: a key just written or deleted is re-read
 * for every binding of it, in this process, against the same home as a running server
 * (same state, same sinks). Rotated bindings are re-injected now; the server notices
 * the rotation in the state and drops its cached copy before its next request.
 */
async function refreshKey(
  runtime: EmbeddedRuntime,
  store: string,
  key: string,
  what: string,
): Promise<RefreshResult | undefined> {
  try {
    return await runtime.broker.refresh({
      select: { kind: 'sources', sources: [{ store, key }] },
      trigger: cliTrigger(),
      reason: `secrets ${what} ${key}`,
    })
  } catch (error) {
    process.stderr.write(
      `capbroker: the bindings of ${key} were not refreshed: ${(error as Error).message}; run \`capbroker refresh\`\n`,
    )
    process.exitCode = 1
    return undefined
  }
}

function describeBindings(result: RefreshResult | undefined): string {
  if (!result || result.bindings.length === 0) return ''
  return result.bindings
    .map((b) => {
      const where = `${b.app}/${b.environment} ${b.name}`
      if (b.result === 'rotated')
        return `  rotated ${where}: version ${b.previousVersion} → ${b.version}\n`
      if (b.result === 'stale')
        return `  stale ${where}: ${b.reason?.code} (the old binding stays)\n`
      if (b.result === 'failed')
        return `  failed ${where}: ${b.reason?.code}: ${b.reason?.message}\n`
      return `  ${b.result} ${where}\n`
    })
    .join('')
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError('give the value with --value, --file, or on standard input')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  // `echo value | capbroker secrets put key` should not store the newline echo adds.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

const common = (command: Command) =>
  command
    .option('--store <name>', 'the catalog store to use', 'local')
    .option('-c, --catalog <file>', 'catalog file')
    .option('--home <dir>', 'state directory (env CAPBROKER_HOME)')

/** Registers `secrets` and its subcommands. */
export function registerSecrets(program: Command): void {
  const secrets = program
    .command('secrets')
    .addHelpText(
      'after',
      `
Examples:
  $ capbroker secrets put apps/checkout/stripe --file ./stripe.key
  $ capbroker secrets list
  $ capbroker secrets get apps/checkout/stripe --reveal
  $ capbroker secrets delete apps/checkout/stripe`,
    )
    .description('manage values in the local store (values are encrypted at rest)')

  common(secrets.command('put'))
    .description(
      'store a value under a key (a new version, unless it is unchanged); bindings of the key are refreshed',
    )
    .argument('<key>', 'e.g. apps/checkout/stripe')
    .option('--value <value>', 'the value (visible in shell history: prefer --file or stdin)')
    .option(
      '--file <file>',
      'read the value from a file (UTF-8 text, kept as is, trailing newline included)',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ capbroker secrets put apps/checkout/stripe --file ./stripe.key
  $ echo '{"host":"db","port":5432,"dbname":"orders","username":"app","password":"…"}' | capbroker secrets put postgres/checkout`,
    )
    .action(async (key: string, options: StoreOptions & { value?: string; file?: string }) => {
      if (options.value !== undefined && options.file !== undefined)
        throw new UsageError('give either --value or --file, not both')
      let text: string
      if (options.value !== undefined) text = options.value
      else if (options.file !== undefined) {
        try {
          text = readFileSync(options.file, 'utf8')
        } catch (error) {
          throw new UsageError(
            `cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
          )
        }
      } else text = await readStdin()
      const [result, refreshed] = await withStore(options, async (store, runtime) => {
        const written = await store.write(key, new SecretValue(text))
        // An unchanged value changes no binding: nothing to refresh.
        const bindings = written.changed
          ? await refreshKey(runtime, options.store, key, 'put')
          : undefined
        return [written, bindings] as const
      })
      process.stdout.write(
        `${result.changed ? 'stored' : 'unchanged'} ${key} (version ${result.version})\n${describeBindings(refreshed)}`,
      )
    })

  common(secrets.command('get'))
    .description('show a key and its version; the value only with --reveal')
    .argument('<key>', 'the key')
    .option('--version <version>', 'a pinned version (default: the newest)')
    .option('--reveal', 'print the value itself')
    .addHelpText(
      'after',
      '\nExamples:\n  $ capbroker secrets get apps/checkout/stripe\n  $ capbroker secrets get apps/checkout/stripe --version 1 --reveal',
    )
    .action(async (key: string, options: StoreOptions & { version?: string; reveal?: boolean }) => {
      const [outcome] = await withStore(options, (store) =>
        store.read([options.version ? { key, version: options.version } : { key }]),
      )
      if (!outcome?.ok) {
        process.stderr.write(`capbroker: ${outcome?.error.message ?? 'no answer'}\n`)
        process.exitCode = 1
        return
      }
      if (options.reveal) process.stdout.write(`${outcome.value.reveal()}\n`)
      else
        process.stdout.write(
          `${key} version ${outcome.version}: ${outcome.value} (${outcome.value.byteLength} bytes; --reveal prints it)\n`,
        )
    })

  common(secrets.command('list'))
    .description('list keys and their newest versions (never values)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  $ capbroker secrets list')
    .action(async (options: StoreOptions & { json?: boolean }) => {
      const rows = await withStore(options, async (store) => {
        if (!isListable(store))
          throw new UsageError(`store "${options.store}" cannot list its keys`)
        return store.list()
      })
      if (options.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
      if (rows.length === 0) return void process.stdout.write('no secrets\n')
      process.stdout.write(
        `${table(
          ['KEY', 'VERSION', 'UPDATED'],
          rows.map((r) => [r.key, r.version, r.updatedAt]),
        )}\n`,
      )
    })

  common(secrets.command('delete'))
    .description('delete a key and all its versions; its bindings are marked stale, not released')
    .argument('<key>', 'the key')
    .addHelpText('after', '\nExample:\n  $ capbroker secrets delete apps/checkout/stripe')
    .action(async (key: string, options: StoreOptions) => {
      const refreshed = await withStore(options, async (store, runtime) => {
        await store.delete(key)
        // Its bindings keep their last value, marked stale: a delete is not a release.
        return refreshKey(runtime, options.store, key, 'delete')
      })
      process.stdout.write(`deleted ${key}\n${describeBindings(refreshed)}`)
    })
}
