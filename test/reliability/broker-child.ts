/**
 * A broker in a process of its own, for the at-least-once tests: it handles one
 * requested event against a home (SQLite) or a DynamoDB table and prints what it did.
 * With `crashAt: "complete"` it kills itself with SIGKILL at the moment the outcome
 * would be recorded — after the bindings were injected and the events published — the
 * worst place for a crash. Test-only; never part of the product.
 *
 * Usage: node test/reliability/broker-child.ts '<json ChildConfig>'
 * Output (stdout, one JSON object per line, written synchronously so that a SIGKILL
 * cannot lose them): `{"published": event}` per event, then `{"result": …}`.
 */
import { writeSync } from 'node:fs'
import type { StateStore } from '../../broker/ports.ts'
import { parseEvent } from '../../events/index.ts'
import { wireBroker } from './wiring.ts'

/** What the child is told to do. */
export interface ChildConfig {
  readonly cwd: string
  readonly catalog: string
  /** A structured-mode requested event. */
  readonly event: unknown
  readonly leaseMs?: number
  /** Kill this process with SIGKILL when the outcome is about to be recorded. */
  readonly crashAt?: 'complete'
  /** Epoch ms to wait for before handling, so that several children race for real. */
  readonly startAt?: number
  /** Default SQLite in `<cwd>/home`. */
  readonly dynamodb?: { readonly endpoint: string; readonly tableName: string }
}

const print = (value: unknown) => writeSync(1, `${JSON.stringify(value)}\n`)

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig
let state: StateStore | undefined
if (config.dynamodb) {
  // Loaded only when asked for: the SQLite runs need no AWS SDK.
  const { DynamoDbStateStore } = await import('../../adapters/dynamodb/index.ts')
  state = new DynamoDbStateStore({
    tableName: config.dynamodb.tableName,
    region: 'eu-west-1',
    endpoint: config.dynamodb.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  })
}
const wired = wireBroker({
  catalog: config.catalog,
  cwd: config.cwd,
  ...(state ? { state } : {}),
  ...(config.leaseMs === undefined ? {} : { leaseMs: config.leaseMs }),
  bus: {
    async publish(events) {
      for (const event of events) print({ published: event })
    },
  },
})
if (config.crashAt === 'complete') {
  const complete = wired.state.complete.bind(wired.state)
  wired.state.complete = async function crashBeforeRecording(...args) {
    print({ crashing: 'complete' })
    process.kill(process.pid, 'SIGKILL')
    return complete(...args)
  }
}
const event = parseEvent(config.event)
if (event.type !== 'io.capbroker.capability.requested.v1') throw new Error('a requested event')
if (config.startAt !== undefined) {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, config.startAt! - Date.now())))
}
const result = await wired.broker.handle(event)
print({
  result: {
    status: result.status,
    duplicate: result.duplicate,
    retryable: result.retryable ?? false,
    capabilities: result.capabilities,
    events: result.events.map((e) => e.id),
  },
})
await wired.close()
