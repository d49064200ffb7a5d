/**
 * What the GCP and Azure emulator installers share: where `.emu/` is, running an
 * installer command, and remembering a registry's refusal for a day, so a machine whose
 * registry does not serve an emulator does not pay for the failed download on every run.
 */
import { spawn } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'

/** The repository root (this file lives in `scripts/emulators/`). */
export const repoRoot = resolve(import.meta.dirname, '..', '..')

/** Where emulators are installed; git-ignored. */
export const emuDir = join(repoRoot, '.emu')

/** An emulator that is there, or why it is not. */
export type InstallResult =
  | { readonly available: true; readonly path: string; readonly installed: boolean }
  | { readonly available: false; readonly reason: string }

const REFUSAL_TTL_MS = 24 * 60 * 60_000

/** A recorded refusal younger than a day, unless `CAPBROKER_EMU_RETRY=1`. */
export async function recentRefusal(marker: string): Promise<string | undefined> {
  if (process.env.CAPBROKER_EMU_RETRY === '1') return undefined
  const text = await readFile(marker, 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  const { at, reason } = JSON.parse(text) as { at: number; reason: string }
  return Date.now() - at < REFUSAL_TTL_MS ? reason : undefined
}

/** Records a refusal (see {@link recentRefusal}). */
export async function recordRefusal(marker: string, reason: string): Promise<void> {
  await mkdir(dirname(marker), { recursive: true })
  await writeFile(marker, JSON.stringify({ at: Date.now(), reason }))
}

/** Forgets a refusal once the emulator is installed. */
export function clearRefusal(marker: string): Promise<void> {
  return rm(marker, { force: true })
}

/** Runs a command; resolves with its exit code and the tail of its output. */
export function runCommand(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    })
    let output = ''
    const keep = (chunk: string) => {
      output = (output + chunk).slice(-8000)
    }
    child.stdout.setEncoding('utf8').on('data', keep)
    child.stderr.setEncoding('utf8').on('data', keep)
    child.on('error', (error) => resolvePromise({ code: -1, output: error.message }))
    child.on('close', (code) => resolvePromise({ code: code ?? -1, output }))
  })
}

/** The first line of `output` that matches `pattern`, else its last non-empty line. */
export function reasonFrom(output: string, pattern: RegExp): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  const plain = output.replace(/\u001b\[[0-9;]*m/g, '')
  const lines = plain
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  return (lines.find((l) => pattern.test(l)) ?? lines.at(-1) ?? 'no output').slice(0, 300)
}
