/** Backoff between attempts of an AWS call, shared by the JSON client and the bus. */

/** "Full jitter" backoff: a random delay in [0, min(cap, base · 2^retry)). `retry` counts from 0. */
export function fullJitterDelay(
  retry: number,
  random: () => number,
  baseMs: number,
  capMs: number,
): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** retry))
}
