/**
 * The Lambda handlers `github`, `slack` and `notify` with HTTP API 2.0 and SQS events in
 * the shapes AWS sends, over the embedded adapters: they must answer exactly as the
 * embedded server does, the request going onto the bus instead of being resolved.
 */
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sign } from '@octokit/webhooks-methods'
import type { SQSEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCatalog } from '../../../broker/catalog/load.ts'
import { isWritable } from '../../../broker/ports.ts'
import { SecretValue } from '../../../broker/secret-value.ts'
import type { ChatJob } from '../../../broker/triggers/chat-ops.ts'
import { EventTypes } from '../../../events/index.ts'
import { createGitHubHandler } from '../../../functions/github.ts'
import { createNotifyHandler } from '../../../functions/notify.ts'
import { createSlackHandler } from '../../../functions/slack.ts'
import { createJsonLogger } from '../../../server/logger.ts'
import { createEmbeddedRuntime, type EmbeddedRuntime } from '../../../server/runtime.ts'
import { GitRepo } from '../adapters/local-git/git-repo.ts'
import { ResponseUrlReceiver } from '../adapters/slack/receiver.ts'
import { httpApiEvent, lambdaContext } from '../functions/fixtures.ts'

const WEBHOOK = 'canary-fn-webhook-51'
const SIGNING = 'canary-fn-signing-52'
let dir: string
let runtime: EmbeddedRuntime
let receiver: ResponseUrlReceiver
let repo: GitRepo
const logger = createJsonLogger({ level: 'error', write: () => {} })

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'capbroker-fn-'))
  receiver = await new ResponseUrlReceiver().start()
  repo = new GitRepo(join(dir, 'repo'))
  const catalog = parseCatalog(
    `
version: 1
stores: { local: { adapter: local } }
environments:
  dev: { inject: { to: service-binding, root: bindings } }
  prod: { inject: { to: service-binding, root: bindings-prod }, branches: [main] }
classes: [{ type: postgres, store: local, key: "postgres/{app}" }]
policies: [{ apps: [checkout], environments: ["*"], types: [postgres], keys: ["postgres/checkout"] }]
git:
  repos:
    acme/checkout: { app: checkout, source: local-git, clone: repo, webhookSecret: { store: local, key: wh } }
chatops:
  slack:
    teams: [TTEAM0001]
    signingSecret: { store: local, key: signing }
    users: { UALLOWED1: [checkout] }
    environments: [dev]
    responseUrls: ["${receiver.url}/commands/"]
`,
    'capbroker.yaml',
  )
  runtime = createEmbeddedRuntime({ catalog, home: join(dir, 'home'), cwd: dir, logger })
  const store = await runtime.stores.get('local')
  if (!isWritable(store)) throw new Error('writable')
  await store.write('wh', new SecretValue(WEBHOOK))
  await store.write('signing', new SecretValue(SIGNING))
  await store.write('postgres/checkout', new SecretValue('{"host":"db"}'))
})
afterAll(async () => {
  await runtime.close()
  await receiver.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('github (Lambda)', () => {
  it('puts the push’s requested event on the bus and answers 202 accepted; base64 bodies too', async () => {
    const handler = createGitHubHandler({
      name: 'github',
      logger,
      webhook: () => ({
        ...runtime.triggers.github,
        dispatch: async (event) => {
          await runtime.bus.publish([event])
          return { status: 'accepted', duplicate: false, events: [] }
        },
      }),
    })
    const before = repo.write('README.md', 'x\n').commit('one')
    const after = repo
      .write('score.yaml', 'capabilities:\n  - { name: db, type: postgres }\n')
      .commit('two')
    const body = JSON.stringify(repo.pushPayload({ before, after, repository: 'acme/checkout' }))
    const headers = {
      'Content-Type': 'application/json',
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': 'f00d-1',
      'X-Hub-Signature-256': await sign(WEBHOOK, body),
    }
    const response = await handler(
      httpApiEvent({ path: '/webhooks/github', headers, body, base64: true }),
      lambdaContext('github'),
    )
    expect(response.statusCode).toBe(202)
    expect(JSON.parse(response.body ?? '{}')).toMatchObject({
      environment: 'prod',
      requested: { status: 'accepted' },
    })
    const requested = runtime.bus.events.filter((e) => e.type === EventTypes.requested)
    expect(requested.map((e) => [e.source, e.id])).toEqual([
      ['https://github.com/acme/checkout', 'gh-f00d-1'],
    ])

    const unsigned = await handler(
      httpApiEvent({
        path: '/webhooks/github',
        headers: { ...headers, 'X-Hub-Signature-256': '' },
        body,
      }),
      lambdaContext('github'),
    )
    expect(unsigned.statusCode).toBe(401)
    expect(unsigned.headers?.['content-type']).toBe('application/problem+json')
  })
})

describe('slack and notify (Lambda)', () => {
  it('slack acknowledges and queues the job; notify does it and posts the outcome', async () => {
    const queued: string[] = []
    const slack = createSlackHandler({
      name: 'slack',
      logger,
      commands: () => ({
        ...runtime.triggers.slack,
        schedule: async (job: ChatJob) => void queued.push(JSON.stringify(job)),
      }),
    })
    const body = new URLSearchParams({
      team_id: 'TTEAM0001',
      user_id: 'UALLOWED1',
      command: '/capability',
      text: 'request db postgres',
      response_url: `${receiver.url}/commands/T/1/x`,
    }).toString()
    const ts = String(Math.floor(Date.now() / 1000))
    const headers = {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': ts,
      'X-Slack-Signature': `v0=${createHmac('sha256', SIGNING).update(`v0:${ts}:${body}`).digest('hex')}`,
    }
    const ack = await slack(
      httpApiEvent({ path: '/chatops/slack', headers, body }),
      lambdaContext('slack'),
    )
    expect(ack.statusCode).toBe(200)
    expect(JSON.parse(ack.body ?? '{}')).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/requesting db \(postgres\) for checkout\/dev/),
    })
    expect(queued).toHaveLength(1)
    expect(queued[0]).not.toContain(SIGNING)

    const notify = createNotifyHandler({
      name: 'notify',
      logger,
      notify: () => runtime.triggers.notify,
    })
    const sqs = (bodies: string[]): SQSEvent => ({
      Records: bodies.map((b, i) => ({
        messageId: `m-${i}`,
        receiptHandle: `r-${i}`,
        body: b,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: '0',
          SenderId: 'x',
          ApproximateFirstReceiveTimestamp: '0',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:capbroker-dev-chat',
        awsRegion: 'eu-west-1',
      })),
    })
    const result = await notify(
      sqs([queued[0] as string, '{"not":"a job"}']),
      lambdaContext('notify'),
    )
    expect(result).toEqual({ batchItemFailures: [] })
    expect(receiver.posted).toHaveLength(1)
    expect(receiver.posted[0]?.json.text).toBe(
      'capbroker checkout/dev: resolved — 1 ready, 0 failed, 0 denied',
    )

    // A job naming a URL the catalog does not allow is dropped, not posted.
    const forged = JSON.stringify({
      ...JSON.parse(queued[0] as string),
      replyTo: { url: 'https://evil.example/x' },
    })
    expect(await notify(sqs([forged]), lambdaContext('notify'))).toEqual({ batchItemFailures: [] })
    expect(receiver.posted).toHaveLength(1)

    // Slack down: the job goes back to the queue to be tried again.
    receiver.status = 503
    const retried = await notify(sqs([queued[0] as string]), lambdaContext('notify'))
    receiver.status = 200
    expect(retried).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] })
  })
})
