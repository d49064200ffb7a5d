/**
 * `npm run package` on this checkout, the way a fresh clone would run it: no AWS
 * credentials and no network (every proxy variable points at a closed loopback port).
 * Then the two template checkers the deployment promises to pass: cfn-lint and
 * checkov, with every skipped checkov check listed in infra/README.md, and the roles'
 * catalog-derived statements as infra/catalog-access.ts describes them.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCatalog } from '../../../broker/catalog/load.ts'
import { PACKAGED_CATALOG_JSON, PACKAGED_PROBLEMS } from '../../../functions/environment.ts'
import { describePackagedCatalog, type IamStatement } from '../../../infra/catalog-access.ts'
import { ensureCfnLint, ensureCheckov } from '../../../scripts/emulators/install-iac-tools.ts'
import { repoRoot } from '../../../scripts/emulators/python-venv.ts'
import { ROTATE_CHANGE_PATTERN } from '../aws/rotation-wiring.ts'
import { zipEntries } from './zip-entries.ts'

const FUNCTIONS = ['ingest', 'resolve', 'bindings', 'github', 'slack', 'notify', 'rotate'] as const
const TEMPLATE = 'cloudformation-template-update-stack.json'

interface Run {
  readonly code: number | null
  readonly output: string
}

/** Runs a command to completion, stdout and stderr interleaved into one string. */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}

/** This environment without AWS credentials or profiles, and without a way out. */
function offlineEnvironment(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')),
  )
  const closed = 'http://127.0.0.1:9'
  return {
    ...env,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    HTTP_PROXY: closed,
    HTTPS_PROXY: closed,
    http_proxy: closed,
    https_proxy: closed,
    NO_PROXY: '',
    no_proxy: '',
  }
}

/** The `| CKV_… | Resource, Resource | reason |` rows of infra/README.md, as check@resource. */
async function documentedSkips(): Promise<string[]> {
  const readme = await readFile(join(repoRoot, 'infra', 'README.md'), 'utf8')
  const skips: string[] = []
  for (const match of readme.matchAll(/^\| *(CKV2?_AWS_\d+) *\| *([^|]+?) *\|/gm)) {
    for (const resource of match[2]!.split(',')) skips.push(`${match[1]}@${resource.trim()}`)
  }
  return skips.sort()
}

describe('npm run package', () => {
  let outDir = ''
  let packaged: Run = { code: null, output: '' }
  let cfnLint = ''
  let checkov = ''

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'capbroker-package-'))
    const [cfnLintTool, checkovTool, result] = await Promise.all([
      ensureCfnLint(),
      ensureCheckov(),
      run('npm', ['run', 'package', '--', '--package', outDir], offlineEnvironment()),
    ])
    packaged = result
    cfnLint = cfnLintTool.binPath
    checkov = checkovTool.binPath
  })

  afterAll(async () => {
    if (outDir !== '') await rm(outDir, { recursive: true, force: true })
  })

  it('works offline and without AWS credentials: a template and one zip per function', () => {
    expect(packaged.code, packaged.output).toBe(0)
    expect(existsSync(join(outDir, TEMPLATE))).toBe(true)
    for (const name of FUNCTIONS) expect(existsSync(join(outDir, `${name}.zip`)), name).toBe(true)
  })

  it('puts the minified CommonJS handler, the catalog as JSON and the problem lister into every zip, and nothing else', async () => {
    for (const name of FUNCTIONS) {
      expect((await zipEntries(join(outDir, `${name}.zip`))).sort(), name).toEqual([
        PACKAGED_CATALOG_JSON,
        PACKAGED_PROBLEMS,
        `functions/${name}.cjs`,
      ])
    }
    // The JSON holds the example catalog, validated: what the YAML says, nothing else.
    const packagedJson = JSON.parse(await readFile(join(repoRoot, PACKAGED_CATALOG_JSON), 'utf8'))
    const yaml = await readFile(join(repoRoot, 'examples/aws/capbroker.yaml'), 'utf8')
    expect(packagedJson.catalog).toEqual(parseCatalog(yaml, 'capbroker.yaml').document)
  })

  it('derives the Secrets Manager statements of five roles from the packaged catalog', async () => {
    const template = JSON.parse(await readFile(join(outDir, TEMPLATE), 'utf8'))
    const derived = (role: string, policy: string): IamStatement[] =>
      template.Resources[role].Properties.Policies.find(
        (p: { PolicyName: string }) => p.PolicyName === policy,
      ).PolicyDocument.Statement
    const catalog = await describePackagedCatalog(repoRoot, {})
    expect(derived('ResolveRole', 'resolve-catalog-secrets')).toEqual(catalog.secretStatements)
    expect(derived('NotifyRole', 'notify-catalog-secrets')).toEqual(catalog.secretStatements)
    expect(derived('RotateRole', 'rotate-catalog-secrets')).toEqual(catalog.secretStatements)
    expect(derived('GithubRole', 'github-catalog-secrets')).toEqual(catalog.githubSecretStatements)
    expect(derived('SlackRole', 'slack-signing-secret')).toEqual(catalog.slackSecretStatements)
    // The example catalog has git.repos and chatops.slack: the trigger roles read secrets.
    for (const role of ['GithubRole', 'SlackRole'])
      expect(JSON.stringify(template.Resources[role]), role).toContain(
        'secretsmanager:GetSecretValue',
      )
  })

  it('wires rotate: the schedule at CAPBROKER_REFRESH_EVERY, changes from the default bus', async () => {
    const template = JSON.parse(await readFile(join(outDir, TEMPLATE), 'utf8'))
    type Rule = {
      Type: string
      Properties: {
        ScheduleExpression?: string
        EventPattern?: unknown
        EventBusName?: unknown
        Targets: { Arn: unknown; DeadLetterConfig?: unknown }[]
      }
    }
    const rules = Object.values<Rule>(template.Resources).filter(
      (r) =>
        r.Type === 'AWS::Events::Rule' &&
        JSON.stringify(r.Properties.Targets).includes('RotateLambdaFunction'),
    )
    const variables = template.Resources.RotateLambdaFunction.Properties.Environment.Variables
    const minutes = /^(\d+)m$/.exec(variables.CAPBROKER_REFRESH_EVERY)?.[1]
    expect(minutes, variables.CAPBROKER_REFRESH_EVERY).toBeDefined()
    const schedule = rules.filter((r) => r.Properties.ScheduleExpression !== undefined)
    expect(schedule.map((r) => r.Properties.ScheduleExpression)).toEqual([
      `rate(${minutes} minutes)`,
    ])
    const changes = rules.filter((r) => r.Properties.EventPattern !== undefined)
    expect(changes.map((r) => r.Properties.EventPattern)).toEqual([ROTATE_CHANGE_PATTERN])
    expect(changes[0]!.Properties.EventBusName).toBeUndefined() // the default bus
    expect(changes[0]!.Properties.Targets[0]!.DeadLetterConfig).toEqual({
      Arn: { 'Fn::GetAtt': ['RotateDeadLetterQueue', 'Arn'] },
    })
    expect(template.Resources.RotateLambdaFunction.Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': ['RotateDeadLetterQueue', 'Arn'] },
    })
    // The functions that record bindings name the generated digest key.
    const name = template.Resources.CapbrokerDigestKey.Properties.Name
    for (const fn of ['Resolve', 'Notify', 'Rotate'])
      expect(
        template.Resources[`${fn}LambdaFunction`].Properties.Environment.Variables
          .CAPBROKER_DIGEST_KEY_SECRET,
        fn,
      ).toBe(name)
  })

  it('has no policy without a statement and no statement without a resource', async () => {
    const template = JSON.parse(await readFile(join(outDir, TEMPLATE), 'utf8'))
    type Policy = { PolicyName: string; PolicyDocument: { Statement: IamStatement[] } }
    type Resource = { Type: string; Properties: { Policies?: Policy[] } }
    for (const [name, resource] of Object.entries<Resource>(template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue
      for (const policy of resource.Properties.Policies ?? []) {
        const statements = policy.PolicyDocument.Statement
        expect(statements.length, `${name} ${policy.PolicyName}`).toBeGreaterThan(0)
        for (const statement of statements)
          expect([statement.Resource].flat().length, `${name} ${statement.Sid}`).toBeGreaterThan(0)
      }
    }
  })

  it('passes cfn-lint with no error and no warning', async () => {
    const lint = await run(cfnLint, ['--', join(outDir, TEMPLATE)], offlineEnvironment())
    expect(lint.code, lint.output).toBe(0)
  })

  it('passes checkov; each skipped check is on its resource and in infra/README.md', async () => {
    const scan = await run(
      checkov,
      [
        '-f',
        join(outDir, TEMPLATE),
        '--framework',
        'cloudformation',
        '--skip-download',
        '-o',
        'json',
      ],
      offlineEnvironment(),
    )
    const start = scan.output.indexOf('{')
    expect(start, scan.output).toBeGreaterThanOrEqual(0)
    const report = JSON.parse(scan.output.slice(start, scan.output.lastIndexOf('}') + 1)) as {
      summary: { failed: number; parsing_errors: number }
      results: {
        failed_checks: { check_id: string; check_name: string; resource: string }[]
        skipped_checks: { check_id: string; resource: string }[]
      }
    }
    const failed = report.results.failed_checks.map(
      (c) => `${c.check_id} ${c.resource}: ${c.check_name}`,
    )
    expect(failed).toEqual([])
    expect(report.summary.parsing_errors).toBe(0)
    expect(scan.code, scan.output.slice(0, 2000)).toBe(0)
    const skipped = report.results.skipped_checks
      .map((c) => `${c.check_id}@${c.resource.split('.').pop()}`)
      .sort()
    expect(skipped).toEqual(await documentedSkips())
  })
})
