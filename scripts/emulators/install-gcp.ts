/**
 * Installs the GCP Secret Manager emulator (blackwell-systems/gcp-secret-manager-emulator,
 * gRPC) into `.emu/bin` with `go install`. Run directly
 * (`node scripts/emulators/install-gcp.ts`) or called by the test harness; a no-op when
 * the pinned version is there. When the Go module proxy does not serve it, says why in
 * one line and remembers that for a day (the harness then uses its stand-in).
 */
import { existsSync } from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import {
  clearRefusal,
  emuDir,
  type InstallResult,
  reasonFrom,
  recentRefusal,
  recordRefusal,
  repoRoot,
  runCommand,
} from './emulator-install.ts'

/** The pinned emulator: v1.3.0 serves the v1 gRPC API on `--port`. */
export const GCP_EMULATOR_MODULE =
  'github.com/blackwell-systems/gcp-secret-manager-emulator/cmd/server@v1.3.0'

const binDir = join(emuDir, 'bin')
/** Where the emulator binary ends up (`go install` names it `server`; renamed to say what it is). */
export const gcpEmulatorBinary = join(binDir, 'gcp-secret-manager-emulator')
const versionMarker = `${gcpEmulatorBinary}.version`
const refusalMarker = join(binDir, '.gcp-secret-manager-emulator.unavailable')

/** Installs the emulator if missing; never throws for a refused download. */
export async function ensureGcpEmulator(): Promise<InstallResult> {
  const pinned = await readFile(versionMarker, 'utf8').catch(() => undefined)
  if (existsSync(gcpEmulatorBinary) && pinned === GCP_EMULATOR_MODULE)
    return { available: true, path: gcpEmulatorBinary, installed: false }
  const refused = await recentRefusal(refusalMarker)
  if (refused !== undefined) return { available: false, reason: refused }

  process.stderr.write(
    `emulators: go install ${GCP_EMULATOR_MODULE} into ${relative(repoRoot, binDir)} …\n`,
  )
  const { code, output } = await runCommand('go', ['install', GCP_EMULATOR_MODULE], {
    GOBIN: binDir,
  })
  if (code !== 0 || !existsSync(join(binDir, 'server'))) {
    const reason = `go install failed: ${reasonFrom(output, /forbidden|not available|not found|error/i)}`
    await recordRefusal(refusalMarker, reason)
    return { available: false, reason }
  }
  await rename(join(binDir, 'server'), gcpEmulatorBinary)
  await writeFile(versionMarker, GCP_EMULATOR_MODULE)
  await clearRefusal(refusalMarker)
  return { available: true, path: gcpEmulatorBinary, installed: true }
}

if (import.meta.main) {
  const result = await ensureGcpEmulator()
  process.stdout.write(
    result.available
      ? `gcp-secret-manager-emulator ${result.installed ? 'installed' : 'already installed'}: ${result.path}\n`
      : `gcp-secret-manager-emulator unavailable: ${result.reason}\n`,
  )
}
