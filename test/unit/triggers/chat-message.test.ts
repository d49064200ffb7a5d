import { describe, expect, it } from 'vitest'
import {
  capabilityLine,
  escapeMrkdwn,
  outcomeMessage,
  releaseMessage,
  statusMessage,
} from '../../../broker/triggers/chat-message.ts'
import type { CapabilityOutcome } from '../../../events/index.ts'

const ready: CapabilityOutcome = {
  name: 'orders-db',
  type: 'postgres',
  status: 'ready',
  provider: 'local',
  store: 'local',
  key: 'postgres/checkout',
  version: '3',
  entries: ['type', 'provider', 'host', 'password'],
  secretEntries: ['password'],
}
const failed: CapabilityOutcome = {
  name: 'stripe',
  type: 'secret',
  status: 'failed',
  reason: { code: 'NOT_FOUND', message: 'secret "apps/checkout/stripe" not found' },
}
const denied: CapabilityOutcome = {
  name: 'ledger',
  type: 'postgres',
  status: 'denied',
  reason: {
    code: 'DENIED',
    message: 'no policy allows app "checkout" to use type "postgres" in environment "prod"',
  },
}

const texts = (m: { blocks: readonly Record<string, unknown>[] }) => JSON.stringify(m.blocks)

describe('chat messages', () => {
  it('one readable line per capability: ready, failed with its reason, denied with why', () => {
    expect(capabilityLine(ready)).toBe(
      ':white_check_mark: *orders-db* (postgres) — ready · local · postgres/checkout@3 → type, provider, host, password',
    )
    expect(capabilityLine(failed)).toBe(
      ':x: *stripe* (secret) — failed: NOT_FOUND — secret "apps/checkout/stripe" not found',
    )
    expect(capabilityLine(denied)).toMatch(
      /^:no_entry: \*ledger\* \(postgres\) — denied: DENIED — no policy allows/,
    )
  })

  it('an outcome is Block Kit: a header, then a section per capability', () => {
    const message = outcomeMessage({
      app: 'checkout',
      environment: 'dev',
      status: 'failed',
      duplicate: false,
      capabilities: [ready, failed, denied],
    })
    expect(message.text).toBe('capbroker checkout/dev: failed — 1 ready, 1 failed, 1 denied')
    expect(message.visibility).toBe('ephemeral')
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section'])
    expect(texts(message)).toContain('NOT_FOUND')
  })

  it('a request-level reason and a duplicate are said', () => {
    const message = outcomeMessage({
      app: 'checkout',
      environment: 'qa',
      status: 'failed',
      duplicate: true,
      capabilities: [],
      reason: { code: 'INVALID_REQUEST', message: 'unknown environment "qa"' },
    })
    expect(texts(message)).toContain('unknown environment')
    expect(texts(message)).toContain('already handled')
  })

  it('markup in names and reasons is escaped, so a reason cannot mention @channel or link', () => {
    expect(escapeMrkdwn('<!channel> & <https://evil.example|click>')).toBe(
      '&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;',
    )
    const message = outcomeMessage({
      app: 'a',
      environment: 'dev',
      status: 'failed',
      duplicate: false,
      capabilities: [{ ...failed, reason: { code: 'X', message: '<!channel>' } }],
    })
    expect(texts(message)).not.toContain('<!channel>')
  })

  it('stays within Slack limits for a large request', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ ...ready, name: `db-${i}` }))
    const message = outcomeMessage({
      app: 'a',
      environment: 'dev',
      status: 'resolved',
      duplicate: false,
      capabilities: many,
    })
    expect(message.blocks.length).toBeLessThanOrEqual(50)
    expect(texts(message)).toContain('…and 55 more')
  })

  it('release and status say what happened, by name', () => {
    expect(releaseMessage('checkout', 'dev', 'orders-db', ['orders-db']).text).toMatch(
      /released orders-db from checkout\/dev/,
    )
    expect(releaseMessage('checkout', 'dev', 'orders-db', []).text).toMatch(
      /orders-db is not bound in checkout\/dev: nothing to release/,
    )
    expect(statusMessage('checkout', 'dev', []).text).toMatch(/nothing is bound for checkout\/dev/)
  })
})
