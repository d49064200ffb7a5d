/**
 * The embedded runtime's scheduled refresh: while `capbroker serve` runs, a sweep every
 * period re-reads the bindings whose class interval (`refreshInterval`, default 1 h)
 * has a boundary in the time since the previous sweep — the same rule as the rotate
 * function on AWS, so a changed secret reaches the bindings without any request. The
 * first sweep, at start-up, looks at every binding: values may have changed while the
 * server was down.
 */

import type { Catalog } from '../broker/catalog/load.ts'
import { toBrokerError } from '../broker/errors.ts'
import type { RefreshRequest, RefreshResult } from '../broker/lifecycle/refresh.ts'
import { sweepPeriodMs } from '../broker/lifecycle/schedule.ts'
import type { Logger } from '../broker/ports.ts'

/** What the loop needs: the broker's refresh and its catalog. */
export interface RefreshTarget {
  readonly catalog: Catalog
  refresh(request: RefreshRequest): Promise<RefreshResult>
}

/** Options of {@link startRefreshLoop}. */
export interface RefreshLoopOptions {
  readonly logger: Logger
  readonly clock?: () => Date
  /** Default: the catalog's shortest interval, at most a minute (see sweepPeriodMs). */
  readonly periodMs?: number
}

/** A running loop. */
export interface RefreshLoop {
  /** The sweep period, in milliseconds. */
  readonly periodMs: number
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>
}

/** The `source` of the embedded scheduler in the audit log. */
export const SCHEDULE_SOURCE = '/capbroker/schedule'

/**
 * Starts sweeping; `undefined` when no class refreshes on a schedule. A sweep that
 * fails (the state locked, the disk full) is logged and the next one tries again.
 */
export function startRefreshLoop(
  broker: RefreshTarget,
  options: RefreshLoopOptions,
): RefreshLoop | undefined {
  const periodMs = options.periodMs ?? sweepPeriodMs(broker.catalog.classes)
  if (periodMs === undefined) return undefined
  const clock = options.clock ?? (() => new Date())
  let previous = clock()
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let running: Promise<void> = Promise.resolve()

  const sweep = async (request: RefreshRequest) => {
    try {
      await broker.refresh(request)
    } catch (error) {
      options.logger.error('scheduled refresh failed', {
        error: toBrokerError(error, 'scheduled refresh').message,
      })
    }
  }
  const schedule = () => {
    if (stopped) return
    timer = setTimeout(tick, periodMs)
    // The HTTP server keeps the process alive; a pending sweep alone must not.
    timer.unref()
  }
  function tick() {
    const now = clock()
    const from = previous
    previous = now
    running = sweep({
      select: { kind: 'due', from, to: now },
      trigger: { source: SCHEDULE_SOURCE, id: `sweep-${now.toISOString()}` },
      reason: 'schedule',
    }).finally(schedule)
  }

  running = sweep({
    select: { kind: 'all' },
    trigger: { source: SCHEDULE_SOURCE, id: `start-${previous.toISOString()}` },
    reason: 'start-up',
  }).finally(schedule)
  return {
    periodMs,
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}
