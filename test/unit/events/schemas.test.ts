import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import Value from 'typebox/value'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type EventType, EventTypes } from '../../../events/index.ts'
import {
  renderSchema,
  SCHEMA_BASE_URI,
  SCHEMA_DIALECT,
  schemaFiles,
  staleSchemas,
  writeSchemas,
} from '../../../scripts/write-schemas.ts'
import { validData } from './fixtures.ts'

const root = join(import.meta.dirname, '../../..')

async function readSchema(type: EventType): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(root, 'events/schemas', `${type}.json`), 'utf8'))
}

describe('the committed schema files', () => {
  it('are what `npm run schemas` writes (run it after changing events/data.ts)', async () => {
    expect(await staleSchemas()).toEqual([])
  })

  it('cover every event type once', () => {
    const files = schemaFiles.map((entry) => entry.file)
    expect(new Set(files).size).toBe(files.length)
    for (const type of Object.values(EventTypes))
      expect(files).toContain(`events/schemas/${type}.json`)
  })

  it.each(Object.values(EventTypes))(
    '%s declares dialect, id, title and description',
    async (type) => {
      const schema = await readSchema(type)
      expect(schema.$schema).toBe(SCHEMA_DIALECT)
      expect(schema.$id).toBe(`https://capbroker.dev/schemas/${type}.json`)
      expect(schema.title).toEqual(expect.stringContaining(type))
      expect(schema.description).toEqual(expect.stringMatching(/\w{3}/))
    },
  )
})

/** One data value per type that its schema must refuse, and why a consumer cares. */
const invalidData: { readonly [T in EventType]: [string, unknown] } = {
  [EventTypes.requested]: [
    'an app name that climbs out of its directory',
    { ...validData[EventTypes.requested], app: '../etc' },
  ],
  [EventTypes.resolved]: [
    'a capability that is not ready',
    {
      ...validData[EventTypes.resolved],
      capabilities: [{ ...validData[EventTypes.resolved].capabilities[0], status: 'failed' }],
    },
  ],
  [EventTypes.failed]: [
    'an unknown status',
    {
      ...validData[EventTypes.failed],
      capabilities: [{ name: 'db', type: 'postgres', status: 'pending' }],
    },
  ],
  [EventTypes.denied]: [
    'a reason without a code',
    { ...validData[EventTypes.denied], reason: { message: 'no policy' } },
  ],
  [EventTypes.injected]: [
    'no bindings list',
    { ...validData[EventTypes.injected], bindings: undefined },
  ],
  [EventTypes.rotated]: [
    'no previous version',
    { ...validData[EventTypes.rotated], previousVersion: undefined },
  ],
  [EventTypes.released]: [
    'no capability name',
    { ...validData[EventTypes.released], name: undefined },
  ],
}

describe.each(Object.values(EventTypes))('events/schemas/%s.json', (type) => {
  it('accepts the valid sample', async () => {
    expect(Value.Check(await readSchema(type), validData[type])).toBe(true)
  })

  it(`refuses ${invalidData[type][0]}`, async () => {
    const sample = JSON.parse(JSON.stringify(invalidData[type][1]))
    expect(Value.Check(await readSchema(type), sample)).toBe(false)
  })

  it('refuses an unknown top-level property (a typo is not silently ignored)', async () => {
    expect(Value.Check(await readSchema(type), { ...validData[type], aap: 'checkout' })).toBe(false)
  })
})

describe('staleSchemas', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'capbroker-schemas-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('lists a file whose content drifted and a file that is missing, nothing else', async () => {
    const [first, second, ...rest] = schemaFiles
    await writeSchemas(schemaFiles, dir)
    expect(await staleSchemas(schemaFiles, dir)).toEqual([])

    await writeFile(join(dir, first!.file), renderSchema(first!).replace('"object"', '"array"'))
    await unlink(join(dir, second!.file))
    expect(await staleSchemas(schemaFiles, dir)).toEqual([first!.file, second!.file])
    expect(rest.length).toBeGreaterThan(0)
  })

  it('takes more schemas from one list entry, with $id from the file name', async () => {
    const extra = {
      file: 'schemas/extra.schema.json',
      schema: { type: 'object' as const, properties: {}, required: [] },
      title: 'extra',
      description: 'an added schema',
    }
    const files = [...schemaFiles, extra]
    expect(await staleSchemas(files, dir)).toContain(extra.file)
    await writeSchemas(files, dir)
    expect(await staleSchemas(files, dir)).toEqual([])
    const written = JSON.parse(await readFile(join(dir, extra.file), 'utf8'))
    expect(written.$id).toBe(`${SCHEMA_BASE_URI}${basename(extra.file)}`)
    expect(written).toMatchObject({
      title: 'extra',
      description: 'an added schema',
      type: 'object',
    })
  })
})
