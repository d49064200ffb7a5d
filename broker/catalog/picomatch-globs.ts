/**
 * The catalog's globs compiled by picomatch: what the YAML path (CLI, embedded runtime,
 * packaging) uses. The Lambda functions read the regexes packaging stored instead
 * (../globs.ts), so that picomatch is in no bundle but github's and slack's, whose
 * triggers match branches and chat users' apps with it directly; import this module only
 * where a YAML catalog is read.
 */
import picomatch from 'picomatch'
import type { GlobCompiler } from '../globs.ts'

/**
 * picomatch's regex of one glob. `windows: false` explicitly: `picomatch()` given no
 * `windows` asks the operating system, and a catalog would mean something else on a
 * Windows host; catalog globs are names and keys, never file paths.
 */
export const picomatchGlobs: GlobCompiler = (glob, { dot }) =>
  picomatch.makeRe(glob, { dot, nonegate: true, windows: false })
