import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SlackResponder } from '../../../../adapters/slack/responder.ts'
import { BrokerError, UnavailableError } from '../../../../broker/errors.ts'
import { outcomeMessage } from '../../../../broker/triggers/chat-message.ts'
import { ResponseUrlReceiver } from './receiver.ts'

let receiver: ResponseUrlReceiver
let other: ResponseUrlReceiver
const responder = new SlackResponder({ timeoutMs: 2_000 })
const message = outcomeMessage({
  app: 'checkout',
  environment: 'dev',
  status: 'resolved',
  duplicate: false,
  capabilities: [
    {
      name: 'orders-db',
      type: 'postgres',
      status: 'ready',
      provider: 'local',
      store: 'local',
      key: 'postgres/checkout',
      version: '1',
      entries: ['host'],
      secretEntries: [],
    },
  ],
})

beforeAll(async () => {
  receiver = await new ResponseUrlReceiver().start()
  other = await new ResponseUrlReceiver().start()
})
afterAll(async () => {
  await receiver.stop()
  await other.stop()
})
beforeEach(() => {
  receiver.posted.length = 0
  receiver.status = 200
  receiver.redirectTo = undefined
})

describe('SlackResponder', () => {
  it('posts the message as Slack JSON to the response_url', async () => {
    await responder.respond({ url: `${receiver.url}/commands/T1/1/abc` }, message)
    const [post] = receiver.posted
    expect(post?.path).toBe('/commands/T1/1/abc')
    expect(post?.headers['content-type']).toMatch(/^application\/json/)
    expect(post?.json).toMatchObject({
      response_type: 'ephemeral',
      replace_original: false,
      text: message.text,
    })
    expect(post?.json.blocks).toEqual(message.blocks)
  })

  it('an expired or used-up URL is a request error; Slack down is Unavailable', async () => {
    receiver.status = 404
    await expect(responder.respond({ url: `${receiver.url}/x` }, message)).rejects.toThrow(
      BrokerError,
    )
    receiver.status = 503
    await expect(responder.respond({ url: `${receiver.url}/x` }, message)).rejects.toThrow(
      UnavailableError,
    )
  })

  it('never follows a redirect to somewhere else', async () => {
    receiver.redirectTo = `${other.url}/stolen`
    await expect(responder.respond({ url: `${receiver.url}/x` }, message)).rejects.toThrow(
      UnavailableError,
    )
    expect(other.posted).toEqual([])
  })

  it('an error names the host only: the rest of a response_url is a bearer capability', async () => {
    const error = (await new SlackResponder({ timeoutMs: 1_000 })
      .respond({ url: 'http://127.0.0.1:9/commands/T1/1/secret-path-part' }, message)
      .catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(UnavailableError)
    expect(error.message).toContain('127.0.0.1:9')
    expect(error.message).not.toContain('secret-path-part')
  })
})
