/** Shared helpers for the service-binding sink tests: temp roots and bindings. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Binding } from '../../../../broker/ports.ts'
import { SecretValue } from '../../../../broker/secret-value.ts'

/** A fresh temp directory and the function that deletes it. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A binding with the given entries, every value a SecretValue. */
export function binding(
  name: string,
  entries: Record<string, string>,
  type = 'postgresql',
  provider = 'local',
): Binding {
  return {
    name,
    type,
    provider,
    entries: new Map(Object.entries(entries).map(([k, v]) => [k, new SecretValue(v)])),
    secretEntries: Object.keys(entries).filter((k) => k === 'password'),
  }
}
