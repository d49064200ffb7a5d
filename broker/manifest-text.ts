/**
 * Reading a manifest file (the CLI's `request --file`, the Git trigger): YAML or JSON
 * text → the body of a requested event. Apart from manifest.ts so that what never reads
 * a file (the pipeline, the ingest and resolve functions) carries no YAML parser.
 */
import { parse as parseYaml } from 'yaml'
import type { CapabilityRequest, ScoreWorkload } from '../events/index.ts'
import { ManifestError } from './errors.ts'
import type { ManifestBody } from './manifest.ts'

/**
 * Reads a manifest file's text (YAML or JSON): a native `capabilities:` list, or a Score
 * workload (`apiVersion: score.dev/…`). Returns the body of a requested event; the app
 * and environment come from the caller. Throws {@link ManifestError}.
 */
export function parseManifestText(text: string, file: string): ManifestBody {
  let doc: unknown
  try {
    // logLevel 'error': the YAML library would print a warning (an unknown tag, quoting
    // the manifest) straight to stderr, around the structured log.
    doc = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true, logLevel: 'error' })
  } catch (error) {
    throw new ManifestError(
      [{ path: file, message: `is not valid YAML: ${(error as Error).message.split('\n')[0]}` }],
      { cause: error },
    )
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ManifestError([
      { path: file, message: 'must be a mapping with "capabilities" or a Score workload' },
    ])
  }
  const record = doc as Record<string, unknown>
  if (typeof record.apiVersion === 'string' && record.apiVersion.startsWith('score.dev/')) {
    return { score: record as ScoreWorkload }
  }
  if (Array.isArray(record.capabilities))
    return { capabilities: record.capabilities as CapabilityRequest[] }
  throw new ManifestError([
    {
      path: file,
      message: 'has neither a "capabilities" list nor a Score "apiVersion: score.dev/…"',
    },
  ])
}
