/**
 * A verified push, end to end: branch → environment, manifest at `before` and `after`
 * through a ManifestSource, one requested event for the new manifest, and a release
 * for every capability the push removed (everything, when the branch was deleted).
 * Signature checks happen before this, at the HTTP edge.
 */
import {
  buildEvent,
  type CloudEvent,
  EventTypes,
  EventValidationError,
  type RequestedData,
} from '../../events/index.ts'
import type { Catalog } from '../catalog/load.ts'
import type { GitRepoConfig } from '../catalog/schema.ts'
import { ManifestError, type Problem } from '../errors.ts'
import { type ManifestBody, normalizeRequest } from '../manifest.ts'
import { parseManifestText } from '../manifest-text.ts'
import type { RequestResult } from '../pipeline.ts'
import type { Logger, ManifestSource, RequestKey } from '../ports.ts'
import type { ReleaseRequest, ReleaseResult } from '../release.ts'
import {
  branchOf,
  environmentForBranch,
  isNullCommit,
  manifestPaths,
  type PushPayload,
  removedCapabilities,
  repositoryUrl,
  requestIdForDelivery,
  touchesManifest,
} from './git-push.ts'

/** What became of a requested event: the outcome (embedded), or `accepted` (put on a bus). */
export type DispatchResult =
  | RequestResult
  | { readonly status: 'accepted'; readonly duplicate: false; readonly events: readonly [] }

/** What a trigger needs from its host. */
export interface GitTriggerDependencies {
  readonly catalog: Catalog
  /** The ManifestSource of a repository (GitHub or a local clone, per its config). */
  readonly manifests: (repository: string, config: GitRepoConfig) => Promise<ManifestSource>
  /** Hands a requested event to the broker: in-process, or onto the event bus. */
  readonly dispatch: (event: CloudEvent<typeof EventTypes.requested>) => Promise<DispatchResult>
  readonly release: (request: ReleaseRequest) => Promise<ReleaseResult>
  readonly clock: () => Date
  readonly logger: Logger
}

/** One verified push delivery. */
export interface PushInput {
  /** X-GitHub-Delivery: the same on a redelivery. */
  readonly delivery: string
  readonly repository: { readonly name: string; readonly config: GitRepoConfig }
  readonly push: PushPayload
}

/** What a push did. Nothing is emitted for `ignored` and `invalid-manifest`. */
export type PushOutcome =
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'invalid-manifest'; readonly path: string; readonly problems: Problem[] }
  | {
      readonly kind: 'processed'
      readonly branch: string
      readonly environment: string
      readonly request: RequestKey
      readonly manifest?: string
      readonly requested?: DispatchResult
      readonly released: readonly string[]
    }

type Found = { readonly path: string; readonly text: string }

/** The first manifest path that exists at a commit. */
async function readManifest(
  source: ManifestSource,
  repository: string,
  paths: readonly string[],
  commit: string,
): Promise<Found | undefined> {
  for (const path of paths) {
    const text = await source.read({ repository, path, commit })
    if (text !== undefined) return { path, text }
  }
  return undefined
}

function invalid(path: string, error: unknown): PushOutcome {
  if (error instanceof ManifestError)
    return { kind: 'invalid-manifest', path, problems: [...error.problems] }
  if (error instanceof EventValidationError)
    return {
      kind: 'invalid-manifest',
      path,
      problems: error.problems.map((p) => ({ path: p.path, message: p.message })),
    }
  throw error
}

/** Processes a push whose signature was verified. Rejects only on a fault (source, bus, sink). */
export async function handlePush(
  deps: GitTriggerDependencies,
  input: PushInput,
): Promise<PushOutcome> {
  const { push, repository } = input
  const app = repository.config.app
  const branch = branchOf(push.ref)
  if (branch === undefined) return { kind: 'ignored', reason: `${push.ref} is not a branch` }
  const environment = environmentForBranch(deps.catalog, branch)
  if (environment === undefined)
    return {
      kind: 'ignored',
      reason: `branch "${branch}" resolves for no environment (see environments.<name>.branches)`,
    }
  const request: RequestKey = {
    source: repositoryUrl(push),
    id: requestIdForDelivery(input.delivery),
  }
  const base = { kind: 'processed' as const, branch, environment, request }

  if (push.deleted === true || isNullCommit(push.after)) {
    const result = await deps.release({
      app,
      environment,
      names: 'all',
      reason: `branch ${branch} deleted`,
      request,
    })
    return { ...base, released: result.released }
  }
  const paths = manifestPaths(repository.config)
  if (!touchesManifest(push, paths))
    return { kind: 'ignored', reason: `no commit of the push changed ${paths.join(' or ')}` }

  const source = await deps.manifests(repository.name, repository.config)
  const [after, before] = await Promise.all([
    readManifest(source, repository.name, paths, push.after),
    isNullCommit(push.before)
      ? undefined
      : readManifest(source, repository.name, paths, push.before),
  ])
  if (!after && !before)
    return {
      kind: 'ignored',
      reason: `${paths.join(' or ')} exists at neither ${push.before.slice(0, 7)} nor ${push.after.slice(0, 7)}`,
    }

  let afterBody: ManifestBody | undefined
  let event: CloudEvent<typeof EventTypes.requested> | undefined
  if (after) {
    try {
      afterBody = parseManifestText(after.text, after.path)
      const data = { app, environment, ...afterBody } as RequestedData
      normalizeRequest(data)
      event = buildEvent(
        EventTypes.requested,
        { id: request.id, source: request.source, time: deps.clock().toISOString() },
        data,
      )
    } catch (error) {
      return invalid(after.path, error)
    }
  }
  let beforeBody: ManifestBody | undefined
  if (before) {
    try {
      beforeBody = parseManifestText(before.text, before.path)
    } catch {
      // An unreadable old manifest says nothing reliable about what it declared.
      deps.logger.warn('git push: manifest before the push is invalid; nothing released', {
        repository: repository.name,
        commit: push.before,
        path: before.path,
      })
    }
  }
  const requested = event ? await deps.dispatch(event) : undefined
  const removed = removedCapabilities(beforeBody, afterBody)
  const released =
    removed.length === 0
      ? []
      : (
          await deps.release({
            app,
            environment,
            names: removed,
            reason: after
              ? `removed from ${after.path} in ${push.after.slice(0, 7)}`
              : `${before?.path} deleted in ${push.after.slice(0, 7)}`,
            request,
          })
        ).released
  deps.logger.info('git push', {
    repository: repository.name,
    branch,
    environment,
    app,
    requested: requested?.status,
    released: released.length,
  })
  return { ...base, manifest: (after ?? before)?.path, requested, released }
}
