/**
 * The bus's retry loop with a scripted client (no network): what is resent, how long it
 * waits, what stops it. The wire behaviour is tested against moto in test/emulators/.
 */
import type { PutEventsCommandInput } from '@aws-sdk/client-eventbridge'
import { describe, expect, it } from 'vitest'
import type { AwsJsonCaller } from '../../../../adapters/aws-common/json-client.ts'
import { EventBridgeBus, EventPublishError } from '../../../../adapters/eventbridge/index.ts'
import { AccessDeniedError } from '../../../../broker/errors.ts'
import { buildEvent, EventTypes } from '../../../../events/index.ts'

type Answer = (ids: string[]) => unknown
const events = Array.from({ length: 3 }, (_, i) =>
  buildEvent(
    EventTypes.released,
    { id: `e${i}`, source: '/apps/checkout', time: '2025-01-01T00:00:00Z' },
    { app: 'checkout', environment: 'dev', name: `n${i}` },
  ),
)

function scriptedBus(answers: Answer[], publishAttempts = 4) {
  const calls: string[][] = []
  const sleeps: number[] = []
  const client = {
    async call(_operation: string, input: PutEventsCommandInput) {
      const ids = (input.Entries ?? []).map((e) => JSON.parse(e.Detail ?? '{}').id as string)
      calls.push(ids)
      const answer =
        answers.shift() ??
        ((all: string[]) => ({ FailedEntryCount: 0, Entries: all.map((id) => ({ EventId: id })) }))
      const result = answer(ids)
      if (result instanceof Error) throw result
      return result
    },
    destroy() {},
  } as unknown as AwsJsonCaller
  const bus = new EventBridgeBus(
    { region: 'eu-west-1', busName: 'bus', publishAttempts, backoffBaseMs: 100, backoffCapMs: 250 },
    { client, sleep: async (ms) => void sleeps.push(ms), random: () => 1 - Number.EPSILON },
  )
  return { bus, calls, sleeps }
}

const failing =
  (failIds: string[], code = 'InternalFailure'): Answer =>
  (ids) => ({
    FailedEntryCount: ids.filter((id) => failIds.includes(id)).length,
    Entries: ids.map((id) =>
      failIds.includes(id) ? { ErrorCode: code, ErrorMessage: 'x' } : { EventId: id },
    ),
  })
const sdkError = (name: string, status: number, headers: Record<string, string> = {}) =>
  Object.assign(new Error(name), {
    name,
    $metadata: { httpStatusCode: status },
    $response: { statusCode: status, headers },
  })

describe('EventBridgeBus retries', () => {
  it('resends only failed entries, with capped full-jitter waits', async () => {
    const { bus, calls, sleeps } = scriptedBus([
      failing(['e0', 'e2']),
      failing(['e2']),
      failing(['e2']),
    ])
    await bus.publish(events)
    expect(calls).toEqual([['e0', 'e1', 'e2'], ['e0', 'e2'], ['e2'], ['e2']])
    expect(sleeps).toEqual([99, 199, 249])
  })

  it('honours a Retry-After longer than the backoff', async () => {
    const { bus, sleeps } = scriptedBus([
      () => sdkError('ThrottlingException', 400, { 'retry-after': '2' }),
    ])
    await bus.publish(events)
    expect(sleeps).toEqual([2000])
  })

  it('does not retry a call refused for good (access denied)', async () => {
    const { bus, calls } = scriptedBus([() => sdkError('AccessDeniedException', 400)])
    await expect(bus.publish(events)).rejects.toBeInstanceOf(AccessDeniedError)
    expect(calls).toHaveLength(1)
  })

  it('reports non-transient entry codes as not retryable', async () => {
    const { bus } = scriptedBus(
      [failing(['e1'], 'MalformedDetail'), failing(['e1'], 'MalformedDetail')],
      2,
    )
    const error = await bus.publish(events).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(EventPublishError)
    expect(error).toMatchObject({
      retryable: false,
      failed: [{ id: 'e1', code: 'MalformedDetail' }],
    })
  })

  it('counts a missing result position as failed rather than delivered', async () => {
    const { bus, calls } = scriptedBus([
      (ids) => ({ FailedEntryCount: 0, Entries: ids.slice(0, 2).map((id) => ({ EventId: id })) }),
    ])
    await bus.publish(events)
    expect(calls[1]).toEqual(['e2'])
  })

  it('stops at an aborted signal without sending', async () => {
    const { bus, calls } = scriptedBus([])
    const controller = new AbortController()
    controller.abort()
    await expect(bus.publish(events, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    })
    expect(calls).toHaveLength(0)
  })
})
