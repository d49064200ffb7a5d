/**
 * Manifests: what an app declares. The native `capabilities` list and a Score workload's
 * `resources:` normalize to one shape; errors name the capability and the field.
 */
import {
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

/** The most problems one error lists: a hostile request must not get a huge answer. */
export const MAX_MANIFEST_PROBLEMS = 50

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

function scalarParams(
  params: unknown,
  path: string,
  problems: Problem[],
): Record<string, string | number | boolean> {
  // A null-prototype object: a `__proto__` param is just a name here, never a prototype.
  const out: Record<string, string | number | boolean> = Object.create(null)
  if (params !== undefined && !isRecord(params)) {
    problems.push({ path: `${path}.params`, message: 'must be a mapping of names to values' })
    return out
  }
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

// The shape checks below repeat the schema's on purpose: a manifest read from a file
// (the Git trigger, `capbroker request`) reaches this before any schema check, and
// must get a ManifestError, not a TypeError.
const matches = (pattern: RegExp, value: unknown): value is string =>
  typeof value === 'string' && pattern.test(value)

function fromScore(resources: Record<string, unknown>, problems: Problem[]): CapabilitySpec[] {
  const specs: CapabilitySpec[] = []
  for (const [name, resource] of Object.entries(resources)) {
    const path = `score.resources.${NAME.test(name) ? name : JSON.stringify(name.slice(0, 64))}`
    if (!NAME.test(name))
      problems.push({ path, message: `resource name must match ${NAME_PATTERN}` })
    if (!isRecord(resource)) {
      problems.push({ path, message: 'must be a mapping with a "type"' })
      continue
    }
    if (!matches(TYPE, resource.type))
      problems.push({ path: `${path}.type`, message: `must match ${TYPE_PATTERN}` })
    if (resource.class !== undefined && !matches(TYPE, resource.class))
      problems.push({ path: `${path}.class`, message: `must match ${TYPE_PATTERN}` })
    const params = scalarParams(resource.params, path, problems)
    specs.push({
      name,
      type: resource.type as string,
      ...(resource.class === undefined ? {} : { class: resource.class as string }),
      params,
    })
  }
  return specs
}

function fromList(list: readonly unknown[], problems: Problem[]): CapabilitySpec[] {
  const specs: CapabilitySpec[] = []
  list.forEach((c, i) => {
    if (!isRecord(c)) {
      problems.push({
        path: `capabilities[${i}]`,
        message: 'must be a mapping with "name" and "type"',
      })
      return
    }
    for (const field of ['name', 'type'] as const)
      if (typeof c[field] !== 'string')
        problems.push({ path: `capabilities[${i}].${field}`, message: 'must be a string' })
    if (c.class !== undefined && typeof c.class !== 'string')
      problems.push({ path: `capabilities[${i}].class`, message: 'must be a string' })
    const name = matches(NAME, c.name) ? ` (${c.name})` : ''
    specs.push({
      name: c.name as string,
      type: c.type as string,
      ...(c.class === undefined ? {} : { class: c.class as string }),
      params: scalarParams(c.params, `capabilities[${i}]${name}`, problems),
    })
  })
  return specs
}

/** Lists at most {@link MAX_MANIFEST_PROBLEMS} problems, and says how many were left out. */
function capped(problems: readonly Problem[]): Problem[] {
  if (problems.length <= MAX_MANIFEST_PROBLEMS) return [...problems]
  return [
    ...problems.slice(0, MAX_MANIFEST_PROBLEMS),
    { path: 'data', message: `has ${problems.length - MAX_MANIFEST_PROBLEMS} more problems` },
  ]
}

/**
 * Normalizes a request's data — schema-checked by the event parser, or straight from a
 * manifest file. Throws {@link ManifestError} (and nothing else, whatever the input)
 * with the problems, at most {@link MAX_MANIFEST_PROBLEMS}: not a mapping, both or
 * neither of `capabilities` and `score`, more than MAX_CAPABILITIES, duplicate names,
 * bad Score resources, non-scalar params. Messages never quote a parameter value.
 */
export function normalizeRequest(data: RequestedData): NormalizedRequest {
  const problems: Problem[] = []
  const refuse = (path: string, message: string): never => {
    throw new ManifestError([{ path, message }])
  }
  if (!isRecord(data)) refuse('data', 'must be a mapping')
  if ((data.capabilities === undefined) === (data.score === undefined)) {
    refuse(
      'data',
      'must have exactly one of "capabilities" (a list) and "score" (a Score workload)',
    )
  }
  if (data.capabilities !== undefined && !Array.isArray(data.capabilities))
    refuse('capabilities', 'must be a list')
  if (data.score !== undefined && !isRecord(data.score))
    refuse('score', 'must be a Score workload (a mapping)')
  const resources: unknown = (data.score as ScoreWorkload | undefined)?.resources ?? {}
  if (!isRecord(resources)) refuse('score.resources', 'must be a mapping of resource names')
  // Counted before anything else: an oversized request is refused whole, in one line.
  const count = data.capabilities
    ? data.capabilities.length
    : Object.keys(resources as object).length
  if (count > MAX_CAPABILITIES) {
    const [path, what] = data.capabilities
      ? ['capabilities', 'capabilities']
      : ['score.resources', 'resources']
    refuse(path, `has ${count} ${what}; at most ${MAX_CAPABILITIES} per request`)
  }
  const capabilities = data.capabilities
    ? fromList(data.capabilities, problems)
    : fromScore(resources as Record<string, unknown>, problems)
  const seen = new Set<string>()
  capabilities.forEach((c, i) => {
    if (seen.has(c.name)) {
      problems.push({
        path: data.capabilities ? `capabilities[${i}].name` : `score.resources.${c.name}`,
        message: `duplicate capability name "${String(c.name).slice(0, 64)}"`,
      })
    }
    seen.add(c.name)
  })
  if (problems.length > 0) throw new ManifestError(capped(problems))
  return { app: data.app, environment: data.environment, capabilities }
}
