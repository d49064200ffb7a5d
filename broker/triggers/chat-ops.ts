/**
 * A verified slash command, end to end: parse, authorize, answer at once, and describe
 * the work that follows (a request, a release, a status). The work runs later — in the
 * embedded server's background or in the `notify` function — and its outcome goes back
 * to the chat through a ChatResponder.
 */
import {
  type AnyCloudEvent,
  buildEvent,
  type CloudEvent,
  EventTypes,
  EventValidationError,
  parseEvent,
  type RequestedData,
  validate,
} from '../../events/index.ts'
import type { SlackConfig } from '../catalog/schema.ts'
import { toBrokerError } from '../errors.ts'
import { OtherWork as otherWork } from '../generated/checks.ts'
import type { RequestResult } from '../pipeline.ts'
import type {
  BindingRecord,
  BindingTarget,
  ChatMessage,
  ChatReplyTarget,
  Logger,
} from '../ports.ts'
import type { ReleaseRequest, ReleaseResult } from '../release.ts'
import { authorizeChat, isAllowedTeam } from './chat-access.ts'
import { ChatUsageError, parseChatCommand } from './chat-command.ts'
import {
  acknowledgementMessage,
  deniedMessage,
  faultMessage,
  helpMessage,
  outcomeMessage,
  releaseMessage,
  statusMessage,
  usageMessage,
} from './chat-message.ts'

/** The fields of a slash command the broker reads (`application/x-www-form-urlencoded`). */
export interface SlashCommand {
  readonly team: string
  readonly user: string
  /** The command as typed (`/capability`), for help texts. */
  readonly command: string
  readonly text: string
}

/** Work a command asked for; plain data, so it can travel to the `notify` function. */
export type ChatWork =
  | { readonly kind: 'request'; readonly event: CloudEvent<typeof EventTypes.requested> }
  | { readonly kind: 'release'; readonly release: ReleaseRequest }
  | { readonly kind: 'status'; readonly target: BindingTarget }

/** Work and where to post its outcome. */
export interface ChatJob {
  readonly work: ChatWork
  readonly replyTo: ChatReplyTarget
}

/** The immediate answer, and the work to run after it (none for help, usage and denials). */
export interface Acceptance {
  readonly ack: ChatMessage
  readonly work?: ChatWork
  /** For the log line: `accepted`, `help`, `usage` or `denied`. */
  readonly verdict: 'accepted' | 'help' | 'usage' | 'denied'
}

/** The `source` of a chat request: `/chatops/slack/<team>`. */
export function chatSource(team: string): string {
  return `/chatops/slack/${team}`
}

/** Decides what a verified slash command does. `requestId` names its request (see requestIdForSlack). */
export function acceptSlashCommand(
  config: SlackConfig,
  slash: SlashCommand,
  requestId: string,
  now: Date,
): Acceptance {
  if (!isAllowedTeam(config, slash.team))
    return {
      verdict: 'denied',
      ack: deniedMessage(
        `this Slack workspace (${slash.team}) may not use capbroker: it is not in chatops.slack.teams`,
      ),
    }
  let command: ReturnType<typeof parseChatCommand>
  try {
    command = parseChatCommand(slash.text)
  } catch (error) {
    if (!(error instanceof ChatUsageError)) throw error
    return { verdict: 'usage', ack: usageMessage(error.message, slash.command) }
  }
  if (command.kind === 'help') return { verdict: 'help', ack: helpMessage(slash.command) }
  const decision = authorizeChat(config, slash, command)
  if (!decision.allowed)
    return decision.kind === 'usage'
      ? { verdict: 'usage', ack: usageMessage(decision.message, slash.command) }
      : { verdict: 'denied', ack: deniedMessage(decision.message) }
  const { app, environment } = decision
  const where = `${app}/${environment}`
  const request = { source: chatSource(slash.team), id: requestId }
  if (command.kind === 'status')
    return {
      verdict: 'accepted',
      ack: acknowledgementMessage(`looking up ${where}`),
      work: { kind: 'status', target: { app, environment } },
    }
  if (command.kind === 'release')
    return {
      verdict: 'accepted',
      ack: acknowledgementMessage(`releasing ${command.name} from ${where}`),
      work: {
        kind: 'release',
        release: {
          app,
          environment,
          names: [command.name],
          reason: `chat release by ${slash.user}`,
          request,
        },
      },
    }
  const params = Object.keys(command.params).length > 0 ? { params: { ...command.params } } : {}
  const data: RequestedData = {
    app,
    environment,
    capabilities: [{ name: command.name, type: command.type, ...params }],
  }
  let event: CloudEvent<typeof EventTypes.requested>
  try {
    event = buildEvent(EventTypes.requested, { ...request, time: now.toISOString() }, data)
  } catch (error) {
    // What the command parser lets through but the request contract refuses (a
    // `__proto__` parameter, more than 32 parameters) is the user's to fix, not a fault.
    if (!(error instanceof EventValidationError)) throw error
    const why = error.problems.map((p) => `${p.path.replace(/^data\./, '')}: ${p.message}`)
    return { verdict: 'usage', ack: usageMessage(why.join('; '), slash.command) }
  }
  return {
    verdict: 'accepted',
    ack: acknowledgementMessage(`requesting ${command.name} (${command.type}) for ${where}`),
    work: { kind: 'request', event },
  }
}

/** What performing chat work needs: the broker's entry points. */
export interface ChatWorkDependencies {
  readonly handle: (event: CloudEvent<typeof EventTypes.requested>) => Promise<RequestResult>
  readonly release: (request: ReleaseRequest) => Promise<ReleaseResult>
  readonly listBindings: (target: BindingTarget) => Promise<BindingRecord[]>
  readonly logger: Logger
}

function requestReason(events: readonly AnyCloudEvent[]) {
  for (const e of events)
    if ((e.type === EventTypes.failed || e.type === EventTypes.denied) && e.data.reason)
      return e.data.reason
  return undefined
}

/** Runs the work and renders its outcome. Never rejects: a fault becomes a message. */
export async function performChatWork(
  deps: ChatWorkDependencies,
  work: ChatWork,
): Promise<ChatMessage> {
  try {
    if (work.kind === 'status') {
      const records = await deps.listBindings(work.target)
      return statusMessage(work.target.app, work.target.environment, records)
    }
    if (work.kind === 'release') {
      const { app, environment, names } = work.release
      const result = await deps.release(work.release)
      return releaseMessage(
        app,
        environment,
        names === 'all' ? '*' : (names[0] ?? ''),
        result.released,
      )
    }
    const { app, environment } = work.event.data
    const result = await deps.handle(work.event)
    if (result.status === 'in-progress')
      return faultMessage(`this request is already being handled for ${app}/${environment}`)
    const reason = requestReason(result.events)
    return outcomeMessage({
      app,
      environment,
      status: result.status,
      duplicate: result.duplicate,
      capabilities: result.capabilities,
      ...(reason ? { reason } : {}),
    })
  } catch (error) {
    const failure = toBrokerError(error, `chat ${work.kind}`)
    deps.logger.error('chat work failed', { kind: work.kind, code: failure.code })
    return faultMessage(
      `could not finish the ${work.kind}: ${failure.retryable ? 'a store or the bus is unavailable; try again' : failure.message}`,
    )
  }
}

/**
 * Reads a {@link ChatJob} that travelled as JSON (to the `notify` function): checked
 * again like anything at an edge. Throws TypeError naming what is wrong.
 */
export function parseChatJob(input: unknown): ChatJob {
  const job = input as { work?: Record<string, unknown>; replyTo?: { url?: unknown } }
  if (typeof job?.replyTo?.url !== 'string')
    throw new TypeError('chat job: replyTo.url is required')
  const replyTo = { url: job.replyTo.url }
  const work = job.work
  if (work?.kind === 'request') {
    const event = parseEvent(work.event)
    if (event.type !== EventTypes.requested) throw new TypeError('chat job: not a requested event')
    return { replyTo, work: { kind: 'request', event } }
  }
  if (work?.kind !== 'release' && work?.kind !== 'status')
    throw new TypeError('chat job: work.kind must be request, release or status')
  const problems = validate(otherWork, work, 'work')
  if (problems.length > 0)
    throw new TypeError(`chat job: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`)
  return { replyTo, work: work as unknown as ChatWork }
}
