/**
 * Chat messages as Slack Block Kit: one section per capability (ready, failed with its
 * reason, denied with why), built only from outcome metadata — names, versions,
 * reasons — so no secret value can reach a channel.
 */
import type { CapabilityOutcome } from '../../events/index.ts'
import type { BindingRecord, ChatMessage } from '../ports.ts'

/** Slack refuses a message with more than 50 blocks; keep room for the header and a tail. */
const MAX_ITEMS = 45
const MAX_SECTION = 2900

/** Escapes the three characters Slack's mrkdwn treats as markup. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

const section = (text: string) => ({
  type: 'section',
  text: {
    type: 'mrkdwn',
    text: text.length > MAX_SECTION ? `${text.slice(0, MAX_SECTION)}…` : text,
  },
})
const context = (text: string) => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] })
const header = (text: string) => ({
  type: 'header',
  text: { type: 'plain_text', text: text.slice(0, 150) },
})

function message(text: string, blocks: Record<string, unknown>[]): ChatMessage {
  return { text, blocks, visibility: 'ephemeral' }
}

function listed<T>(items: readonly T[], render: (item: T) => Record<string, unknown>) {
  const blocks = items.slice(0, MAX_ITEMS).map(render)
  if (items.length > MAX_ITEMS) blocks.push(context(`…and ${items.length - MAX_ITEMS} more`))
  return blocks
}

const ICON = { ready: ':white_check_mark:', failed: ':x:', denied: ':no_entry:' } as const

/** One capability's line: status, where it came from, or why not. */
export function capabilityLine(c: CapabilityOutcome): string {
  const name = `*${escapeMrkdwn(c.name)}* (${escapeMrkdwn(c.type)})`
  if (c.status === 'ready') {
    const from = [c.provider, c.key && `${c.key}${c.version ? `@${c.version}` : ''}`].filter(
      Boolean,
    )
    const entries = c.entries?.length ? ` → ${c.entries.join(', ')}` : ''
    return `${ICON.ready} ${name} — ready${from.length ? ` · ${escapeMrkdwn(from.join(' · '))}` : ''}${escapeMrkdwn(entries)}`
  }
  const why = c.reason ? `: ${escapeMrkdwn(c.reason.code)} — ${escapeMrkdwn(c.reason.message)}` : ''
  return `${ICON[c.status]} ${name} — ${c.status}${why}`
}

/** The outcome of a request: a header with the overall status, then each capability. */
export function outcomeMessage(input: {
  readonly app: string
  readonly environment: string
  readonly status: string
  readonly duplicate: boolean
  readonly capabilities: readonly CapabilityOutcome[]
  readonly reason?: { readonly code: string; readonly message: string }
}): ChatMessage {
  const where = `${input.app}/${input.environment}`
  const count = (s: CapabilityOutcome['status']) =>
    input.capabilities.filter((c) => c.status === s).length
  const summary = `${input.status} — ${count('ready')} ready, ${count('failed')} failed, ${count('denied')} denied`
  const blocks: Record<string, unknown>[] = [header(`capbroker: ${where} ${input.status}`)]
  if (input.reason)
    blocks.push(
      section(`${escapeMrkdwn(input.reason.code)} — ${escapeMrkdwn(input.reason.message)}`),
    )
  blocks.push(...listed(input.capabilities, (c) => section(capabilityLine(c))))
  if (input.duplicate) blocks.push(context('already handled: this is the recorded outcome'))
  return message(`capbroker ${where}: ${summary}`, blocks)
}

/** What a release did. */
export function releaseMessage(
  app: string,
  environment: string,
  name: string,
  released: readonly string[],
): ChatMessage {
  const where = `${app}/${environment}`
  const text = released.includes(name)
    ? `released ${name} from ${where}: its binding was removed`
    : `${name} is not bound in ${where}: nothing to release`
  return message(`capbroker: ${text}`, [section(`:wastebasket: ${escapeMrkdwn(text)}`)])
}

/** What is bound for an app in an environment: metadata only. */
export function statusMessage(
  app: string,
  environment: string,
  records: readonly BindingRecord[],
): ChatMessage {
  const where = `${app}/${environment}`
  if (records.length === 0)
    return message(`capbroker: nothing is bound for ${where}`, [
      section(`nothing is bound for *${escapeMrkdwn(where)}*`),
    ])
  return message(`capbroker: ${records.length} bound for ${where}`, [
    header(`capbroker: ${where}`),
    ...listed(records, (r) =>
      section(
        `${ICON.ready} *${escapeMrkdwn(r.name)}* (${escapeMrkdwn(r.type)}) · ${escapeMrkdwn(`${r.provider} · ${r.key}@${r.version} · since ${r.injectedAt}`)}`,
      ),
    ),
  ])
}

/** A refusal that says why. */
export function deniedMessage(why: string): ChatMessage {
  return message(`capbroker: denied — ${why}`, [
    section(`${ICON.denied} *denied* — ${escapeMrkdwn(why)}`),
  ])
}

/** A command that did not parse, with the help below it. */
export function usageMessage(problem: string, command: string): ChatMessage {
  const help = helpMessage(command)
  return message(`capbroker: ${problem}`, [
    section(`:warning: ${escapeMrkdwn(problem)}`),
    ...help.blocks,
  ])
}

/** The immediate answer while the work runs. */
export function acknowledgementMessage(doing: string): ChatMessage {
  return message(`capbroker: ${doing}…`, [
    context(`:hourglass_flowing_sand: ${escapeMrkdwn(doing)}…`),
  ])
}

/** The work could not be finished (a fault, not a refusal). */
export function faultMessage(what: string): ChatMessage {
  return message(`capbroker: ${what}`, [section(`:warning: ${escapeMrkdwn(what)}`)])
}

/** The commands, as `/capability help` shows them. */
export function helpMessage(command: string): ChatMessage {
  const c = command || '/capability'
  const lines = [
    `\`${c} request <name> <type> [--app a] [--env e] [key=value…]\` — resolve a capability`,
    `\`${c} release <name> [--app a] [--env e]\` — remove a binding`,
    `\`${c} status [--app a] [--env e]\` — what is bound (names, never values)`,
    `\`${c} help\` — this`,
  ]
  return message(`capbroker commands: request, release, status, help`, [
    section(escapeMrkdwn(lines.join('\n'))),
  ])
}
