/**
 * When a scheduled refresh re-reads a binding: each catalog class has a
 * `refreshInterval` (default 1 h), and a sweep covering the time window `(from, to]`
 * refreshes the bindings of every class whose interval has a boundary (a multiple of
 * the interval since the epoch) inside the window. Consecutive sweeps cover
 * consecutive windows, so each binding is re-read once per interval without the state
 * recording when it was last checked — an unchanged binding costs a read, never a write.
 */
import { parseDuration } from '../catalog/catalog.ts'
import type { ClassConfig } from '../catalog/schema.ts'

/** A class without `refreshInterval` is re-read hourly. */
export const DEFAULT_REFRESH_INTERVAL_MS = 3_600_000

/** The embedded scheduler ticks at least this often (and as often as the shortest interval). */
export const MAX_SWEEP_PERIOD_MS = 60_000

/** A class's refresh interval in milliseconds; 0 means "never on a schedule". */
export function refreshIntervalOf(cls: Pick<ClassConfig, 'refreshInterval'>): number {
  return cls.refreshInterval === undefined
    ? DEFAULT_REFRESH_INTERVAL_MS
    : parseDuration(cls.refreshInterval)
}

/** True when a boundary of `intervalMs` falls in `(fromMs, toMs]`. */
export function isDue(intervalMs: number, fromMs: number, toMs: number): boolean {
  if (!(intervalMs > 0) || !(toMs > fromMs)) return false
  return Math.floor(toMs / intervalMs) > Math.floor(fromMs / intervalMs)
}

/**
 * How often the embedded runtime sweeps: the shortest interval of the catalog's
 * classes, at most {@link MAX_SWEEP_PERIOD_MS}, at least 100 ms. `undefined` when no
 * class refreshes on a schedule.
 */
export function sweepPeriodMs(
  classes: readonly Pick<ClassConfig, 'refreshInterval'>[],
): number | undefined {
  const intervals = classes.map(refreshIntervalOf).filter((ms) => ms > 0)
  if (intervals.length === 0) return undefined
  return Math.max(100, Math.min(MAX_SWEEP_PERIOD_MS, ...intervals))
}
