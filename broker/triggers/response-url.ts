/**
 * Which `response_url` the broker will POST a chat answer to. The URL arrives in the
 * (verified) slash-command body; it must still start with an allowed prefix, so a leaked
 * signing secret cannot turn the broker into a client for any URL an attacker names.
 */

/** Slack's answer URLs; the default when `chatops.slack.responseUrls` is not set. */
export const DEFAULT_RESPONSE_URLS: readonly string[] = ['https://hooks.slack.com/']

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost'])

function parse(url: string): URL | undefined {
  return URL.canParse(url) ? new URL(url) : undefined
}

/**
 * True for a prefix a catalog may allow: https, or http on a loopback address (the
 * test receiver standing in for Slack). Never credentials, a query or a fragment.
 */
export function isAllowedPrefix(prefix: string): boolean {
  const url = parse(prefix)
  if (!url || url.username || url.password || url.search || url.hash) return false
  if (url.protocol === 'https:') return true
  return url.protocol === 'http:' && LOOPBACK.has(url.hostname)
}

/**
 * True when `candidate` starts with one of the prefixes: same scheme, host and port,
 * and a path under the prefix's path. Compared after URL parsing, so
 * `https://hooks.slack.com@evil.example/` or `https://hooks.slack.com.evil.example/`
 * do not pass.
 */
export function isAllowedResponseUrl(
  candidate: string,
  prefixes: readonly string[] = DEFAULT_RESPONSE_URLS,
): boolean {
  const url = parse(candidate)
  if (!url || url.username || url.password || url.hash) return false
  return prefixes.some((prefix) => {
    const allowed = parse(prefix)
    if (!allowed || !isAllowedPrefix(prefix)) return false
    return (
      url.protocol === allowed.protocol &&
      url.host === allowed.host &&
      url.pathname.startsWith(allowed.pathname)
    )
  })
}
