/**
 * `POST /chatops/slack` — shared by the embedded server and the `slack` Lambda — and
 * the `notify` step that posts a command's outcome back to Slack. The command is
 * verified (v0 signature, 5-minute window, no replay), answered at once with an
 * ephemeral acknowledgement, and its work is scheduled: in the embedded server's
 * background, or by invoking the `notify` function.
 */
import { slackPayload } from '../adapters/slack/responder.ts'
import type { SlackConfig } from '../broker/catalog/schema.ts'
import { BrokerError } from '../broker/errors.ts'
import type { ChatMessage, ChatResponder, Logger } from '../broker/ports.ts'
import { faultMessage } from '../broker/triggers/chat-message.ts'
import {
  acceptSlashCommand,
  type ChatJob,
  type ChatWorkDependencies,
  performChatWork,
} from '../broker/triggers/chat-ops.ts'
import { isAllowedResponseUrl } from '../broker/triggers/response-url.ts'
import {
  type ReplayGuard,
  requestIdForSlack,
  verifySlackSignature,
} from '../broker/triggers/slack-signature.ts'
import type { TriggerSecrets } from '../broker/triggers/trigger-secrets.ts'
import { mediaType } from './ingest.ts'
import { HttpProblem } from './problem.ts'
import { bodyText, header, type TriggerReply, type TriggerRequest } from './trigger-http.ts'

/** Slash-command bodies are small; Slack's are a few hundred bytes. */
export const MAX_SLASH_COMMAND_BYTES = 64 * 1024

/** What `POST /chatops/slack` needs. */
export interface SlackCommandDependencies {
  readonly slack: SlackConfig | undefined
  readonly secrets: TriggerSecrets
  readonly replay: ReplayGuard
  readonly clock: () => Date
  readonly logger: Logger
  /** Starts the work after the acknowledgement; must not wait for it to finish. */
  readonly schedule: (job: ChatJob) => Promise<void>
}

/** What posting an outcome needs: the broker's entry points and a responder. */
export interface NotifyDependencies extends ChatWorkDependencies {
  readonly slack: SlackConfig | undefined
  readonly responder: ChatResponder
}

/** Handles one slash command. Throws {@link HttpProblem} for requests that are not Slack's. */
export async function handleSlackCommand(
  deps: SlackCommandDependencies,
  request: TriggerRequest,
): Promise<TriggerReply> {
  const { slack } = deps
  if (!slack)
    throw new HttpProblem(404, 'chat-ops is not configured (chatops.slack in the catalog)')
  const timestamp = header(request, 'x-slack-request-timestamp')
  const signature = header(request, 'x-slack-signature')
  if (!timestamp || !signature)
    throw new HttpProblem(
      401,
      'the request is not signed: X-Slack-Request-Timestamp and X-Slack-Signature are required',
    )
  if (mediaType(request.headers) !== 'application/x-www-form-urlencoded')
    throw new HttpProblem(415, 'a slash command is application/x-www-form-urlencoded')
  let secret: Awaited<ReturnType<TriggerSecrets['read']>>
  try {
    secret = await deps.secrets.read(slack.signingSecret, 'the Slack signing secret')
  } catch (error) {
    if (!(error instanceof BrokerError)) throw error
    deps.logger.error('slack signing secret unreadable', { code: error.code, error: error.message })
    throw new HttpProblem(error.retryable ? 503 : 502, error.message, { cause: error })
  }
  const now = deps.clock()
  const verdict = verifySlackSignature({ secret, timestamp, signature, body: request.body, now })
  if (!verdict.ok) {
    deps.logger.warn('slack command refused', { status: verdict.status })
    throw new HttpProblem(verdict.status, verdict.reason)
  }
  if (!deps.replay.firstSeen(signature, now))
    throw new HttpProblem(403, 'this signed request was already received (a replay)')

  const form = new URLSearchParams(bodyText(request.body))
  const team = form.get('team_id') ?? ''
  const user = form.get('user_id') ?? ''
  const responseUrl = form.get('response_url') ?? ''
  if (!team || !user || !responseUrl)
    throw new HttpProblem(400, 'a slash command needs team_id, user_id and response_url')
  if (!isAllowedResponseUrl(responseUrl, slack.responseUrls))
    throw new HttpProblem(
      400,
      'response_url is not one the broker answers to (chatops.slack.responseUrls)',
    )

  const accepted = acceptSlashCommand(
    slack,
    { team, user, command: form.get('command') || '/capability', text: form.get('text') ?? '' },
    requestIdForSlack(timestamp, signature),
    now,
  )
  const log = { team, user, verdict: accepted.verdict, work: accepted.work?.kind }
  let ack = accepted.ack
  if (accepted.work) {
    try {
      await deps.schedule({ work: accepted.work, replyTo: { url: responseUrl } })
    } catch (error) {
      deps.logger.error('chat work not started', { error: (error as Error).name })
      ack = faultMessage('could not start the work; try again')
    }
  }
  return { status: 200, body: slackPayload(ack), log }
}

/**
 * Runs a chat job and posts its outcome to the job's response_url (the `notify` step).
 * The URL is checked again: a job may have travelled through another function.
 * Resolves with the message posted; rejects only when the post failed.
 */
export async function notifyChatOutcome(
  deps: NotifyDependencies,
  job: ChatJob,
): Promise<ChatMessage> {
  if (!isAllowedResponseUrl(job.replyTo.url, deps.slack?.responseUrls))
    throw new BrokerError(
      'INVALID_REQUEST',
      'the job names a response_url the broker does not answer to',
    )
  const message = await performChatWork(deps, job.work)
  try {
    await deps.responder.respond(job.replyTo, message)
  } catch (error) {
    deps.logger.error('chat answer not posted', {
      kind: job.work.kind,
      error: error instanceof BrokerError ? error.message : (error as Error).name,
    })
    throw error
  }
  deps.logger.info('chat answer posted', { kind: job.work.kind })
  return message
}
