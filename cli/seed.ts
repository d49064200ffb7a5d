/**
 * First run: put the example values into the local store so the walkthrough resolves.
 * Only keys that are not there yet are written — a value someone set is never replaced.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse } from 'yaml'
import { isWritable } from '../broker/ports.ts'
import { SecretValue } from '../broker/secret-value.ts'
import type { EmbeddedRuntime } from '../server/runtime.ts'
import { EXAMPLES_DIR } from './catalog-file.ts'

/** Writes the example secrets that are missing; returns the keys written. */
export async function seedExampleSecrets(runtime: EmbeddedRuntime): Promise<string[]> {
  const seed = parse(readFileSync(resolve(EXAMPLES_DIR, 'secrets.yaml'), 'utf8')) as Record<
    string,
    unknown
  >
  const store = await runtime.stores.get('local')
  if (!isWritable(store)) return []
  const keys = Object.keys(seed)
  const existing = await store.read(keys.map((key) => ({ key })))
  const written: string[] = []
  for (const [i, key] of keys.entries()) {
    if (existing[i]?.ok) continue
    const value = seed[key]
    await store.write(
      key,
      new SecretValue(typeof value === 'string' ? value : JSON.stringify(value)),
    )
    written.push(key)
  }
  return written
}
