/**
 * The `service-binding` sink: bindings as files, laid out by the Service Binding spec
 * (servicebinding.io), so any consumer of the spec reads them with
 * `SERVICE_BINDING_ROOT=<root>/<app>/<environment>`.
 */
import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { BrokerError, InvalidConfigError } from '../../broker/errors.ts'
import type {
  Binding,
  BindingSink,
  BindingTarget,
  CallOptions,
  InjectionReceipt,
} from '../../broker/ports.ts'
import { KeyedQueue } from '../keyed-queue.ts'
import {
  ensureDirectory,
  ORPHAN_MIN_AGE_MS,
  pruneSuperseded,
  publishedAs,
  removeLink,
  swapLink,
  writeVersionDir,
} from './atomic-dir.ts'
import {
  assertBinding,
  assertSegment,
  assertUnique,
  DATA_DIR,
  layoutOf,
  type TargetLayout,
} from './layout.ts'

/** Options for {@link ServiceBindingSink}. */
export interface ServiceBindingSinkOptions {
  /** The bindings root (catalog `inject.root`, e.g. `.capbroker/bindings`); created 0700 if missing. */
  readonly root: string
}

/** Errors worth retrying: the disk or the process ran out of something for a moment. */
const TRANSIENT = new Set(['ENOSPC', 'EMFILE', 'ENFILE', 'EBUSY', 'EAGAIN', 'EINTR', 'EIO'])
/** Bindings whose last prune a sink remembers; past this it forgets them all. */
const MAX_PRUNE_MEMORY = 10_000

/** Errors that mean the root is not somewhere we may write. */
const MISCONFIGURED = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST'])

/**
 * {@link BindingSink} writing `<root>/<app>/<environment>/<name>/{type,provider,<entry>…}`,
 * directories 0700 and files 0600 whatever the umask.
 *
 * Each binding is published atomically through a symlink swap (see `atomic-dir.ts`): a
 * reader sees the previous binding or the new one, complete. Several bindings in one
 * call are atomic one by one, not together. Every name is checked against
 * `^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$` before the disk is touched, so nothing is ever
 * written outside the root.
 *
 * Errors: a bad name gives a BrokerError `INJECTION_FAILED` (not retryable); a root that
 * cannot be written an InvalidConfigError; a transient I/O error a retryable
 * `INJECTION_FAILED`. The message names the binding, never a value.
 */
export class ServiceBindingSink implements BindingSink {
  /** The sink kind, as in the catalog's `inject.to`. */
  readonly kind = 'service-binding'
  readonly #root: string
  readonly #queue = new KeyedQueue()
  /** When each binding was last pruned (see #prune). */
  readonly #prunedAt = new Map<string, number>()

  constructor(options: ServiceBindingSinkOptions) {
    if (typeof options?.root !== 'string' || options.root === '') {
      throw new InvalidConfigError('service-binding sink: root must be a non-empty path')
    }
    this.#root = resolve(options.root)
  }

  /** The absolute root directory. */
  get root(): string {
    return this.#root
  }

  /** Writes each binding (replacing one of the same name) and returns where they went. */
  async inject(
    target: BindingTarget,
    bindings: readonly Binding[],
    options?: CallOptions,
  ): Promise<InjectionReceipt> {
    options?.signal?.throwIfAborted()
    const layout = layoutOf(this.#root, target)
    for (const binding of bindings) assertBinding(binding)
    assertUnique(bindings.map((binding) => binding.name))

    await this.#prepare(layout, 'inject')
    const written: { name: string; path: string }[] = []
    for (const binding of bindings) {
      options?.signal?.throwIfAborted()
      // One swap per link at a time: two racing swaps would each read the same old
      // link, and the loser's version would be referenced by nothing.
      await this.#queue.run(join(layout.environmentDir, binding.name), () =>
        this.#attempt(`inject binding "${binding.name}"`, async () => {
          const files = filesOf(binding)
          // The same binding again (a redelivery, a re-request, a refresh that found the
          // same values): what readers see is already this, so nothing is rewritten.
          if (publishedAs(layout.environmentDir, layout.dataDir, binding.name, files)) {
            await this.#prune(layout, binding.name)
            return
          }
          const dir = await writeVersionDir(layout.dataDir, binding.name, files)
          await swapLink(layout.environmentDir, layout.dataDir, binding.name, dir)
        }),
      )
      written.push({ name: binding.name, path: join(layout.environmentDir, binding.name) })
    }
    return { sink: this.kind, location: layout.environmentDir, bindings: written }
  }

  /** Deletes the named bindings; a name that is not there is skipped. */
  async remove(
    target: BindingTarget,
    names: readonly string[],
    options?: CallOptions,
  ): Promise<void> {
    options?.signal?.throwIfAborted()
    const layout = layoutOf(this.#root, target)
    for (const name of names) assertSegment('binding name', name)
    assertUnique(names)
    if (names.length === 0) return
    const exists = await this.#attempt('remove', () => isDirectory(layout.environmentDir))
    if (!exists) return

    // A legacy binding directory is moved into the data directory before it is deleted.
    await this.#prepare(layout, 'remove')
    for (const name of names) {
      options?.signal?.throwIfAborted()
      await this.#queue.run(join(layout.environmentDir, name), () =>
        this.#attempt(`remove binding "${name}"`, () =>
          removeLink(layout.environmentDir, layout.dataDir, name),
        ),
      )
    }
  }

  /**
   * Removes what an unchanged binding's last change left behind (pruneSuperseded), at
   * most once a minute per binding: nothing there can become removable sooner, and a
   * directory listing per binding per request is what the comparison saved.
   */
  async #prune(layout: TargetLayout, name: string): Promise<void> {
    const link = join(layout.environmentDir, name)
    const now = Date.now()
    if (now - (this.#prunedAt.get(link) ?? 0) < ORPHAN_MIN_AGE_MS) return
    if (this.#prunedAt.size >= MAX_PRUNE_MEMORY) this.#prunedAt.clear()
    await pruneSuperseded(layout.environmentDir, layout.dataDir, name)
    this.#prunedAt.set(link, now)
  }

  async #prepare(layout: TargetLayout, operation: string): Promise<void> {
    await this.#attempt(`${operation}: create ${layout.environmentDir}`, async () => {
      ensureDirectory(this.#root, false)
      ensureDirectory(layout.appDir, true)
      ensureDirectory(layout.environmentDir, true)
      ensureDirectory(join(layout.appDir, DATA_DIR), true)
      ensureDirectory(layout.dataDir, true)
    })
  }

  /** The one place file-system errors become BrokerErrors. */
  async #attempt<T>(what: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? ''
      const message = `service-binding sink ${this.#root}: ${what} failed (${code || 'error'})`
      if (MISCONFIGURED.has(code)) throw new InvalidConfigError(message, { cause: error })
      throw new BrokerError('INJECTION_FAILED', message, {
        cause: error,
        retryable: TRANSIENT.has(code),
      })
    }
  }
}

/** True when `path` is a directory; false when missing. */
async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return false
    throw error
  }
}

/** The files of one binding: `type`, `provider`, then every entry's revealed value. */
function filesOf(binding: Binding): Map<string, string> {
  const files = new Map<string, string>([
    ['type', binding.type],
    ['provider', binding.provider],
  ])
  for (const [entry, value] of binding.entries) files.set(entry, value.reveal())
  return files
}
