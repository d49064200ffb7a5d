/**
 * Installs the CloudFormation checkers, cfn-lint and checkov, each into its own venv
 * under `.emu/` (checkov pins dozens of libraries; keeping it apart from cfn-lint means
 * neither can break the other). Run directly (`node scripts/emulators/install-iac-tools.ts`)
 * or called by the IaC test; a no-op when the pinned versions are already there.
 */
import { ensurePythonTool, type PythonTool } from './python-venv.ts'

/** The pinned cfn-lint: the AWS-maintained CloudFormation linter (resource specs of its release). */
export const CFN_LINT_REQUIREMENT = 'cfn-lint==1.58.0'

/** The pinned checkov: policy-as-code checks (encryption, least privilege, logging). */
export const CHECKOV_REQUIREMENT = 'checkov==3.3.30'

/** Installs cfn-lint if missing; resolves to its venv and the `cfn-lint` script. */
export function ensureCfnLint(): Promise<PythonTool> {
  return ensurePythonTool({
    venv: 'venv-cfn-lint',
    requirements: [CFN_LINT_REQUIREMENT],
    bin: 'cfn-lint',
  })
}

/** Installs checkov if missing; resolves to its venv and the `checkov` script. */
export function ensureCheckov(): Promise<PythonTool> {
  return ensurePythonTool({
    venv: 'venv-checkov',
    requirements: [CHECKOV_REQUIREMENT],
    bin: 'checkov',
  })
}

if (import.meta.main) {
  for (const tool of await Promise.all([ensureCfnLint(), ensureCheckov()])) {
    process.stdout.write(`${tool.installed ? 'installed' : 'already installed'}: ${tool.binPath}\n`)
  }
}
