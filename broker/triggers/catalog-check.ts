/**
 * Cross-reference checks of the trigger sections of a catalog (`git`, `chatops`, the
 * environments' `branches`): what a schema cannot say. Called by the catalog loader,
 * which turns each pointer into a file:line:column.
 */
import { readablePath } from '../../events/index.ts'
import type { CatalogDocument, StoreReference } from '../catalog/schema.ts'
import { DEFAULT_RESPONSE_URLS, isAllowedPrefix } from './response-url.ts'

/** A problem at a JSON Pointer of the catalog document. */
export interface PointedProblem {
  readonly pointer: string
  readonly path: string
  readonly message: string
}

/** Which catalog properties hold a store reference: the loader rewords a literal there. */
export const STORE_REFERENCE_PROPERTIES: readonly string[] = [
  'webhookSecret',
  'token',
  'signingSecret',
]

const pointerSegment = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1')
const isGlob = (s: string) => /[*?[\]{}!()]/.test(s)

/** Every problem of the trigger sections; an empty list when they are consistent. */
export function checkTriggerSections(doc: CatalogDocument): PointedProblem[] {
  const problems: PointedProblem[] = []
  const add = (pointer: string, message: string) =>
    problems.push({ pointer, path: readablePath(pointer), message })
  const storeNames = Object.keys(doc.stores)
  const envNames = Object.keys(doc.environments)
  const checkRef = (pointer: string, ref: StoreReference | undefined) => {
    if (ref && !storeNames.includes(ref.store))
      add(
        `${pointer}/store`,
        `unknown store "${ref.store}" (defined: ${storeNames.join(', ') || 'none'})`,
      )
  }

  // A literal branch in two environments would make one push resolve twice.
  const owner = new Map<string, string>()
  for (const [env, config] of Object.entries(doc.environments)) {
    config.branches?.forEach((branch, i) => {
      const first = owner.get(branch)
      if (first !== undefined && !isGlob(branch))
        add(
          `/environments/${pointerSegment(env)}/branches/${i}`,
          `branch "${branch}" already resolves for environment "${first}"`,
        )
      else owner.set(branch, env)
    })
  }

  const seen = new Map<string, string>()
  for (const [name, repo] of Object.entries(doc.git?.repos ?? {})) {
    const at = `/git/repos/${pointerSegment(name)}`
    const lower = name.toLowerCase()
    const twin = seen.get(lower)
    if (twin !== undefined)
      add(at, `repository "${name}" is listed twice (as "${twin}"): GitHub names ignore case`)
    seen.set(lower, name)
    checkRef(`${at}/webhookSecret`, repo.webhookSecret)
    checkRef(`${at}/token`, repo.token)
    if (repo.manifest?.split('/').some((s) => s === '..' || s === '' || s === '.'))
      add(`${at}/manifest`, 'must be a path inside the repository (no "..", "." or empty segment)')
    const source = repo.source ?? 'github'
    if (source === 'local-git') {
      if (repo.clone === undefined)
        add(`${at}/clone`, 'is required with source local-git: the path of the clone')
      if (repo.baseUrl !== undefined) add(`${at}/baseUrl`, 'applies to source github only')
      if (repo.token !== undefined) add(`${at}/token`, 'applies to source github only')
    } else if (repo.clone !== undefined) {
      add(`${at}/clone`, 'applies to source local-git only')
    }
    if (repo.baseUrl !== undefined && !URL.canParse(repo.baseUrl))
      add(`${at}/baseUrl`, 'must be a URL like https://ghe.example.com/api/v3')
  }

  const slack = doc.chatops?.slack
  if (slack) {
    checkRef('/chatops/slack/signingSecret', slack.signingSecret)
    slack.environments.forEach((env, i) => {
      if (!envNames.includes(env))
        add(
          `/chatops/slack/environments/${i}`,
          `unknown environment "${env}" (defined: ${envNames.join(', ') || 'none'})`,
        )
    })
    slack.responseUrls?.forEach((prefix, i) => {
      if (!isAllowedPrefix(prefix))
        add(
          `/chatops/slack/responseUrls/${i}`,
          `must be an https:// URL (http:// only for 127.0.0.1, ::1 or localhost); default ${DEFAULT_RESPONSE_URLS.join(', ')}`,
        )
    })
  }
  return problems
}
