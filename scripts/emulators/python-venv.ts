/**
 * Installs a Python tool into its own virtualenv under `.emu/` — once. Emulators and
 * linters from PyPI (moto, cfn-lint, checkov) each get a venv so their pins never clash
 * with each other or with the machine's Python.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'

/** The repository root (this file lives in `scripts/emulators/`). */
export const repoRoot = resolve(import.meta.dirname, '..', '..')

/** Where emulators and their tools are installed; git-ignored. */
export const emuDir = join(repoRoot, '.emu')

/** What to install and how to tell it is installed. */
export interface PythonToolSpec {
  /** The venv folder name under `.emu/`, e.g. `venv-moto`. */
  readonly venv: string
  /** pip requirement strings, pinned (`moto[server]==5.2.5`). */
  readonly requirements: readonly string[]
  /** The console script that must exist afterwards (`moto_server`). */
  readonly bin: string
}

/** Where an installed tool is. */
export interface PythonTool {
  readonly venvDir: string
  /** Absolute path of {@link PythonToolSpec.bin} inside the venv. */
  readonly binPath: string
  /** True when this call installed it, false when it was already there. */
  readonly installed: boolean
}

const MARKER = '.capbroker-requirements'
const LOCK_WAIT_MS = 15 * 60_000

/**
 * Makes sure the venv holds exactly the pinned requirements. Quick when it already does
 * (one small file read); otherwise prints one progress line and runs pip. Concurrent
 * callers (several test processes) serialise on a lock directory.
 */
export async function ensurePythonTool(spec: PythonToolSpec): Promise<PythonTool> {
  const venvDir = join(emuDir, spec.venv)
  const binPath = join(venvDir, 'bin', spec.bin)
  const wanted = spec.requirements.join('\n')
  if (await isInstalled(venvDir, binPath, wanted)) return { venvDir, binPath, installed: false }

  await mkdir(emuDir, { recursive: true })
  const lockDir = `${venvDir}.lock`
  await acquireLock(lockDir)
  try {
    // Someone else may have finished while we waited for the lock.
    if (await isInstalled(venvDir, binPath, wanted)) return { venvDir, binPath, installed: false }
    process.stderr.write(
      `emulators: installing ${spec.requirements.join(' ')} into ${relative(repoRoot, venvDir)} …\n`,
    )
    await rm(venvDir, { recursive: true, force: true })
    const python = process.env.PYTHON ?? 'python3'
    await run(python, ['-m', 'venv', venvDir])
    await run(join(venvDir, 'bin', 'python'), [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-input',
      ...spec.requirements,
    ])
    if (!existsSync(binPath))
      throw new Error(`pip installed ${spec.requirements.join(' ')} but ${binPath} is missing`)
    await writeFile(join(venvDir, MARKER), wanted)
    return { venvDir, binPath, installed: true }
  } finally {
    await rm(lockDir, { recursive: true, force: true })
  }
}

async function isInstalled(venvDir: string, binPath: string, wanted: string): Promise<boolean> {
  if (!existsSync(binPath)) return false
  const marker = await readFile(join(venvDir, MARKER), 'utf8').catch(() => undefined)
  return marker === wanted
}

/** mkdir is atomic: whoever creates the directory owns the install. A dead owner's lock is taken over. */
async function acquireLock(lockDir: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    try {
      await mkdir(lockDir)
      await writeFile(join(lockDir, 'pid'), String(process.pid))
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const owner = Number(await readFile(join(lockDir, 'pid'), 'utf8').catch(() => 'NaN'))
    if (Number.isInteger(owner) && !isAlive(owner)) {
      await rm(lockDir, { recursive: true, force: true })
      continue
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${lockDir} (another install running?)`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000)
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolvePromise()
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}\n${stderr}`))
    })
  })
}
