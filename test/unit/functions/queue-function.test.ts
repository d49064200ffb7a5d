/**
 * The SQS wrapper of `notify`: partial batch responses pass through untouched, one log
 * line per invocation says how many records go back to the queue, and a thrown error
 * is logged and rethrown (the whole batch is retried).
 */
import type { SQSEvent } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { UnavailableError } from '../../../broker/errors.ts'
import { queueFunction } from '../../../functions/middleware.ts'
import { createJsonLogger } from '../../../server/logger.ts'
import { lambdaContext, logCapture } from './fixtures.ts'

const batch = (...ids: string[]): SQSEvent => ({
  Records: ids.map((messageId) => ({ messageId, body: '{}' }) as SQSEvent['Records'][number]),
})

function stack(handle: Parameters<typeof queueFunction>[1]) {
  const log = logCapture()
  const handler = queueFunction(
    { name: 'notify', logger: createJsonLogger({ write: log.write }) },
    handle,
  )
  return { handler, log }
}

describe('queueFunction', () => {
  it('returns the records to retry and logs one line: ok when there are none', async () => {
    const { handler, log } = stack(async () => ({ batchItemFailures: [] }))
    expect(await handler(batch('m-1'), lambdaContext('notify'))).toEqual({ batchItemFailures: [] })
    expect(log.records()).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'invocation',
        function: 'notify',
        status: 'ok',
      }),
    ])
  })

  it('says how many records go back to the queue', async () => {
    const { handler, log } = stack(async (event) => ({
      batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
    }))
    const result = await handler(batch('m-1', 'm-2'), lambdaContext('notify'))
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }])
    expect(log.records()).toEqual([expect.objectContaining({ level: 'info', status: 'retry 2' })])
  })

  it('logs and rethrows what the handler throws', async () => {
    const failure = new UnavailableError('the state table is throttled')
    const { handler, log } = stack(async () => {
      throw failure
    })
    await expect(handler(batch('m-1'), lambdaContext('notify'))).rejects.toBe(failure)
    expect(log.records()).toEqual([
      expect.objectContaining({ level: 'error', status: 'error', code: 'UNAVAILABLE' }),
    ])
  })
})
