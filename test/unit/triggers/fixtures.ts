import { createRequire } from 'node:module'
import { parseCatalog } from '../../../broker/catalog/load.ts'

/** A catalog with both trigger sections, as a platform team would write it. */
export const TRIGGER_CATALOG = `
version: 1
stores:
  local: { adapter: local }
environments:
  dev:
    inject: { to: service-binding, root: bindings }
    branches: ["feature/*", develop]
  prod:
    inject: { to: service-binding, root: bindings-prod }
    branches: [main, master]
classes:
  - type: postgres
    store: local
    key: "postgres/{app}"
policies:
  - apps: [checkout]
    environments: ["*"]
    types: [postgres]
    keys: ["postgres/checkout"]
git:
  repos:
    Codertocat/Hello-World:
      app: checkout
      webhookSecret: { store: local, key: github/webhook }
      token: { store: local, key: github/token }
    acme/legacy:
      app: legacy
      manifest: deploy/capabilities.yaml
      source: local-git
      clone: ../legacy.git
      webhookSecret: { store: local, key: git/legacy }
chatops:
  slack:
    teams: [T1DC2JH3J]
    signingSecret: { store: local, key: slack/signing }
    users:
      U2CERLKJA: [checkout]
      UPLATFORM1: ["*"]
    environments: [dev]
`

/** The trigger catalog, parsed. */
export const triggerCatalog = () => parseCatalog(TRIGGER_CATALOG, 'capbroker.yaml')

type Commit = { added?: string[]; modified?: string[]; removed?: string[] }
/** The part of a push payload the tests read and write. */
export interface PushExample {
  ref: string
  before: string
  after: string
  created: boolean
  deleted: boolean
  forced: boolean
  repository: { full_name: string; html_url: string }
  commits: Commit[]
  head_commit: Commit | null
}

/** GitHub's own example payloads (@octokit/webhooks-examples), by event name. */
export function examples<T = PushExample>(event: string): T[] {
  const require = createRequire(import.meta.url)
  const all = require('@octokit/webhooks-examples') as { name: string; examples: T[] }[]
  const found = all.find((d) => d.name === event)
  if (!found) throw new Error(`no examples for ${event}`)
  return structuredClone(found.examples)
}

/**
 * Slack's worked example ("Verifying requests from Slack"), as published: signing
 * secret, timestamp, body and the signature Slack computed.
 */
export const SLACK_EXAMPLE = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
}

/** GitHub's test values ("Validating webhook deliveries"). */
export const GITHUB_EXAMPLE = {
  secret: "It's a Secret to Everybody",
  payload: 'Hello, World!',
  signature: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
}
