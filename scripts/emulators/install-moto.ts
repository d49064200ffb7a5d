/**
 * Installs moto (the AWS emulator) into `.emu/venv-moto`. Run directly
 * (`node scripts/emulators/install-moto.ts`) or called by the test harness; a no-op when
 * the pinned version is already there.
 */
import { ensurePythonTool, type PythonTool } from './python-venv.ts'

/**
 * The pinned moto. 5.2.x serves BatchGetSecretValue (added in 5.0.x, 2024), EventBridge
 * delivery to SQS targets with `prefix` patterns, and DynamoDB transactions and TTL.
 */
export const MOTO_REQUIREMENT = 'moto[server]==5.2.5'

/** Installs moto if missing; resolves to the venv and the `moto_server` script. */
export function ensureMoto(): Promise<PythonTool> {
  return ensurePythonTool({
    venv: 'venv-moto',
    requirements: [MOTO_REQUIREMENT],
    bin: 'moto_server',
  })
}

if (import.meta.main) {
  const tool = await ensureMoto()
  process.stdout.write(
    `moto ${tool.installed ? 'installed' : 'already installed'}: ${tool.binPath}\n`,
  )
}
