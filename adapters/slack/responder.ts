/**
 * ChatResponder for Slack: POST the message as JSON to the command's `response_url`.
 * The URL was checked against the allowed prefixes before it got here; redirects are
 * refused so a response can never be steered somewhere else.
 */
import { BrokerError, UnavailableError } from '../../broker/errors.ts'
import type {
  CallOptions,
  ChatMessage,
  ChatReplyTarget,
  ChatResponder,
} from '../../broker/ports.ts'

/** Options of {@link SlackResponder}. */
export interface SlackResponderOptions {
  /** Per post; default 5 s. */
  readonly timeoutMs?: number
  /** Injected in tests; default the global fetch. */
  readonly fetch?: typeof fetch
}

/** The JSON Slack takes as a command's immediate answer and at its response_url. */
export function slackPayload(message: ChatMessage) {
  return { response_type: message.visibility, text: message.text, blocks: message.blocks }
}

/** Posts chat answers to Slack response URLs. */
export class SlackResponder implements ChatResponder {
  readonly #options: SlackResponderOptions

  constructor(options: SlackResponderOptions = {}) {
    this.#options = options
  }

  async respond(
    target: ChatReplyTarget,
    message: ChatMessage,
    options?: CallOptions,
  ): Promise<void> {
    // Only the host is named: the rest of a response_url is a bearer capability.
    const where = URL.canParse(target.url) ? new URL(target.url).host : 'an invalid URL'
    let response: Response
    try {
      response = await (this.#options.fetch ?? fetch)(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        // replace_original: false — an outcome is a new message, not an edit of the acknowledgement.
        body: JSON.stringify({ ...slackPayload(message), replace_original: false }),
        redirect: 'error',
        signal: AbortSignal.any([
          AbortSignal.timeout(this.#options.timeoutMs ?? 5_000),
          ...(options?.signal ? [options.signal] : []),
        ]),
      })
    } catch (error) {
      throw new UnavailableError(`posting to ${where} failed (${(error as Error).name})`, {
        cause: error,
      })
    }
    await response.body?.cancel()
    if (response.status === 429 || response.status >= 500)
      throw new UnavailableError(`posting to ${where}: ${response.status}`)
    // 404 expired_url, 410 used_up: the URL lives 30 minutes and takes 5 posts.
    if (!response.ok)
      throw new BrokerError('INVALID_REQUEST', `posting to ${where}: ${response.status}`)
  }
}
