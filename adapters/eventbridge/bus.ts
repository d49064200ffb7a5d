/**
 * EventBridge as the broker's {@link EventBus}. PutEvents can succeed as a call and
 * still drop entries (`FailedEntryCount`); those entries, and only those, are sent
 * again with full-jitter backoff, a bounded number of times.
 */
import type { PutEventsCommandOutput } from '@aws-sdk/client-eventbridge'
import { sleep } from '../../broker/builtins.ts'
import { UnavailableError } from '../../broker/errors.ts'
import type { CallOptions, EventBus } from '../../broker/ports.ts'
import type { AnyCloudEvent } from '../../events/index.ts'
import { classifyAwsFailure } from '../aws-common/failure.ts'
import { type AwsJsonCaller, AwsJsonClient, EVENTBRIDGE } from '../aws-common/json-client.ts'
import {
  type AwsClientOptions,
  requireInteger,
  requireName,
  validateAwsClientOptions,
} from '../aws-common/options.ts'
import { fullJitterDelay, planCalls, type SizedEntry, sizedEntries } from './entries.ts'
import { EventPublishError, type FailedEntry, mapEventBridgeError } from './errors.ts'

/** Options of {@link EventBridgeBus}. */
export interface EventBridgeBusOptions extends AwsClientOptions {
  /** The custom bus name (or ARN) events are put on. */
  readonly busName: string
  /** Attempts per entry, first send included (default 4, at most 10). */
  readonly publishAttempts?: number
  /** Backoff base and cap in ms (defaults 100 and 2000). */
  readonly backoffBaseMs?: number
  readonly backoffCapMs?: number
}

/** Test seams: a prebuilt client, and the clock and randomness of the backoff. */
export interface EventBridgeBusDeps {
  readonly client?: AwsJsonCaller
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  readonly random?: () => number
}

const ADAPTER = 'eventbridge'
const BUS_NAME = /^(arn:aws[\w-]*:events:[\w-]+:\d{12}:event-bus\/)?[A-Za-z0-9._/-]{1,256}$/
const OWN_FIELDS = ['busName', 'publishAttempts', 'backoffBaseMs', 'backoffCapMs']

/** Publishes CloudEvents to an EventBridge bus in calls of up to 10 entries. */
export class EventBridgeBus implements EventBus {
  readonly #client: AwsJsonCaller
  readonly #busName: string
  readonly #attempts: number
  readonly #baseMs: number
  readonly #capMs: number
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  readonly #random: () => number

  /** Throws InvalidConfigError on bad options. */
  constructor(options: EventBridgeBusOptions, deps: EventBridgeBusDeps = {}) {
    const client = validateAwsClientOptions(options, ADAPTER, OWN_FIELDS)
    this.#busName = requireName(
      options.busName,
      'busName',
      ADAPTER,
      BUS_NAME,
      'an event bus name or ARN',
    )
    this.#attempts = requireInteger(options.publishAttempts ?? 4, 'publishAttempts', ADAPTER, 1, 10)
    this.#baseMs = requireInteger(options.backoffBaseMs ?? 100, 'backoffBaseMs', ADAPTER, 1, 60_000)
    this.#capMs = requireInteger(options.backoffCapMs ?? 2000, 'backoffCapMs', ADAPTER, 1, 300_000)
    this.#client = deps.client ?? new AwsJsonClient(EVENTBRIDGE, client)
    this.#sleep = deps.sleep ?? sleep
    this.#random = deps.random ?? Math.random
  }

  /**
   * Publishes every event or throws. Sizes are checked before the first call (an
   * EventTooLargeError names the event). Calls go one after another; entries that
   * still fail after the last attempt are reported together in one EventPublishError.
   */
  async publish(events: readonly AnyCloudEvent[], options: CallOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const failed: FailedEntry[] = []
    let lastCause: unknown
    for (const call of planCalls(sizedEntries(events, this.#busName))) {
      const result = await this.#publishCall(call, options.signal)
      failed.push(...result.failed)
      lastCause = result.cause ?? lastCause
    }
    if (failed.length > 0) throw new EventPublishError(failed, this.#attempts, { cause: lastCause })
  }

  async #publishCall(
    call: readonly SizedEntry[],
    signal?: AbortSignal,
  ): Promise<{ failed: FailedEntry[]; cause?: unknown }> {
    let pending = call
    let failed: FailedEntry[] = []
    let cause: unknown
    for (let attempt = 1; ; attempt++) {
      const result = await this.#send(pending, signal)
      failed = result.failed
      cause = result.cause
      if (failed.length === 0 || attempt >= this.#attempts) break
      const retry = new Set(failed.map((f) => f.id))
      pending = pending.filter((item) => retry.has(item.id))
      const hint = result.cause instanceof UnavailableError ? (result.cause.retryAfterMs ?? 0) : 0
      await this.#sleep(
        Math.max(hint, fullJitterDelay(attempt - 1, this.#random, this.#baseMs, this.#capMs)),
        signal,
      )
    }
    return { failed, cause }
  }

  /** One PutEvents call; a transient whole-call failure counts as every entry failing. */
  async #send(
    items: readonly SizedEntry[],
    signal?: AbortSignal,
  ): Promise<{ failed: FailedEntry[]; cause?: unknown }> {
    try {
      const out = await this.#client.call<PutEventsCommandOutput>(
        'PutEvents',
        { Entries: items.map((i) => ({ ...i.entry })) },
        { abortSignal: signal },
      )
      const results = out.Entries ?? []
      const failed = items.flatMap((item, index): FailedEntry[] => {
        const result = results[index]
        if (result?.ErrorCode !== undefined) return [{ id: item.id, code: result.ErrorCode }]
        // No result at all for this position: count it failed rather than assume delivery.
        return result?.EventId === undefined ? [{ id: item.id, code: 'NoResult' }] : []
      })
      return { failed }
    } catch (error) {
      const mapped = mapEventBridgeError(error, `PutEvents to bus "${this.#busName}"`)
      if (!(mapped instanceof UnavailableError)) throw mapped
      const code = `call:${classifyAwsFailure(error).code}`
      return { failed: items.map((item) => ({ id: item.id, code })), cause: mapped }
    }
  }

  /** Releases the client's sockets. */
  close(): void {
    this.#client.destroy()
  }
}
