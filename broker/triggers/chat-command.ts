/**
 * The slash command's language:
 * `request <name> <type> [--app a] [--env e] [key=value…]`, `release <name> [--app a]
 * [--env e]`, `status [--app a] [--env e]` and `help`. Parsing is strict: anything it
 * does not understand is a usage error that says what was wrong.
 */
import { NAME_PATTERN, PARAM_KEY_PATTERN, TYPE_PATTERN } from '../../events/index.ts'

/** Where the command acts; absent parts come from the user's defaults. */
export interface ChatScope {
  readonly app?: string
  readonly environment?: string
}

/** A parsed command. */
export type ChatCommand =
  | { readonly kind: 'help' }
  | (ChatScope & {
      readonly kind: 'request'
      readonly name: string
      readonly type: string
      readonly params: Readonly<Record<string, string>>
    })
  | (ChatScope & { readonly kind: 'release'; readonly name: string })
  | (ChatScope & { readonly kind: 'status' })

/** A command that does not parse; the message is shown to the user as is. */
export class ChatUsageError extends Error {
  override name = 'ChatUsageError'
}

const NAME = new RegExp(NAME_PATTERN)
const TYPE = new RegExp(TYPE_PATTERN)
const PARAM_KEY = new RegExp(PARAM_KEY_PATTERN)
const MAX_TEXT = 2000
const MAX_PARAM_VALUE = 1024

/** Slack escapes `&`, `<` and `>` in command text; read them back. */
function unescapeSlack(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')
}

function shown(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value
}

/** Parses the text after the slash command. Throws {@link ChatUsageError}. */
export function parseChatCommand(text: string): ChatCommand {
  if (text.length > MAX_TEXT)
    throw new ChatUsageError(`the command is longer than ${MAX_TEXT} characters`)
  const words = unescapeSlack(text).trim().split(/\s+/).filter(Boolean)
  const verb = words.shift()?.toLowerCase()
  if (verb === undefined || verb === 'help') return { kind: 'help' }
  if (verb !== 'request' && verb !== 'release' && verb !== 'status')
    throw new ChatUsageError(
      `unknown command "${shown(verb)}": use request, release, status or help`,
    )

  const positional: string[] = []
  const params: Record<string, string> = Object.create(null)
  const scope: { app?: string; environment?: string } = {}
  while (words.length > 0) {
    const word = words.shift() as string
    const option = /^--(app|env|environment)(?:=(.*))?$/.exec(word)
    if (option) {
      const value = option[2] ?? words.shift()
      if (value === undefined || value === '' || value.startsWith('--'))
        throw new ChatUsageError(`--${option[1]} needs a value`)
      if (!NAME.test(value))
        throw new ChatUsageError(`--${option[1]} "${shown(value)}" must match ${NAME_PATTERN}`)
      if (option[1] === 'app') scope.app = value
      else scope.environment = value
    } else if (word.startsWith('--')) {
      throw new ChatUsageError(`unknown option "${shown(word)}": use --app and --env`)
    } else if (word.includes('=')) {
      if (verb !== 'request') throw new ChatUsageError(`${verb} takes no key=value parameters`)
      const at = word.indexOf('=')
      const key = word.slice(0, at)
      const value = word.slice(at + 1)
      if (!PARAM_KEY.test(key))
        throw new ChatUsageError(`parameter name "${shown(key)}" must match ${PARAM_KEY_PATTERN}`)
      if (value.length > MAX_PARAM_VALUE)
        throw new ChatUsageError(`parameter ${key} is longer than ${MAX_PARAM_VALUE} characters`)
      params[key] = value
    } else {
      positional.push(word)
    }
  }

  const expected = { request: ['name', 'type'], release: ['name'], status: [] }[verb]
  if (positional.length !== expected.length) {
    const usage = {
      request: 'request <name> <type> [--app a] [--env e] [key=value…]',
      release: 'release <name> [--app a] [--env e]',
      status: 'status [--app a] [--env e]',
    }[verb]
    throw new ChatUsageError(`usage: ${usage}`)
  }
  if (verb === 'status') return { kind: 'status', ...scope }
  const name = positional[0] as string
  if (!NAME.test(name))
    throw new ChatUsageError(`capability name "${shown(name)}" must match ${NAME_PATTERN}`)
  if (verb === 'release') return { kind: 'release', name, ...scope }
  const type = positional[1] as string
  if (!TYPE.test(type))
    throw new ChatUsageError(`capability type "${shown(type)}" must match ${TYPE_PATTERN}`)
  return { kind: 'request', name, type, params, ...scope }
}
