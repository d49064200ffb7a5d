/**
 * The lifecycle's side of the pipeline: the record a request leaves per injected
 * binding (with its digest, and the last rotation carried over), and the guard that
 * keeps a request from re-injecting a value a refresh has just replaced.
 */
import type { Binding, BindingRecord, BindingTarget, RequestKey } from '../ports.ts'
import type { SecretReference, SecretResolver } from '../resolution/secret-resolver.ts'
import { bindingDigest, type DigestKey } from './digest.ts'

/** One injected binding as the pipeline knows it. */
export interface InjectedBinding {
  readonly binding: Binding
  readonly capabilityClass?: string
  readonly ref: Pick<SecretReference, 'store' | 'key'>
  readonly provider: string
  readonly version: string
  readonly entries: readonly string[]
  readonly secretEntries: readonly string[]
}

/** Where the sink put them. */
export interface Placement {
  readonly sink: string
  readonly location: string
  readonly injectedAt: string
}

/**
 * The records of freshly injected bindings: `ready`, with the digest of what was
 * injected when the host has a key, and the previous record's `lastRotatedAt` when the
 * binding still reads the same source (a new request is not a rotation, but it does not
 * erase the last one either).
 */
export function injectedRecords(
  target: BindingTarget,
  injected: readonly InjectedBinding[],
  placement: Placement,
  request: RequestKey,
  previous: readonly BindingRecord[],
  key: DigestKey | undefined,
): BindingRecord[] {
  const before = new Map(previous.map((r) => [r.name, r]))
  return injected.map((d): BindingRecord => {
    const old = before.get(d.binding.name)
    const sameSource = old !== undefined && old.store === d.ref.store && old.key === d.ref.key
    return {
      ...target,
      name: d.binding.name,
      type: d.binding.type,
      provider: d.provider,
      store: d.ref.store,
      key: d.ref.key,
      version: d.version,
      entries: d.entries,
      secretEntries: d.secretEntries,
      sink: placement.sink,
      location: placement.location,
      injectedAt: placement.injectedAt,
      request,
      ...(d.capabilityClass === undefined ? {} : { class: d.capabilityClass }),
      ...(key === undefined ? {} : { digest: bindingDigest(target, d.binding, key) }),
      ...(sameSource && old.lastRotatedAt ? { lastRotatedAt: old.lastRotatedAt } : {}),
    }
  })
}

/**
 * Drops cached values a refresh may have replaced. A host's resolver caches a read for
 * its TTL; when a refresh (in another process: the CLI, the rotate function) re-injected
 * a source less than a TTL ago, this process may still hold the old value, and a request
 * served from it would put the old value back. Such a source is read again — once per
 * rotation per process: `seen` remembers the rotations already acted on.
 */
export function invalidateRotated(
  resolver: Pick<SecretResolver, 'invalidate'>,
  refs: readonly SecretReference[],
  records: readonly BindingRecord[],
  nowMs: number,
  seen: Map<string, string>,
): number {
  let dropped = 0
  for (const ref of refs) {
    const id = JSON.stringify([ref.store, ref.key])
    const latest = records
      .filter((r) => r.store === ref.store && r.key === ref.key && r.lastRotatedAt !== undefined)
      .map((r) => r.lastRotatedAt as string)
      .sort()
      .at(-1)
    if (latest === undefined || Date.parse(latest) <= nowMs - ref.ttlMs) continue
    if (seen.get(id) === latest) continue
    seen.set(id, latest)
    resolver.invalidate({ store: ref.store, key: ref.key })
    dropped++
  }
  // Bounded: entries older than any TTL say nothing any more.
  if (seen.size > 10_000) seen.clear()
  return dropped
}
