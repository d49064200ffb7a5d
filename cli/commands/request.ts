/** `capbroker request`: send a manifest, print the outcome per capability. */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { normalizeRequest } from '../../broker/manifest.ts'
import { parseManifestText } from '../../broker/manifest-text.ts'
import { buildEvent, type CapabilityOutcome, EventTypes } from '../../events/index.ts'
import { type OutcomeBody, outcomeBody } from '../../server/views.ts'
import { type HomeOptions, loadRuntime, logger, table } from '../context.ts'
import { UsageError } from '../errors.ts'
import { HttpAnswerError, postJson, serverUrl } from '../http-client.ts'

interface RequestOptions extends HomeOptions {
  readonly file: string
  readonly app: string
  readonly env: string
  readonly server?: string
  readonly json?: boolean
  readonly id?: string
}

type Outcome = OutcomeBody

/** Exit codes of `request`: 0 ready, 1 failed, 3 denied (2 is bad input). */
export const REQUEST_EXIT = { resolved: 0, failed: 1, denied: 3, 'in-progress': 4 } as const

/** Registers `request`. */
export function registerRequest(program: Command): void {
  program
    .command('request')
    .description('send a manifest (capabilities list or Score workload) and print the outcome')
    .requiredOption('-f, --file <manifest>', 'capabilities.yaml or score.yaml')
    .requiredOption('-a, --app <app>', 'the application asking')
    .requiredOption('-e, --env <environment>', 'the environment to resolve for')
    .option('-s, --server <url>', 'a running capbroker (default: resolve in this process)')
    .option('--id <id>', 'the CloudEvent id (default: random; reuse one to see idempotency)')
    .option('--json', 'print the outcome as JSON')
    .option('-c, --catalog <file>', 'catalog file, when resolving in this process')
    .option('--home <dir>', 'state directory, when resolving in this process')
    .addHelpText(
      'after',
      `
Examples:
  $ capbroker request -f examples/capabilities.yaml --app checkout --env dev
  $ capbroker request -f score.yaml --app checkout --env dev --server http://127.0.0.1:7777
  $ capbroker request -f score.yaml -a checkout -e dev --json | jq '.capabilities[].status'

Exit status: 0 every capability ready, 1 at least one failed, 2 bad input, 3 denied by policy,
4 another worker is still processing the same --id.`,
    )
    .action(request)
}

function buildRequest(options: RequestOptions) {
  let text: string
  try {
    text = readFileSync(options.file, 'utf8')
  } catch (error) {
    throw new UsageError(
      `cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    )
  }
  const body = parseManifestText(text, options.file)
  const data = { app: options.app, environment: options.env, ...body }
  const event = buildEvent(
    EventTypes.requested,
    {
      id: options.id ?? randomUUID(),
      source: `/apps/${options.app}`,
      time: new Date().toISOString(),
    },
    data,
  )
  normalizeRequest(event.data)
  return event
}

async function request(options: RequestOptions): Promise<void> {
  const event = buildRequest(options)
  let outcome: Outcome
  if (options.server) {
    outcome = await send(new URL('/events?wait=true', serverUrl(options.server)), event)
  } else {
    const { runtime } = await loadRuntime(options, logger())
    try {
      outcome = outcomeBody(event, await runtime.broker.handle(event))
    } finally {
      await runtime.close()
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`)
  else process.stdout.write(`${describe(outcome)}\n`)
  process.exitCode = REQUEST_EXIT[outcome.status]
}

/** Sends to a running server; its 409 (same id in progress) is an outcome, not an error. */
async function send(url: URL, event: { id: string; source: string }): Promise<Outcome> {
  try {
    return (await postJson(url, event, 'application/cloudevents+json')) as Outcome
  } catch (error) {
    if (!(error instanceof HttpAnswerError) || error.status !== 409) throw error
    return {
      id: event.id,
      source: event.source,
      status: 'in-progress',
      duplicate: true,
      capabilities: [],
      events: [],
    }
  }
}

function detail(c: CapabilityOutcome): string {
  if (c.status === 'ready') return `${c.key}@${c.version} → ${c.entries?.join(', ')}`
  return c.reason ? `${c.reason.code}: ${c.reason.message}` : ''
}

function describe(outcome: Outcome): string {
  if (outcome.status === 'in-progress') {
    return `request ${outcome.id} is being processed by another worker; run the same command again shortly`
  }
  const count = (s: string) => outcome.capabilities.filter((c) => c.status === s).length
  const lines = [
    `${outcome.status}${outcome.duplicate ? ' (already processed: recorded outcome)' : ''} — ${count('ready')} ready, ${count('failed')} failed, ${count('denied')} denied`,
    '',
    ...(outcome.reason ? [`${outcome.reason.code}: ${outcome.reason.message}`, ''] : []),
    table(
      ['NAME', 'TYPE', 'STATUS', 'PROVIDER', 'DETAIL'],
      outcome.capabilities.map((c) => [c.name, c.type, c.status, c.provider ?? '-', detail(c)]),
    ),
  ]
  if (outcome.retryable) {
    lines.push('', 'the failures were transient: send the same request again (same --id) to retry')
  }
  if ('bindings' in outcome && outcome.bindings) {
    lines.push(
      '',
      `bindings: ${outcome.bindings.sink} ${outcome.bindings.location}${outcome.bindings.version ? ` (version ${outcome.bindings.version})` : ''}`,
    )
  }
  return lines.join('\n')
}
