/**
 * What each provider's SDK costs to load, as the embedded runtime loads it (from
 * node_modules, on first use of a store of that kind): a fresh `node` process imports
 * the client and constructs it, and reports how long after process start that was
 * done. The variants answer the question by measurement — does a lighter
 * transport (GCP's REST fallback instead of gRPC) or a lighter credential (a token
 * credential instead of @azure/identity's DefaultAzureCredential) load faster?
 */
import { spawnSync } from 'node:child_process'
import type { SuiteContext, SuiteResult } from '../lib/report.ts'
import { median, ms } from '../lib/stats.ts'

interface Probe {
  readonly id: string
  readonly label: string
  readonly code: string
}

const PROBES: readonly Probe[] = [
  { id: 'node', label: 'node, nothing imported', code: '' },
  { id: 'https', label: 'node:https', code: "await import('node:https')" },
  {
    id: 'aws',
    label: 'AWS: SecretsManagerClient (SDK v3, which the AWS adapters no longer use)',
    code: "const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager'); new SecretsManagerClient({ region: 'eu-west-1' })",
  },
  {
    id: 'gcp-grpc',
    label: 'GCP: SecretManagerServiceClient (gRPC, as the adapter builds it)',
    code: "const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager'); new SecretManagerServiceClient({ projectId: 'bench' })",
  },
  {
    id: 'gcp-rest',
    label: 'GCP: SecretManagerServiceClient, fallback: true (REST)',
    code: "const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager'); new SecretManagerServiceClient({ projectId: 'bench', fallback: true })",
  },
  {
    id: 'azure-default',
    label: 'Azure: SecretClient + DefaultAzureCredential (as the adapter builds it)',
    code: "const { SecretClient } = await import('@azure/keyvault-secrets'); const { DefaultAzureCredential } = await import('@azure/identity'); new SecretClient('https://bench.vault.azure.net', new DefaultAzureCredential())",
  },
  {
    id: 'azure-token',
    label: 'Azure: SecretClient + a plain TokenCredential (no @azure/identity)',
    code: "const { SecretClient } = await import('@azure/keyvault-secrets'); new SecretClient('https://bench.vault.azure.net', { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600000 }) })",
  },
]

function once(root: string, code: string): number {
  const script = `${code}\nawait new Promise((r) => setImmediate(r))\nprocess.stdout.write(String(performance.now()))`
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
  })
  if (run.status !== 0) throw new Error(`SDK probe failed: ${run.stderr}`)
  return Number(run.stdout)
}

/** Times every probe, interleaved, and reports medians. */
export async function sdkLoadSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const runs = ctx.quick ? 3 : 15
  const samples = new Map<string, number[]>(PROBES.map((p) => [p.id, []]))
  for (let i = 0; i < runs; i++)
    for (const probe of PROBES) samples.get(probe.id)?.push(once(ctx.root, probe.code))
  const node = median(samples.get('node') ?? [])
  const rows = PROBES.map((p) => {
    const ready = median(samples.get(p.id) ?? [])
    return [p.label, ms(ready), ms(ready - node)]
  })
  return {
    checks: [],
    sections: [
      {
        title: 'Provider SDKs: load and construct',
        what: `Each probe is a fresh \`node\` process that imports one SDK from node_modules (as the embedded runtime does on first use of a GCP or Azure store) and constructs its client; the AWS adapters talk to AWS through their own JSON-protocol client instead (\`ref-json-client\` in the cold-start section), and the SDK client's row shows what that saves; the figure is the median over ${runs} interleaved runs of the time from process start until that was done, and the same minus a bare \`node\` process. No call leaves the process.`,
        tables: [{ table: { header: ['client', 'ready (ms)', 'over bare node (ms)'], rows } }],
        command: 'npm run bench -- --only sdk-load',
      },
    ],
  }
}
