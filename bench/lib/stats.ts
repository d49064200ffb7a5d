/**
 * Summaries of latency samples: percentiles by nearest rank over the sorted samples,
 * the way load tools (wrk, autocannon) report them. Samples are milliseconds.
 */

/** The figures every latency table shows. */
export interface LatencySummary {
  readonly count: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

/** The value at quantile `q` (0..1) of already sorted samples, by nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank] as number
}

/** Median of unsorted samples. */
export function median(samples: readonly number[]): number {
  return quantile(Float64Array.from(samples).sort(), 0.5)
}

/** Summarizes unsorted latency samples (milliseconds). */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples as ArrayLike<number>).sort()
  let sum = 0
  for (const s of sorted) sum += s
  return {
    count: sorted.length,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  }
}

/** Milliseconds with a precision that suits their size: 0.0123, 1.23, 123. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–'
  if (value === 0) return '0'
  if (value < 0.1) return value.toFixed(4)
  if (value < 10) return value.toFixed(2)
  if (value < 100) return value.toFixed(1)
  return value.toFixed(0)
}

/** Bytes in KB (1 KB = 1000 bytes, as bundle sizes are usually quoted). */
export function kb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} KB`
}

/** A whole number with thousands separators. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}
