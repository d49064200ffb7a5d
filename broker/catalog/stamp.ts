/**
 * The stamp packaging puts on a packaged catalog (infra/catalog-access.ts): which
 * generated checks validated it (CHECKS_DIGEST, a digest of the schema checks that
 * `npm run schemas` writes) and a digest of what they validated. A function that reads a
 * file whose stamp matches — the same generated checks, the same content — builds its
 * catalog without checking it again; any other file (edited by hand, validated by other
 * generated checks, or without a stamp) is checked in full, and refused if it does not
 * pass.
 *
 * What the stamp does not name: the checks written as code (cross-references,
 * templates, the trigger sections). A file packaged by another build whose schema is the
 * same but whose code checks differ is trusted. `npm run package` writes the file and
 * the bundles in one run, from one checkout, so they agree.
 *
 * Not a security control: whoever can change the file can change its stamp, as they can
 * change the code beside it. It tells an intact file from an accident, for a fraction of
 * what checking costs at a cold start (BENCHMARKS.md, the cold-start notes).
 */
import { CHECKS_DIGEST } from '../generated/checks.ts'

/**
 * The stamp of a packaged catalog's `catalog` and `globs`, as JSON would carry them; none
 * for a value JSON cannot write back (nested too deep for the stack), which then gets
 * the full check and its own error.
 */
export function packagedStamp(catalog: unknown, globs: unknown): string | undefined {
  let json: string
  try {
    json = JSON.stringify({ catalog, globs })
  } catch {
    return undefined
  }
  return `${CHECKS_DIGEST}.${digestOf(json)}`
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
