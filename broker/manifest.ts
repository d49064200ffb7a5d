/**
 * Manifests: what an app declares. The native `capabilities` list and a Score workload's
 * `resources:` normalize to one shape; errors name the capability and the field.
 */
import { parse as parseYaml } from 'yaml'
import {
  type CapabilityRequest,
  MAX_CAPABILITIES,
  NAME_PATTERN,
  PARAM_KEY_PATTERN,
  type RequestedData,
  type ScoreWorkload,
  TYPE_PATTERN,
} from '../events/index.ts'
import { ManifestError, type Problem } from './errors.ts'

/** One capability, normalized: what the broker plans with. */
export interface CapabilitySpec {
  readonly name: string
  readonly type: string
  readonly class?: string
  readonly params: Readonly<Record<string, string | number | boolean>>
}

/** A request, normalized. */
export interface NormalizedRequest {
  readonly app: string
  readonly environment: string
  readonly capabilities: readonly CapabilitySpec[]
}

/** The body of a manifest file: either a native list or a Score workload. */
export type ManifestBody = Pick<RequestedData, 'capabilities' | 'score'>

const NAME = new RegExp(NAME_PATTERN)
const TYPE = new RegExp(TYPE_PATTERN)
const PARAM_KEY = new RegExp(PARAM_KEY_PATTERN)

function scalarParams(
  params: Record<string, unknown> | undefined,
  path: string,
  problems: Problem[],
): Record<string, string | number | boolean> {
  // A null-prototype object: a `__proto__` param is just a name here, never a prototype.
  const out: Record<string, string | number | boolean> = Object.create(null)
  for (const [key, value] of Object.entries(params ?? {})) {
    if (!PARAM_KEY.test(key)) {
      problems.push({
        path: `${path}.params`,
        message: `parameter name "${key.slice(0, 64)}" must match ${PARAM_KEY_PATTERN}`,
      })
    } else if (
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
    ) {
      out[key] = value
    } else {
      problems.push({
        path: `${path}.params.${key}`,
        message: 'must be a string, number or boolean',
      })
    }
  }
  return out
}

function fromScore(score: ScoreWorkload, problems: Problem[]): CapabilitySpec[] {
  const specs: CapabilitySpec[] = []
  for (const [name, resource] of Object.entries(score.resources ?? {})) {
    const path = `score.resources.${NAME.test(name) ? name : JSON.stringify(name.slice(0, 64))}`
    if (!NAME.test(name))
      problems.push({ path, message: `resource name must match ${NAME_PATTERN}` })
    if (!TYPE.test(resource.type))
      problems.push({ path: `${path}.type`, message: `must match ${TYPE_PATTERN}` })
    if (resource.class !== undefined && !TYPE.test(resource.class))
      problems.push({ path: `${path}.class`, message: `must match ${TYPE_PATTERN}` })
    const params = scalarParams(resource.params, path, problems)
    specs.push({
      name,
      type: resource.type,
      ...(resource.class === undefined ? {} : { class: resource.class }),
      params,
    })
  }
  return specs
}

function fromList(list: readonly CapabilityRequest[], problems: Problem[]): CapabilitySpec[] {
  return list.map((c, i) => ({
    name: c.name,
    type: c.type,
    ...(c.class === undefined ? {} : { class: c.class }),
    params: scalarParams(c.params, `capabilities[${i}] (${c.name})`, problems),
  }))
}

/**
 * Normalizes a request's data (already schema-checked by the event parser). Throws
 * {@link ManifestError} with every problem: both or neither of `capabilities` and
 * `score`, duplicate names, bad Score resources, non-scalar params.
 */
export function normalizeRequest(data: RequestedData): NormalizedRequest {
  const problems: Problem[] = []
  if ((data.capabilities === undefined) === (data.score === undefined)) {
    problems.push({
      path: 'data',
      message: 'must have exactly one of "capabilities" (a list) and "score" (a Score workload)',
    })
    throw new ManifestError(problems)
  }
  const capabilities = data.capabilities
    ? fromList(data.capabilities, problems)
    : fromScore(data.score as ScoreWorkload, problems)
  if (capabilities.length > MAX_CAPABILITIES) {
    problems.push({
      path: 'score.resources',
      message: `has ${capabilities.length} resources; at most ${MAX_CAPABILITIES} per request`,
    })
  }
  const seen = new Set<string>()
  capabilities.forEach((c, i) => {
    if (seen.has(c.name)) {
      problems.push({
        path: data.capabilities ? `capabilities[${i}].name` : `score.resources.${c.name}`,
        message: `duplicate capability name "${c.name}"`,
      })
    }
    seen.add(c.name)
  })
  if (problems.length > 0) throw new ManifestError(problems)
  return { app: data.app, environment: data.environment, capabilities }
}

/**
 * Reads a manifest file's text (YAML or JSON): a native `capabilities:` list, or a Score
 * workload (`apiVersion: score.dev/…`). Returns the body of a requested event; the app
 * and environment come from the caller. Throws {@link ManifestError}.
 */
export function parseManifestText(text: string, file: string): ManifestBody {
  let doc: unknown
  try {
    doc = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true })
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
