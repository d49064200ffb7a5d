/**
 * The stamp packaging puts on a packaged catalog (infra/catalog-access.ts): which checks
 * validated it, and a digest of what they validated. A function that reads a file whose
 * stamp matches — the same checks, the same content — builds its catalog without
 * checking it again; any other file (edited by hand, written by another capbroker, or
 * without a stamp) is checked in full, and refused if it does not pass.
 *
 * Not a security control: whoever can change the file can change its stamp, as they can
 * change the code beside it. It tells an intact file from an accident, for a fraction of
 * what checking costs at a cold start (BENCHMARKS.md, the cold-start notes).
 */
import { CHECKS_DIGEST } from '../generated/checks.ts'

/** The stamp of a packaged catalog's `catalog` and `globs`, as JSON would carry them. */
export function packagedStamp(catalog: unknown, globs: unknown): string {
  return `${CHECKS_DIGEST}.${digestOf(JSON.stringify({ catalog, globs }))}`
}

/**
 * A 64-bit digest of `text` (two FNV-1a lanes over its UTF-16 code units, each mixed at
 * the end), as 16 hex digits: enough to tell an edited file from the one packaged, and
 * cheap where loading node:crypto at a cold start is not.
 */
export function digestOf(text: string): string {
  let a = 0x811c9dc5
  let b = 0x050c5d1f
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    a = Math.imul(a ^ unit, 0x01000193)
    b = Math.imul(b ^ unit, 0x5bd1e995)
  }
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b)
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35)
  b = Math.imul(b ^ (b >>> 15), 0x2c1b3c6d)
  b = Math.imul(b ^ (b >>> 12), 0x297a2d39)
  const hex = (n: number) => ((n ^ (n >>> 16)) >>> 0).toString(16).padStart(8, '0')
  return hex(a) + hex(b)
}
