import { type DataOf, dataChecks, type EventType, isEventType } from './types.ts'
import { readablePath, type ValidationProblem, validate } from './validate.ts'

/**
 * A CloudEvents 1.0 event in structured-mode JSON shape. Values are frozen: an event is
 * an immutable value, validated once at the edge ({@link parseEvent}) or built valid
 * ({@link buildEvent}).
 */
export interface CloudEvent<T extends EventType = EventType> {
  readonly specversion: '1.0'
  readonly id: string
  readonly source: string
  readonly type: T
  readonly subject?: string
  readonly time?: string
  readonly datacontenttype?: string
  readonly dataschema?: string
  readonly data: DataOf<T>
}

/** Any of the seven event types. */
export type AnyCloudEvent = { [T in EventType]: CloudEvent<T> }[EventType]

/** An event that does not fit CloudEvents 1.0 or its type's data schema; lists every problem. */
export class EventValidationError extends Error {
  override name = 'EventValidationError'
  readonly problems: readonly ValidationProblem[]
  constructor(problems: readonly ValidationProblem[]) {
    super(`invalid CloudEvent: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`)
    this.problems = problems
  }
}

/** What a builder needs besides the data. `time` is an ISO timestamp the caller's clock gave. */
export interface EventAttributes {
  readonly id: string
  readonly source: string
  readonly time: string
  readonly subject?: string
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/i
const CORE = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  'data',
  'data_base64',
])
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/
/** RFC 3986 characters: no spaces, no malformed percent escapes. */
const URI_CHARACTERS = /^(?:[\w\-.~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/
/**
 * Far deeper than any request or Score workload, and far from the call-stack limit that
 * cloning and freezing (both recursive) would otherwise hit on hostile input.
 */
const MAX_DATA_DEPTH = 32
/**
 * Shape problems listed at most: one per `__proto__` key would let a 1 MiB body of
 * `{"__proto__":1}` objects buy a ten times larger answer.
 */
const MAX_SHAPE_PROBLEMS = 20

/** A URI-reference (RFC 3986 §4.1): relative ones like `/apps/checkout` included. */
function isUriReference(value: string): boolean {
  // The base must be hierarchical: against an opaque one (`urn:…`) no relative reference resolves.
  return URI_CHARACTERS.test(value) && URL.canParse(value, 'https://capbroker.invalid/')
}

/** An RFC 3339 timestamp of a day that exists (Date.parse would roll 02-30 over into March). */
function isTimestamp(value: string): boolean {
  const match = RFC3339.exec(value)
  if (match === null) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const lastDay = new Date(0)
  lastDay.setUTCFullYear(year, month, 0)
  return month >= 1 && month <= 12 && day >= 1 && day <= lastDay.getUTCDate()
}

/** CloudEvents extension values are scalars: String, Boolean or a 32-bit Integer. */
function isExtensionValue(value: unknown): boolean {
  if (typeof value === 'string' || typeof value === 'boolean') return true
  return Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 31
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/**
 * Problems no schema can state: values that are not JSON (a Date, a typed array),
 * nesting beyond {@link MAX_DATA_DEPTH} and `__proto__` keys (own properties after
 * JSON.parse, but `Object.assign` and `obj[key] = value` downstream would set a
 * prototype with them).
 */
function checkDataShape(data: unknown): ValidationProblem[] {
  const problems: ValidationProblem[] = []
  let tooDeep = false
  let more = 0
  const walk = (node: unknown, pointer: string, depth: number): void => {
    if (tooDeep || more > 0 || node === null || typeof node !== 'object') return
    if (!Array.isArray(node) && !isPlainObject(node)) {
      // A Date, Map or typed array is no JSON: it would pass the schema as something else.
      problems.push({
        path: readablePath(pointer, 'data'),
        message: 'must be JSON: an object, array, string, number, boolean or null',
        pointer,
      })
      return
    }
    if (depth > MAX_DATA_DEPTH) {
      tooDeep = true
      problems.push({
        path: readablePath(pointer, 'data'),
        message: `nests deeper than ${MAX_DATA_DEPTH} levels`,
        pointer,
      })
      return
    }
    for (const [key, child] of Object.entries(node)) {
      const childPointer = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`
      if (key !== '__proto__') walk(child, childPointer, depth + 1)
      else if (problems.length >= MAX_SHAPE_PROBLEMS) more++
      else
        problems.push({
          path: readablePath(childPointer, 'data'),
          message: 'is not an allowed property name',
          pointer: childPointer,
        })
      if (more > 0) return
    }
  }
  walk(data, '', 1)
  if (more > 0)
    problems.push({ path: 'data', message: 'has more problems than listed', pointer: '' })
  return problems
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

function subjectOf(data: unknown): string | undefined {
  const d = data as { app?: unknown; environment?: unknown }
  return typeof d?.app === 'string' && typeof d.environment === 'string'
    ? `${d.app}/${d.environment}`
    : undefined
}

/**
 * Builds a valid event of one of the seven types. `subject` defaults to
 * `<app>/<environment>` of the data. Throws {@link EventValidationError} on data that
 * does not fit the schema — a programming error, since builders get broker data.
 */
export function buildEvent<T extends EventType>(
  type: T,
  attributes: EventAttributes,
  data: DataOf<T>,
): CloudEvent<T> {
  const event = {
    specversion: '1.0' as const,
    id: attributes.id,
    source: attributes.source,
    type,
    subject: attributes.subject ?? subjectOf(data),
    time: attributes.time,
    datacontenttype: 'application/json',
    data,
  }
  if (event.subject === undefined) delete event.subject
  const problems = checkEvent(event)
  if (problems.length > 0) throw new EventValidationError(problems)
  // Cloned only once checked (cloning recurses); the caller keeps its own, unfrozen data.
  return deepFreeze({ ...event, data: structuredClone(data) }) as CloudEvent<T>
}

function checkEvent(input: Record<string, unknown>): ValidationProblem[] {
  const problems: ValidationProblem[] = []
  const str = (name: string, required: boolean): string | undefined => {
    const v = input[name]
    if (v === undefined) {
      if (required) problems.push({ path: name, message: 'is required' })
      return undefined
    }
    if (typeof v !== 'string' || v === '') {
      problems.push({ path: name, message: 'must be a non-empty string' })
      return undefined
    }
    return v
  }
  const specversion = str('specversion', true)
  if (specversion !== undefined && specversion !== '1.0')
    problems.push({ path: 'specversion', message: 'must be "1.0"' })
  str('id', true)
  const source = str('source', true)
  if (source !== undefined && !isUriReference(source))
    problems.push({ path: 'source', message: 'must be a URI-reference' })
  const type = str('type', true)
  str('subject', false)
  const time = str('time', false)
  if (time !== undefined && !isTimestamp(time))
    problems.push({ path: 'time', message: 'must be an RFC 3339 timestamp' })
  const contentType = str('datacontenttype', false)
  if (contentType !== undefined && !/^application\/([\w.-]+\+)?json(;.*)?$/i.test(contentType)) {
    problems.push({ path: 'datacontenttype', message: 'must be application/json' })
  }
  const dataschema = str('dataschema', false)
  if (dataschema !== undefined && !(URI_CHARACTERS.test(dataschema) && URL.canParse(dataschema))) {
    problems.push({ path: 'dataschema', message: 'must be an absolute URI' })
  }
  for (const [name, value] of Object.entries(input)) {
    if (CORE.has(name)) continue
    if (!EXTENSION_NAME.test(name))
      problems.push({
        path: name,
        message: 'is not a valid extension attribute name ([a-z0-9]{1,20})',
      })
    else if (value !== undefined && !isExtensionValue(value))
      problems.push({ path: name, message: 'must be a string, a boolean or a 32-bit integer' })
  }
  if (input.data_base64 !== undefined)
    problems.push({ path: 'data_base64', message: 'binary data is not accepted; send JSON data' })
  if (type !== undefined && !isEventType(type)) {
    problems.push({
      path: 'type',
      message: `unknown event type (expected one of ${Object.keys(dataChecks).join(', ')})`,
    })
  } else if (type !== undefined) {
    if (input.data === undefined) problems.push({ path: 'data', message: 'is required' })
    else {
      const shape = checkDataShape(input.data)
      problems.push(...shape)
      // Past the depth limit the schema check would only add noise about the same subtree.
      if (!shape.some((p) => p.message.startsWith('nests deeper')))
        problems.push(...validate(dataChecks[type], input.data, 'data'))
    }
    const subject = input.subject
    const expected = subjectOf(input.data)
    if (typeof subject === 'string' && expected !== undefined && subject !== expected) {
      problems.push({
        path: 'subject',
        message: `must be "<app>/<environment>" of the data (${expected})`,
      })
    }
  }
  return problems
}

/**
 * Parses a structured-mode event (an object, as from JSON.parse or the CloudEvents SDK)
 * into a frozen {@link CloudEvent}. Throws {@link EventValidationError} naming every
 * attribute or data field that is wrong. A missing `subject` is filled from the data.
 */
export function parseEvent(input: unknown): AnyCloudEvent {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new EventValidationError([{ path: '', message: 'must be a JSON object' }])
  }
  const record = input as Record<string, unknown>
  const problems = checkEvent(record)
  if (problems.length > 0) throw new EventValidationError(problems)
  const event: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(record)) if (value !== undefined) event[name] = value
  event.subject ??= subjectOf(record.data)
  return deepFreeze(structuredClone(event)) as unknown as AnyCloudEvent
}

/** Narrows an event to one type. */
export function isEventOf<T extends EventType>(
  event: AnyCloudEvent,
  type: T,
): event is Extract<AnyCloudEvent, { type: T }> {
  return event.type === type
}
