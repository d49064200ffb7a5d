/**
 * The SecretStore conformance suite: the cases every SecretStore adapter must pass.
 * The fixture is the only per-store code; it seeds and removes secrets through the
 * provider's own means (the store itself for `local`, the SDK for a cloud), so the
 * suite checks what the adapter reads, not what it wrote.
 *
 * Keys are `cbconf-<run id>-<case>`: unique per run, so the suite can share an emulator
 * with other runs, and only letters, digits and `-`, the one alphabet every provider
 * accepts (GCP forbids `/` and `.`, Azure `_`).
 */
import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidConfigError, NotFoundError, UnavailableError } from '../../broker/errors.ts'
import type { ReadOutcome, SecretStore, WritableSecretStore } from '../../broker/ports.ts'
import { SecretValue } from '../../broker/secret-value.ts'
import type { SecretStoreFixture } from './secret-store-fixture.ts'

export type { FaultHook, FaultKind, SecretStoreFixture } from './secret-store-fixture.ts'

const BATCH_SIZE = 25

/** Registers the conformance cases for one store under `describe(name)`. */
export function describeSecretStoreConformance<S extends SecretStore>(
  name: string,
  fixture: SecretStoreFixture<S>,
): void {
  describe(`SecretStore conformance: ${name}`, () => {
    const run = randomBytes(4).toString('hex')
    const keys = new Set<string>()
    const values = new Set<string>()
    const errors: unknown[] = []
    let store: S

    const keyFor = (label: string): string => {
      const key = `cbconf-${run}-${label}`
      keys.add(key)
      return key
    }
    const valueFor = (label: string): string => {
      const value = `v-${run}-${label}-${randomBytes(6).toString('hex')}`
      values.add(value)
      return value
    }
    const seed = (key: string, value: string): Promise<string> => {
      values.add(value)
      return fixture.seed(key, value)
    }
    /** Records an error for the no-leak case and returns it, for chaining. */
    const track = <E>(error: E): E => {
      errors.push(error)
      return error
    }
    const failureOf = (outcome: ReadOutcome | undefined) => {
      if (outcome === undefined || outcome.ok) throw new Error(`expected a failed outcome`)
      return track(outcome.error)
    }
    const revealed = (outcome: ReadOutcome | undefined): string => {
      if (outcome === undefined) throw new Error('missing outcome')
      if (!outcome.ok) throw track(outcome.error)
      return outcome.value.reveal()
    }
    const writable = (): WritableSecretStore => store as unknown as WritableSecretStore

    beforeAll(async () => {
      store = await fixture.create()
    })

    afterAll(async () => {
      await Promise.all([...keys].map((key) => fixture.remove(key)))
      if (store !== undefined) await fixture.dispose?.(store)
    })

    it('reads one secret with its version, as a SecretValue that does not print', async () => {
      const key = keyFor('one')
      const value = valueFor('one')
      const version = await seed(key, value)
      const outcomes = await store.read([{ key }])
      expect(outcomes).toHaveLength(1)
      expect(outcomes[0]).toMatchObject({ ok: true, key, version })
      expect(revealed(outcomes[0])).toBe(value)
      expect(JSON.stringify(outcomes)).not.toContain(value)
      expect(inspect(outcomes, { depth: 10 })).not.toContain(value)
    })

    it(`reads a batch of ${BATCH_SIZE} with missing keys: one outcome each, in order`, async () => {
      const missing = (i: number) => i % 5 === 2
      const locators = Array.from({ length: BATCH_SIZE }, (_, i) => ({ key: keyFor(`batch-${i}`) }))
      const expected = new Map<string, string>()
      await Promise.all(
        locators.map(async ({ key }, i) => {
          if (missing(i)) return
          const value = valueFor(`batch-${i}`)
          expected.set(key, value)
          await seed(key, value)
        }),
      )
      const outcomes = await store.read(locators)
      expect(outcomes.map((o) => o.key)).toEqual(locators.map((l) => l.key))
      outcomes.forEach((outcome, i) => {
        if (missing(i)) {
          const error = failureOf(outcome)
          expect(error).toBeInstanceOf(NotFoundError)
          expect(error.message).toContain(outcome.key)
        } else {
          expect(revealed(outcome)).toBe(expected.get(outcome.key))
        }
      })
    })

    it('keeps versions: newest by default, an older one when pinned', async () => {
      const key = keyFor('versions')
      const [first, second] = [valueFor('v1'), valueFor('v2')]
      const v1 = await seed(key, first)
      const v2 = await seed(key, second)
      expect(v2).not.toBe(v1)
      const [newest, pinnedOld, pinnedNew] = await store.read([
        { key },
        { key, version: v1 },
        { key, version: v2 },
      ])
      expect(newest).toMatchObject({ ok: true, version: v2 })
      expect(revealed(newest)).toBe(second)
      expect(pinnedOld).toMatchObject({ ok: true, version: v1 })
      expect(revealed(pinnedOld)).toBe(first)
      expect(revealed(pinnedNew)).toBe(second)
    })

    it.each([
      [
        'a JSON object',
        (v: string) => JSON.stringify({ username: 'app', password: v, port: 5432 }),
      ],
      ['a JSON string', (v: string) => JSON.stringify(v)],
      ['plain text', (v: string) => v],
      ['unicode', (v: string) => `pässwörd-✓-密码-${v}`],
      ['several lines', (v: string) => `-----BEGIN KEY-----\n${v}\n-----END KEY-----\n`],
      ['surrounding spaces', (v: string) => `  ${v}  `],
    ])('round-trips %s exactly', async (label, make) => {
      const key = keyFor(`shape-${label.replaceAll(' ', '-')}`)
      const value = make(valueFor(label))
      await seed(key, value)
      const [outcome] = await store.read([{ key }])
      expect(revealed(outcome)).toBe(value)
    })

    it('answers NotFound, naming the key, for an unknown key', async () => {
      const key = keyFor('never-written')
      const error = failureOf((await store.read([{ key }]))[0])
      expect(error).toBeInstanceOf(NotFoundError)
      expect(error).toMatchObject({ code: 'NOT_FOUND', retryable: false })
      expect(error.message).toContain(key)
    })

    it('answers NotFound, naming key and version, for an unknown version', async () => {
      const key = keyFor('known')
      await seed(key, valueFor('known'))
      const [outcome] = await store.read([{ key, version: fixture.unknownVersion }])
      const error = failureOf(outcome)
      expect(error).toBeInstanceOf(NotFoundError)
      expect(error.message).toContain(key)
      expect(error.message).toContain(fixture.unknownVersion)
    })

    describe.each(['throttling', 'server-error'] as const)('provider fault: %s', (kind) => {
      for (const call of ['read', 'write'] as const) {
        const hook = fixture.faults?.[kind]
        const reason =
          call === 'write' && !fixture.writable
            ? 'the store is read-only'
            : hook === undefined
              ? (fixture.faultsSkipReason ?? 'the fixture has no such fault')
              : !hook.calls.includes(call)
                ? `the fault does not reach ${call}`
                : undefined
        const title = `${call} fails with a retryable UnavailableError, then recovers`
        it.skipIf(reason !== undefined)(
          reason ? `${title} (skipped: ${reason})` : title,
          async () => {
            const key = keyFor(`fault-${kind}-${call}`)
            const value = valueFor(`fault-${kind}-${call}`)
            await seed(key, value)
            const attempt = () =>
              call === 'read'
                ? store.read([{ key }])
                : writable().write(key, new SecretValue(valueFor(`fault-${kind}-new`)))
            const restore = await hook!.inject()
            let error: unknown
            try {
              error = await attempt().then(
                (result) => (Array.isArray(result) ? failureOf(result[0]) : undefined),
                (rejection: unknown) => track(rejection),
              )
            } finally {
              await restore()
            }
            expect(error).toBeInstanceOf(UnavailableError)
            expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true })
            expect((error as Error).cause).toBeDefined()
            expect((error as Error).message).not.toContain(value)
            const [after] = await store.read([{ key }])
            expect(after?.ok).toBe(true)
          },
        )
      }
    })

    it('rejects with an AbortError when the signal is already aborted', async () => {
      const controller = new AbortController()
      controller.abort()
      const read = store.read([{ key: keyFor('aborted') }], { signal: controller.signal })
      const error = await read.then(
        () => undefined,
        (e: unknown) => track(e),
      )
      expect((error as Error | undefined)?.name).toBe('AbortError')
    })

    it('reports InvalidConfigError for a misconfigured store', async () => {
      const error = await (async () => {
        const bad = await fixture.badConfig()
        await bad.read([{ key: keyFor('bad-config') }])
      })().then(
        () => undefined,
        (e: unknown) => track(e),
      )
      expect(error).toBeInstanceOf(InvalidConfigError)
      expect(error).toMatchObject({ code: 'INVALID_CONFIG', retryable: false })
    })

    it('reports ready health', async () => {
      expect(await store.health()).toMatchObject({ status: 'ready' })
    })

    describe.skipIf(!fixture.writable)('writer', () => {
      it('writes a value that a read returns, with the written version', async () => {
        const key = keyFor('written')
        const value = valueFor('written')
        const written = await writable().write(key, new SecretValue(value))
        expect(written.changed).toBe(true)
        const [outcome] = await store.read([{ key }])
        expect(outcome).toMatchObject({ ok: true, version: written.version })
        expect(revealed(outcome)).toBe(value)
      })

      it('makes no new version when the value is unchanged, and one when it changes', async () => {
        const key = keyFor('unchanged')
        const value = valueFor('unchanged')
        const first = await writable().write(key, new SecretValue(value))
        const again = await writable().write(key, new SecretValue(value))
        expect(again).toEqual({ version: first.version, changed: false })
        expect((await store.read([{ key }]))[0]).toMatchObject({ version: first.version })
        const changed = await writable().write(key, new SecretValue(valueFor('changed')))
        expect(changed.changed).toBe(true)
        expect(changed.version).not.toBe(first.version)
      })

      it('does not write when the signal is already aborted', async () => {
        const key = keyFor('abort-write')
        const value = valueFor('abort-write')
        const version = await seed(key, value)
        const controller = new AbortController()
        controller.abort()
        const write = writable().write(key, new SecretValue(valueFor('not-written')), {
          signal: controller.signal,
        })
        await expect(write).rejects.toMatchObject({ name: 'AbortError' })
        expect((await store.read([{ key }]))[0]).toMatchObject({ ok: true, version })
      })

      it('deletes every version; a deleted or missing key reads as NotFound', async () => {
        const key = keyFor('deleted')
        const v1 = await seed(key, valueFor('deleted-1'))
        await seed(key, valueFor('deleted-2'))
        await writable().delete(key)
        await writable().delete(keyFor('never-existed'))
        const outcomes = await store.read([{ key }, { key, version: v1 }])
        for (const outcome of outcomes) expect(failureOf(outcome)).toBeInstanceOf(NotFoundError)
      })
    })

    it('never puts a seeded value in an error message, name or cause', async () => {
      // Its own failures too, so the case means something when run on its own.
      const key = keyFor('leak')
      await seed(key, valueFor('leak'))
      const outcomes = await store.read([
        { key: keyFor('leak-missing') },
        { key, version: fixture.unknownVersion },
      ])
      for (const outcome of outcomes) failureOf(outcome)
      const texts = errors.flatMap(function describeError(error: unknown): string[] {
        if (!(error instanceof Error)) return [String(error)]
        const own = [error.name, error.message, String(error), JSON.stringify(error) ?? '']
        return error.cause === undefined ? own : [...own, ...describeError(error.cause)]
      })
      for (const value of values) {
        for (const text of texts)
          expect(text.includes(value), `a message contains a value`).toBe(false)
      }
    })
  })
}
