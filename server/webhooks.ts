/**
 * `POST /webhooks/github` — shared by the embedded server and the `github` Lambda:
 * find the repository, verify X-Hub-Signature-256 with its secret (read from its store),
 * then hand a push to the trigger core. Every refusal is a problem document and emits
 * nothing: 401 unsigned, 403 wrong signature, 404 unknown repository, 400 malformed,
 * 415 not JSON, 422 an invalid manifest.
 */
import { resolve } from 'node:path'
import { verifyGitHubSignature } from '../adapters/github/signature.ts'
import { REPOSITORY_PATTERN } from '../broker/catalog/patterns.ts'
import type { GitRepoConfig } from '../broker/catalog/schema.ts'
import { BrokerError } from '../broker/errors.ts'
import type { ManifestSource } from '../broker/ports.ts'
import {
  checkPush,
  DELIVERY_ID,
  findRepository,
  type PushPayload,
} from '../broker/triggers/git-push.ts'
import {
  type GitTriggerDependencies,
  handlePush,
  type PushOutcome,
} from '../broker/triggers/git-trigger.ts'
import type { TriggerSecrets } from '../broker/triggers/trigger-secrets.ts'
import { mediaType } from './ingest.ts'
import { HttpProblem } from './problem.ts'
import { bodyText, header, type TriggerReply, type TriggerRequest } from './trigger-http.ts'

export { bodyText, header, type TriggerReply, type TriggerRequest }

/** GitHub caps deliveries at 25 MB; a push listing 2048 commits stays well under this. */
export const MAX_WEBHOOK_BYTES = 5 * 1024 * 1024
const REPOSITORY = new RegExp(REPOSITORY_PATTERN)

/** What the webhook needs: the trigger core's dependencies and the secrets. */
export interface GitHubWebhookDependencies extends GitTriggerDependencies {
  readonly secrets: TriggerSecrets
}

/** Problems reading a secret or a manifest: retryable ones are 503, the rest 502. */
function upstream(error: unknown, logger: GitTriggerDependencies['logger'], what: string): never {
  if (!(error instanceof BrokerError)) throw error
  logger.error(what, { code: error.code, error: error.message })
  throw new HttpProblem(error.retryable ? 503 : 502, error.message, { cause: error })
}

function outcomeBody(outcome: PushOutcome) {
  if (outcome.kind === 'ignored') return { result: 'ignored', reason: outcome.reason }
  if (outcome.kind !== 'processed') return { result: outcome.kind }
  const { requested } = outcome
  return {
    result: 'processed',
    branch: outcome.branch,
    environment: outcome.environment,
    request: outcome.request,
    ...(outcome.manifest ? { manifest: outcome.manifest } : {}),
    ...(requested
      ? {
          requested: {
            status: requested.status,
            duplicate: requested.duplicate,
            ...('capabilities' in requested ? { capabilities: requested.capabilities } : {}),
            events: requested.events.map((e) => ({ id: e.id, type: e.type })),
          },
        }
      : {}),
    released: outcome.released,
  }
}

/** Handles one GitHub webhook delivery. Throws {@link HttpProblem} for every refusal. */
export async function handleGitHubWebhook(
  deps: GitHubWebhookDependencies,
  request: TriggerRequest,
): Promise<TriggerReply> {
  const signature = header(request, 'x-hub-signature-256')
  if (!signature)
    throw new HttpProblem(
      401,
      'the delivery is not signed: set a secret on the webhook (X-Hub-Signature-256)',
    )
  const type = mediaType(request.headers)
  if (type !== 'application/json')
    throw new HttpProblem(
      415,
      `content type "${type || '(none)'}" is not accepted: set the webhook's content type to application/json`,
      { headers: { accept: 'application/json' } },
    )
  const event = header(request, 'x-github-event')
  if (!event || !/^[a-z_]{1,64}$/.test(event))
    throw new HttpProblem(400, 'X-GitHub-Event is missing or malformed')
  const text = bodyText(request.body)
  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch (error) {
    throw new HttpProblem(400, 'the body is not valid JSON', { cause: error })
  }
  const fullName = (payload as { repository?: { full_name?: unknown } } | null)?.repository
    ?.full_name
  if (typeof fullName !== 'string' || !REPOSITORY.test(fullName))
    throw new HttpProblem(400, 'the delivery names no repository (repository.full_name owner/name)')
  const repository = findRepository(deps.catalog, fullName)
  // The configured repositories are not listed: a caller that cannot sign learns nothing more.
  if (!repository)
    throw new HttpProblem(404, `repository ${fullName} is not configured in git.repos`)
  const secret = await deps.secrets
    .read(repository.config.webhookSecret, `the webhook secret of ${repository.name}`)
    .catch((error: unknown) => upstream(error, deps.logger, 'webhook secret unreadable'))
  const verdict = await verifyGitHubSignature(secret, text, signature)
  const log = { repository: repository.name, event }
  if (!verdict.ok) {
    deps.logger.warn('github webhook refused', { ...log, status: verdict.status })
    throw new HttpProblem(verdict.status, verdict.reason)
  }

  if (event === 'ping')
    return { status: 200, body: { pong: true, repository: repository.name }, log }
  if (event !== 'push')
    return {
      status: 202,
      body: { result: 'ignored', reason: `"${event}" events are not used; send push` },
      log,
    }
  const delivery = header(request, 'x-github-delivery')
  if (!delivery || !DELIVERY_ID.test(delivery))
    throw new HttpProblem(400, 'X-GitHub-Delivery is missing or malformed: it names the request')
  const problems = checkPush(payload)
  if (problems.length > 0)
    throw new HttpProblem(
      400,
      `not a push payload: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      {
        errors: problems.map((p) => ({ path: p.path, message: p.message })),
      },
    )
  let outcome: PushOutcome
  try {
    outcome = await handlePush(deps, { delivery, repository, push: payload as PushPayload })
  } catch (error) {
    upstream(error, deps.logger, 'github push not processed')
  }
  if (outcome.kind === 'invalid-manifest')
    throw new HttpProblem(
      422,
      `${outcome.path} is not a valid manifest: ${outcome.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      {
        errors: outcome.problems.map((p) => ({ path: p.path, message: p.message })),
      },
    )
  const app = repository.config.app
  const environment = outcome.kind === 'processed' ? outcome.environment : undefined
  return {
    status: 202,
    body: { delivery, repository: repository.name, ...outcomeBody(outcome) },
    log: {
      ...log,
      delivery,
      app,
      environment,
      outcome: outcome.kind === 'processed' ? outcome.requested?.status : outcome.kind,
    },
  }
}

/**
 * The ManifestSource a repository's config names: the GitHub contents API (token from
 * its store), or a local clone (relative to `cwd`). Adapters load on first use, so a
 * host without git triggers never loads @octokit/rest.
 */
export async function createManifestSource(
  repository: string,
  config: GitRepoConfig,
  context: { readonly secrets: TriggerSecrets; readonly cwd: string },
): Promise<ManifestSource> {
  if ((config.source ?? 'github') === 'local-git') {
    const { LocalGitSource } = await import('../adapters/local-git/index.ts')
    return new LocalGitSource({ clone: resolve(context.cwd, config.clone ?? '.') })
  }
  const { GitHubContentsSource } = await import('../adapters/github/contents-source.ts')
  const token = config.token
  return new GitHubContentsSource({
    ...(config.baseUrl === undefined ? {} : { baseUrl: config.baseUrl }),
    ...(token === undefined
      ? {}
      : { token: () => context.secrets.read(token, `the API token of ${repository}`) }),
  })
}
