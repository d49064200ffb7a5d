/**
 * What the commands share: where home is, how to load the catalog and the embedded
 * runtime, and plain-text tables for people (`--json` for machines).
 */
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { SECRETS_DB_FILE } from '../adapters/local/index.ts'
import type { Catalog } from '../broker/catalog/load.ts'
import type { Logger, RequestKey } from '../broker/ports.ts'
import { createJsonLogger, isLogLevel } from '../server/logger.ts'
import { createEmbeddedRuntime, type EmbeddedRuntime } from '../server/runtime.ts'
import { locateCatalog, readCatalog } from './catalog-file.ts'
import { seedExampleSecrets } from './seed.ts'

/** capbroker's version, from package.json. */
export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version

/** Options every command that touches state takes. */
export interface HomeOptions {
  readonly home?: string
  readonly catalog?: string
}

/** `--home`, then CAPBROKER_HOME, then `.capbroker` in the working directory. */
export function homeDir(options: HomeOptions): string {
  return resolve(options.home ?? process.env.CAPBROKER_HOME ?? '.capbroker')
}

/**
 * The log level from CAPBROKER_LOG_LEVEL (debug, info, warn, error). `serve` logs to
 * stdout at info; one-shot commands log to stderr at warn, so their stdout stays the
 * table or JSON a script reads.
 */
export function logger(mode: 'server' | 'command' = 'command'): Logger {
  const level = process.env.CAPBROKER_LOG_LEVEL
  const fallback = mode === 'server' ? 'info' : 'warn'
  const stream = mode === 'server' ? process.stdout : process.stderr
  return createJsonLogger({
    level: isLogLevel(level) ? level : fallback,
    write: (line) => stream.write(line),
  })
}

/** A loaded catalog and the embedded runtime over it. */
export interface Loaded {
  readonly catalog: Catalog
  readonly runtime: EmbeddedRuntime
  readonly usingExample: boolean
  readonly home: string
}

/**
 * Loads the catalog (falling back to the bundled example when there is none) and wires
 * the embedded runtime. With `seed` (only `serve` asks), a first run on the example —
 * a home without a local store yet — gets the example values; later runs never write
 * them again, so a deleted example secret stays deleted.
 */
export async function loadRuntime(
  options: HomeOptions,
  log: Logger,
  behaviour: { seed?: boolean } = {},
): Promise<Loaded> {
  const located = locateCatalog(options.catalog)
  const catalog = readCatalog(located.path)
  const home = homeDir(options)
  const firstRun = !existsSync(join(home, SECRETS_DB_FILE))
  const runtime = createEmbeddedRuntime({ catalog, home, logger: log })
  const usingExample = located.origin === 'example'
  if (usingExample && firstRun && behaviour.seed) await seedExampleSecrets(runtime)
  return { catalog, runtime, usingExample, home }
}

/** Formats rows as an aligned plain-text table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** A path as people should see it: relative to the working directory when inside it. */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel === '' || rel.startsWith('..') ? path : rel
}

/**
 * Who asked, for the audit log and the events' ids: `/cli/<user>` (the OS account that
 * ran the command) and a fresh id per command.
 */
export function cliTrigger(): RequestKey {
  let user = 'unknown'
  try {
    user = userInfo().username.replace(/[^A-Za-z0-9._-]/g, '_') || 'unknown'
  } catch {
    // No passwd entry (some containers): the command is still attributed to the CLI.
  }
  return { source: `/cli/${user}`, id: randomUUID() }
}
