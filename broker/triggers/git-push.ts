/**
 * The Git push trigger's pure parts: what a push payload says (checked once, at the
 * edge), which environment a branch resolves for, whether the push touched the
 * manifest, and which capabilities a manifest change removed.
 */
import picomatch from 'picomatch'
import { type ValidationProblem, validate } from '../../events/index.ts'
import type { Catalog } from '../catalog/load.ts'
import type { GitRepoConfig } from '../catalog/schema.ts'
import { PushPayload as pushPayload } from '../generated/checks.ts'
import type { ManifestBody } from '../manifest.ts'
import type { PushPayload } from './payloads.ts'

/** Where a manifest is looked for when the repository does not name one, in order. */
export const DEFAULT_MANIFEST_PATHS: readonly string[] = [
  'score.yaml',
  'capbroker/capabilities.yaml',
]
/**
 * GitHub lists at most 2048 commits in a push; a longer push may have touched the
 * manifest in a commit the payload leaves out.
 */
export const MAX_LISTED_COMMITS = 2048

/** A push payload that passed {@link checkPush}. */
export type { PushPayload }

/** The problems of a push payload (empty when it has what the broker reads). */
export function checkPush(body: unknown): ValidationProblem[] {
  return validate(pushPayload, body)
}

/** True for the all-zero commit id GitHub sends for "no commit" (a new or deleted ref). */
export function isNullCommit(sha: string): boolean {
  return /^0+$/.test(sha)
}

/** `refs/heads/release/1.2` → `release/1.2`; tags and other refs → undefined. */
export function branchOf(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') && ref.length > 11 ? ref.slice(11) : undefined
}

/**
 * The environment a branch resolves for: the first environment, in catalog order,
 * whose `branches` (names or globs) match.
 */
export function environmentForBranch(catalog: Catalog, branch: string): string | undefined {
  for (const [name, env] of catalog.environments) {
    if (env.branches && picomatch.isMatch(branch, env.branches, { nonegate: true })) return name
  }
  return undefined
}

/** The repository's entry in `git.repos` (GitHub names ignore case), or undefined. */
export function findRepository(
  catalog: Catalog,
  fullName: string,
): { readonly name: string; readonly config: GitRepoConfig } | undefined {
  const wanted = fullName.toLowerCase()
  for (const [name, config] of Object.entries(catalog.document.git?.repos ?? {})) {
    if (name.toLowerCase() === wanted) return { name, config }
  }
  return undefined
}

/** The manifest paths of a repository, most preferred first. */
export function manifestPaths(config: GitRepoConfig): readonly string[] {
  return config.manifest === undefined ? DEFAULT_MANIFEST_PATHS : [config.manifest]
}

/**
 * True when the push may have changed a manifest: a listed commit added, modified or
 * removed one of the paths. A forced push and a push with more commits than GitHub
 * lists are assumed to have, since their commit lists do not describe before → after.
 */
export function touchesManifest(push: PushPayload, paths: readonly string[]): boolean {
  const commits = push.commits ?? []
  if (push.forced === true || commits.length >= MAX_LISTED_COMMITS) return true
  const all = push.head_commit ? [...commits, push.head_commit] : commits
  return all.some((c) =>
    [c.added, c.modified, c.removed].some((list) => list?.some((p) => paths.includes(p))),
  )
}

/** `https://github.com/<owner>/<repo>` (or the Enterprise / self-hosted page GitHub sent). */
export function repositoryUrl(push: PushPayload): string {
  const page = push.repository.html_url
  if (page !== undefined && /^https?:\/\/[^\s]+$/.test(page) && URL.canParse(page))
    return page.replace(/\/+$/, '')
  return `https://github.com/${push.repository.full_name}`
}

/** The delivery ids GitHub sends (a GUID); anything else is refused before it names a request. */
export const DELIVERY_ID = /^[A-Za-z0-9-]{1,64}$/

/** The requested event's id for a delivery: a redelivery (same X-GitHub-Delivery) repeats it. */
export function requestIdForDelivery(delivery: string): string {
  return `gh-${delivery}`
}

/**
 * The capability names a manifest declares. The manifest before a push is never
 * schema-checked (only the one after it is), so anything that is not a named entry is
 * skipped rather than trusted.
 */
export function capabilityNames(body: ManifestBody | undefined): string[] {
  if (!body) return []
  if (body.capabilities) {
    const list: unknown = body.capabilities
    if (!Array.isArray(list)) return []
    return list.flatMap((c: unknown) => {
      const name = (c as { name?: unknown } | null)?.name
      return typeof name === 'string' ? [name] : []
    })
  }
  const resources: unknown = body.score?.resources
  if (resources === null || typeof resources !== 'object' || Array.isArray(resources)) return []
  return Object.keys(resources)
}

/** Names declared before and gone after: these are released. */
export function removedCapabilities(
  before: ManifestBody | undefined,
  after: ManifestBody | undefined,
): string[] {
  const kept = new Set(capabilityNames(after))
  return capabilityNames(before).filter((name) => !kept.has(name))
}
