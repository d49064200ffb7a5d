/**
 * Who may do what from chat, before the broker's own policy is asked: the workspace
 * must be listed, the user must be listed for the app, and the environment must be one
 * chat may touch — named, never matched by a glob, so prod is reachable only when the
 * platform team wrote `prod` down.
 */
import picomatch from 'picomatch'
import type { SlackConfig } from '../catalog/schema.ts'
import type { ChatScope } from './chat-command.ts'

/** Who typed the command. */
export interface ChatIdentity {
  readonly team: string
  readonly user: string
}

/** The verdict: where the command acts, or why it may not (`usage`: the user must say more). */
export type ChatDecision =
  | { readonly allowed: true; readonly app: string; readonly environment: string }
  | { readonly allowed: false; readonly kind: 'denied' | 'usage'; readonly message: string }

const isGlob = (s: string) => /[*?[\]{}!()]/.test(s)

/** True when the workspace may use the command at all. */
export function isAllowedTeam(config: SlackConfig, team: string): boolean {
  return config.teams.includes(team)
}

/** Decides a command's app and environment for a user, or says why not. */
export function authorizeChat(
  config: SlackConfig,
  who: ChatIdentity,
  wanted: ChatScope,
): ChatDecision {
  const denied = (message: string): ChatDecision => ({ allowed: false, kind: 'denied', message })
  if (!isAllowedTeam(config, who.team))
    return denied(
      `this Slack workspace (${who.team}) may not use capbroker: it is not in chatops.slack.teams`,
    )
  const apps = Object.hasOwn(config.users, who.user) ? config.users[who.user] : undefined
  if (!apps)
    return denied(
      `your Slack user (${who.user}) may not use capbroker: it is not in chatops.slack.users`,
    )
  const literal = apps.filter((a) => !isGlob(a))
  let app = wanted.app
  if (app === undefined) {
    if (literal.length !== 1 || apps.length !== 1)
      return {
        allowed: false,
        kind: 'usage',
        message: `say which app with --app (you may act for: ${apps.join(', ')})`,
      }
    app = literal[0] as string
  }
  if (!picomatch.isMatch(app, apps, { nonegate: true }))
    return denied(`you may not act for app "${app}" (you may act for: ${apps.join(', ')})`)
  const environment = wanted.environment ?? (config.environments[0] as string)
  if (!config.environments.includes(environment))
    return denied(
      `chat may not touch environment "${environment}" (chatops.slack.environments allows: ${config.environments.join(', ')})`,
    )
  return { allowed: true, app, environment }
}
