/**
 * Where the sink puts things, and the checks that keep every path inside the root.
 *
 * ```
 * <root>/<app>/<environment>/<name>  -> ../.capbroker-data/<environment>/<name>+<random>   (symlink)
 * <root>/<app>/.capbroker-data/<environment>/<name>+<random>/{type,provider,<entries>}
 * ```
 *
 * The versioned directories live outside `<environment>/` because Service Binding
 * consumers read every child of SERVICE_BINDING_ROOT as a binding (kube-service-bindings
 * stops at the first child without a `type` file).
 */
import { join, resolve } from 'node:path'
import { BrokerError } from '../../broker/errors.ts'
import type { Binding, BindingTarget } from '../../broker/ports.ts'

/** App, environment, binding and entry names: one safe path segment each. */
export const SEGMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/
/** The directory beside the environments that holds the versioned binding directories. */
export const DATA_DIR = '.capbroker-data'
/** Between a binding name and its random suffix; no valid name contains it. */
export const VERSION_SEPARATOR = '+'
/** The Service Binding spec's reserved entries, written from `binding.type` and `.provider`. */
export const RESERVED_ENTRIES: readonly string[] = ['type', 'provider']

/** The directories of one target. */
export interface TargetLayout {
  /** `<root>/<app>`. */
  readonly appDir: string
  /** `<root>/<app>/<environment>`: what SERVICE_BINDING_ROOT points at. */
  readonly environmentDir: string
  /** `<root>/<app>/.capbroker-data/<environment>`: versioned directories and temporary links. */
  readonly dataDir: string
}

function invalid(message: string): BrokerError {
  return new BrokerError('INJECTION_FAILED', `service-binding sink: ${message}`)
}

/**
 * Throws unless `value` is one safe path segment: no `/`, no leading `.` (so neither
 * `..` nor hidden names), at most 63 characters.
 */
export function assertSegment(what: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !SEGMENT_PATTERN.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value
    throw invalid(`${what} ${shown} must match ${SEGMENT_PATTERN.source}`)
  }
}

/** Checks the target and returns its directories under `root` (an absolute path). */
export function layoutOf(root: string, target: BindingTarget): TargetLayout {
  assertSegment('app', target.app)
  assertSegment('environment', target.environment)
  const appDir = join(root, target.app)
  return {
    appDir,
    environmentDir: join(appDir, target.environment),
    dataDir: join(appDir, DATA_DIR, target.environment),
  }
}

/**
 * Checks every name a binding would put on disk before anything is written: the
 * binding name, each entry name (`..`-prefixed names are Kubernetes' AtomicWriter
 * internals and skipped by readers), and that no entry shadows `type` or `provider`.
 */
export function assertBinding(binding: Binding): void {
  assertSegment('binding name', binding.name)
  for (const entry of binding.entries.keys()) {
    assertSegment(`entry name in binding "${binding.name}":`, entry)
    if (entry.startsWith('..')) throw invalid(`entry name "${entry}" is reserved`)
    if (RESERVED_ENTRIES.includes(entry)) {
      throw invalid(
        `binding "${binding.name}" has an entry "${entry}", which is reserved for the binding's ${entry}`,
      )
    }
  }
  if (typeof binding.type !== 'string' || binding.type === '') {
    throw invalid(`binding "${binding.name}" has no type`)
  }
  if (typeof binding.provider !== 'string' || binding.provider === '') {
    throw invalid(`binding "${binding.name}" has no provider`)
  }
}

/**
 * Throws when the names of a list of bindings or names to remove repeat: two bindings
 * of one name in one call would race each other for the same link.
 */
export function assertUnique(names: readonly string[]): void {
  const seen = new Set<string>()
  for (const name of names) {
    if (seen.has(name)) throw invalid(`binding name "${name}" appears more than once`)
    seen.add(name)
  }
}

/**
 * True when `target` (a link's destination, resolved) is a versioned directory of
 * `name` in `dataDir` — the only thing the sink ever deletes, so a hand-made link
 * pointing elsewhere is never followed into a recursive delete.
 */
export function isOwnVersionDir(dataDir: string, name: string, target: string): boolean {
  const resolved = resolve(target)
  const prefix = join(dataDir, `${name}${VERSION_SEPARATOR}`)
  const suffix = resolved.slice(prefix.length)
  // `+previous` is the bookkeeping link, never a version directory.
  return resolved.startsWith(prefix) && suffix !== 'previous' && !/[/\\]/.test(suffix)
}
