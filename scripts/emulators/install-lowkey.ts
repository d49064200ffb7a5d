/**
 * Installs Lowkey Vault (the Azure Key Vault emulator, a Spring Boot jar from Maven
 * Central) into `.emu/lowkey` with Maven. Run directly
 * (`node scripts/emulators/install-lowkey.ts`) or called by the test harness; a no-op
 * when the pinned jar is there. When the registry does not serve the jar, says why in
 * one line and remembers that for a day (the harness then uses its stand-in).
 */
import { existsSync } from 'node:fs'
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

/**
 * The pinned Lowkey Vault: 7.1.13, the newest release when pinned. Lowkey Vault 5 and
 * later need Java 25 (4.x ran on Java 21).
 */
export const LOWKEY_VERSION = '7.1.13'
const ARTIFACT = `com.github.nagyesta.lowkey-vault:lowkey-vault-app:${LOWKEY_VERSION}:jar`
/** The dependency plugin pinned too, so no registry metadata lookup is needed. */
const COPY_GOAL = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy'

const lowkeyDir = join(emuDir, 'lowkey')
/** Where the jar ends up. */
export const lowkeyJar = join(lowkeyDir, `lowkey-vault-app-${LOWKEY_VERSION}.jar`)
const refusalMarker = join(lowkeyDir, `.lowkey-vault-app-${LOWKEY_VERSION}.unavailable`)

/** The Java that runs it: `LOWKEY_JAVA`, else the Temurin 25 JDK of this machine image. */
export function lowkeyJava(): string {
  return process.env.LOWKEY_JAVA ?? '/usr/lib/jvm/temurin-25-jdk-amd64/bin/java'
}

/** Installs the jar if missing; never throws for a refused download. */
export async function ensureLowkeyVault(): Promise<InstallResult> {
  if (existsSync(lowkeyJar)) return { available: true, path: lowkeyJar, installed: false }
  const refused = await recentRefusal(refusalMarker)
  if (refused !== undefined) return { available: false, reason: refused }

  process.stderr.write(`emulators: mvn ${ARTIFACT} into ${relative(repoRoot, lowkeyDir)} …\n`)
  const { code, output } = await runCommand('mvn', [
    '-B',
    '-q',
    '-Dstyle.color=never',
    COPY_GOAL,
    `-Dartifact=${ARTIFACT}`,
    `-DoutputDirectory=${lowkeyDir}`,
  ])
  if (code !== 0 || !existsSync(lowkeyJar)) {
    const reason = `mvn failed: ${reasonFrom(output, /not found|could not|failed to|unable to/i)}`
    await recordRefusal(refusalMarker, reason)
    return { available: false, reason }
  }
  await clearRefusal(refusalMarker)
  return { available: true, path: lowkeyJar, installed: true }
}

if (import.meta.main) {
  const result = await ensureLowkeyVault()
  process.stdout.write(
    result.available
      ? `lowkey-vault ${result.installed ? 'installed' : 'already installed'}: ${result.path}\n`
      : `lowkey-vault unavailable: ${result.reason}\n`,
  )
}
