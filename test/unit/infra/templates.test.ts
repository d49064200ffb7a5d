/**
 * serverless.yml and infra/*.yml against the code they deploy: the table the DynamoDB
 * adapter expects, the event type resolve handles, the variables the functions read,
 * the chat queue notify consumes. The fragments use long-form intrinsics only, so a
 * plain YAML parser reads them.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { stateTableDefinition, TTL_ATTRIBUTE } from '../../../adapters/dynamodb/table.ts'
import { EventTypes } from '../../../events/index.ts'
import { DIGEST_KEY_VARIABLE, MIN_DIGEST_KEY_LENGTH } from '../../../functions/digest-key.ts'
import { refreshPeriodMs } from '../../../functions/rotate.ts'
import { repoRoot } from '../../../scripts/emulators/python-venv.ts'
import { ROTATE_CHANGE_PATTERN } from '../../emulators/aws/rotation-wiring.ts'

// biome-ignore lint/suspicious/noExplicitAny: YAML documents are checked field by field
const load = (path: string): any => parse(readFileSync(join(repoRoot, path), 'utf8'))

/** `${self:custom.<name>}` as written in serverless.yml. */
const custom = (name: string) => `\${self:custom.${name}}`

/** A function's source and the functions/ modules it imports, which may read its variables. */
function functionSources(name: string): string {
  const seen = new Set<string>()
  const read = (file: string): string => {
    if (seen.has(file)) return ''
    seen.add(file)
    const source = readFileSync(join(repoRoot, 'functions', file), 'utf8')
    const local = [...source.matchAll(/from '\.\/([\w-]+\.ts)'/g)].map((m) => m[1]!)
    return [source, ...local.map(read)].join('\n')
  }
  return read(`${name}.ts`)
}

type Statement = { Sid: string; Effect: string; Action: string | string[]; Resource: unknown }
type Role = {
  Properties: { Policies: { PolicyName: string; PolicyDocument: { Statement: unknown } }[] }
}

/** The statements a role declares in infra/iam.yml (not those derived from the catalog). */
function declaredStatements(role: Role): Statement[] {
  return role.Properties.Policies.flatMap(({ PolicyDocument }) =>
    Array.isArray(PolicyDocument.Statement) ? (PolicyDocument.Statement as Statement[]) : [],
  )
}

/** Every action a role may take on a resource, by the resource's JSON. */
function actionsOn(role: Role, resource: unknown): string[] {
  return declaredStatements(role)
    .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource) === JSON.stringify(resource))
    .flatMap((s) => [s.Action].flat())
}

describe('infra/state-table.yml', () => {
  const table = load('infra/state-table.yml').Resources.CapbrokerStateTable

  it('declares exactly the keys and billing of stateTableDefinition', () => {
    const { TableName: _name, ...definition } = stateTableDefinition('any')
    const { AttributeDefinitions, KeySchema, BillingMode } = table.Properties
    expect({ AttributeDefinitions, KeySchema, BillingMode }).toEqual(definition)
  })

  it('expires rows on the adapter TTL attribute, keeps backups and encrypts', () => {
    expect(table.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: TTL_ATTRIBUTE,
      Enabled: true,
    })
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: true,
    })
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true })
  })
})

describe('serverless.yml', () => {
  const service = load('serverless.yml')

  it('runs resolve for requested events of the custom bus, dead-lettering what fails', () => {
    const [{ eventBridge }] = service.functions.resolve.events
    expect(eventBridge.eventBus).toEqual({ Ref: 'CapbrokerEventBus' })
    expect(eventBridge.pattern).toEqual({ 'detail-type': [EventTypes.requested] })
    expect(eventBridge.deadLetterQueueArn).toEqual({
      'Fn::GetAtt': ['ResolveDeadLetterQueue', 'Arn'],
    })
    expect(service.functions.resolve.onError).toEqual(eventBridge.deadLetterQueueArn)
  })

  it('gives every function its own role from infra/iam.yml', () => {
    const roles = Object.keys(load('infra/iam.yml').Resources)
    for (const [name, fn] of Object.entries<{ role: string }>(service.functions)) {
      expect(roles, name).toContain(fn.role)
    }
    expect(
      new Set(Object.values<{ role: string }>(service.functions).map((f) => f.role)).size,
    ).toBe(Object.keys(service.functions).length)
  })

  it('gives each role the log group of its own function', () => {
    const roles = load('infra/iam.yml').Resources
    for (const [name, fn] of Object.entries<{ role: string }>(service.functions)) {
      const statements = roles[fn.role].Properties.Policies[0].PolicyDocument.Statement
      const logs = statements.find((s: { Sid: string }) => s.Sid === 'OwnLogs')
      const group = `${name[0]?.toUpperCase()}${name.slice(1)}LogGroup`
      expect(logs.Resource, name).toEqual({ 'Fn::GetAtt': [group, 'Arn'] })
    }
  })

  it('authorizes every HTTP route with IAM except the two trigger routes, which verify signatures', () => {
    const routes = Object.values<{
      events: { httpApi?: { path: string; authorizer?: unknown } }[]
    }>(service.functions)
      .flatMap((fn) => fn.events.map((e) => e.httpApi))
      .filter((route) => route !== undefined)
    const open = routes.filter((r) => r.authorizer === undefined).map((r) => r.path)
    expect(open.sort()).toEqual(['/chatops/slack', '/webhooks/github'])
    for (const route of routes.filter((r) => r.authorizer !== undefined))
      expect(route.authorizer, route.path).toEqual({ type: 'aws_iam' })
  })

  it('sets function-level variables only where the function reads them', () => {
    for (const [name, fn] of Object.entries<{ environment?: object }>(service.functions)) {
      const source = functionSources(name)
      for (const variable of Object.keys(fn.environment ?? {}))
        expect(
          source.includes(`'${variable}'`) || source.includes(`env.${variable}`),
          `${name} reads ${variable}`,
        ).toBe(true)
    }
    expect(service.functions.slack.environment).toEqual({
      CAPBROKER_CHAT_QUEUE_URL: { Ref: 'ChatQueue' },
    })
  })

  it('sets the variables functions/environment.ts reads, and no test-only endpoint', () => {
    expect(Object.keys(service.provider.environment).sort()).toEqual([
      'CAPBROKER_CATALOG',
      'CAPBROKER_EVENT_BUS',
      'CAPBROKER_STATE_TABLE',
    ])
  })

  it('names the bus the rule ARN of the dead-letter queue policy expects', () => {
    const policy = load('infra/dead-letter-queue.yml').Resources.ResolveDeadLetterQueuePolicy
    const [allow] = policy.Properties.PolicyDocument.Statement
    const arn = allow.Condition.ArnEquals['aws:SourceArn']['Fn::Join'][1].join('')
    // biome-ignore lint/suspicious/noTemplateCurlyInString: serverless.yml variables, not JS
    const rule = '${self:custom.resolveRuleName}'
    expect(arn).toContain(`:rule/\${self:custom.eventBusName}/${rule}`)
    expect(service.functions.resolve.events[0].eventBridge.name).toBe(rule)
  })
})

describe('the chat queue (slack → notify)', () => {
  const service = load('serverless.yml')
  const queues = load('infra/chat-queue.yml').Resources
  const queue = queues.ChatQueue.Properties
  const notify = service.functions.notify

  it('feeds notify one job at a time, with partial batch failures', () => {
    expect(notify.events).toEqual([
      {
        sqs: {
          arn: { 'Fn::GetAtt': ['ChatQueue', 'Arn'] },
          batchSize: 1,
          functionResponseType: 'ReportBatchItemFailures',
        },
      },
    ])
  })

  it('hides a job for at least 6 × notify timeout and drops it when its response_url expired', () => {
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * notify.timeout)
    expect(queue.MessageRetentionPeriod).toBeLessThanOrEqual(30 * 60)
  })

  it('dead-letters a job after a few tries into a queue that outlives its retention', () => {
    expect(queue.RedrivePolicy.deadLetterTargetArn).toEqual({
      'Fn::GetAtt': ['ChatDeadLetterQueue', 'Arn'],
    })
    expect(queue.RedrivePolicy.maxReceiveCount).toBeLessThanOrEqual(
      Math.floor(queue.MessageRetentionPeriod / queue.VisibilityTimeout),
    )
    // SQS keeps a moved message's first enqueue time: a shorter retention drops it on arrival.
    const dlq = queues.ChatDeadLetterQueue.Properties
    expect(dlq.MessageRetentionPeriod).toBeGreaterThan(queue.MessageRetentionPeriod)
    // Only the chat queue may use it (its ARN by name, since a GetAtt would be circular).
    expect(dlq.RedriveAllowPolicy.redrivePermission).toBe('byQueue')
    expect(dlq.RedriveAllowPolicy.sourceQueueArn[0]['Fn::Join'][1].at(-1)).toBe(
      `:${queue.QueueName}`,
    )
  })

  it('encrypts both queues and lets only slack send and only notify receive', () => {
    expect(queue.SqsManagedSseEnabled).toBe(true)
    expect(queues.ChatDeadLetterQueue.Properties.SqsManagedSseEnabled).toBe(true)
    const roles = load('infra/iam.yml').Resources
    const onChatQueue: Record<string, string[]> = {}
    for (const [role, { Properties }] of Object.entries<{
      Properties: { Policies: { PolicyDocument: { Statement: unknown } }[] }
    }>(roles)) {
      for (const { PolicyDocument } of Properties.Policies) {
        if (!Array.isArray(PolicyDocument.Statement)) continue // derived from the catalog
        for (const s of PolicyDocument.Statement)
          if (JSON.stringify(s.Resource).includes('ChatQueue'))
            onChatQueue[role] = [s.Action].flat()
      }
    }
    expect(onChatQueue).toEqual({
      SlackRole: ['sqs:SendMessage'],
      NotifyRole: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
    })
  })
})

describe('rotate (bindings follow their secrets)', () => {
  const service = load('serverless.yml')
  const rotate = service.functions.rotate
  const roles = load('infra/iam.yml').Resources
  const table = { 'Fn::GetAtt': ['CapbrokerStateTable', 'Arn'] }
  const digestKey = { Ref: 'CapbrokerDigestKey' }
  const dlq = { 'Fn::GetAtt': ['RotateDeadLetterQueue', 'Arn'] }

  it('fires the schedule at the rate CAPBROKER_REFRESH_EVERY tells rotate, from one value', () => {
    const schedules = rotate.events.filter((e: object) => 'schedule' in e)
    expect(schedules).toHaveLength(1)
    const [{ schedule }] = schedules
    const minutes = custom('rotateEveryMinutes')
    expect(schedule.rate).toEqual([`rate(${minutes} minutes)`])
    expect(rotate.environment.CAPBROKER_REFRESH_EVERY).toBe(`${minutes}m`)
    // As osls resolves them: a valid rate (plural needs 2 or more), the same period.
    const n = service.custom.rotateEveryMinutes
    expect(Number.isInteger(n) && n >= 2, `rotateEveryMinutes ${n}`).toBe(true)
    expect(refreshPeriodMs({ CAPBROKER_REFRESH_EVERY: `${n}m` })).toBe(n * 60_000)
    // A sweep must end before the next one starts.
    expect(rotate.timeout).toBeLessThan(n * 60)
  })

  it('takes Secrets Manager changes from the default bus, with the pattern the emulator test uses', () => {
    const rules = rotate.events.filter((e: object) => 'eventBridge' in e)
    expect(rules).toHaveLength(1)
    const [{ eventBridge }] = rules
    // No eventBus: the account's default bus, where CloudTrail delivers.
    expect(eventBridge.eventBus).toBeUndefined()
    expect(eventBridge.name).toBe(custom('rotateChangeRuleName'))
    expect(eventBridge.pattern).toEqual(ROTATE_CHANGE_PATTERN)
  })

  it('retries an asynchronous invocation twice, then dead-letters it, as does the change rule', () => {
    expect(rotate.maximumRetryAttempts).toBe(2)
    expect(rotate.onError).toEqual(dlq)
    const [{ eventBridge }] = rotate.events.filter((e: object) => 'eventBridge' in e)
    expect(eventBridge.deadLetterQueueArn).toEqual(dlq)
    const policy = load('infra/rotate-dead-letter-queue.yml').Resources.RotateDeadLetterQueuePolicy
    const [allow] = policy.Properties.PolicyDocument.Statement
    expect(allow.Principal).toEqual({ Service: 'events.amazonaws.com' })
    const arn = allow.Condition.ArnEquals['aws:SourceArn']['Fn::Join'][1].join('')
    // A rule of the default bus: `rule/<name>`, no bus in between.
    expect(arn.endsWith(`:rule/${eventBridge.name}`)).toBe(true)
    // Lambda's own DLQ delivery runs as the function's role.
    expect(actionsOn(roles.RotateRole, dlq)).toEqual(['sqs:SendMessage'])
  })

  it('gives RotateRole what a refresh calls, and the catalog secrets of resolve', () => {
    const role = roles.RotateRole
    // findBindings: Query + GetItem (+ DeleteItem of stale pointers); updateBinding and
    // the audit: PutItem. No Scan, no UpdateItem.
    expect(actionsOn(role, table).sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ])
    expect(actionsOn(role, { 'Fn::GetAtt': ['CapbrokerEventBus', 'Arn'] })).toEqual([
      'events:PutEvents',
    ])
    expect(actionsOn(role, digestKey)).toEqual(['secretsmanager:GetSecretValue'])
    const derived = (r: Role) =>
      r.Properties.Policies.filter((p) => !Array.isArray(p.PolicyDocument.Statement)).map(
        (p) => p.PolicyDocument.Statement,
      )
    expect(derived(role)).toEqual(derived(roles.ResolveRole))
  })
})

describe('the digest key', () => {
  const service = load('serverless.yml')
  const roles = load('infra/iam.yml').Resources
  const secret = load('infra/digest-key.yml').Resources.CapbrokerDigestKey
  const table = { 'Fn::GetAtt': ['CapbrokerStateTable', 'Arn'] }

  it('is generated long enough for functions/digest-key.ts and kept with the table', () => {
    const generated = secret.Properties.GenerateSecretString
    expect(generated.PasswordLength).toBeGreaterThanOrEqual(MIN_DIGEST_KEY_LENGTH)
    expect(generated.ExcludePunctuation).toBe(true)
    expect(secret.Properties.Name).toBe(custom('digestKeySecretName'))
    const stateTable = load('infra/state-table.yml').Resources.CapbrokerStateTable
    expect(secret.DeletionPolicy).toBe(stateTable.DeletionPolicy)
  })

  it('is named to, and readable by, exactly the functions that record bindings', () => {
    const readers = Object.entries<{ role: string; environment?: Record<string, unknown> }>(
      service.functions,
    )
      .filter(([, fn]) => fn.environment?.[DIGEST_KEY_VARIABLE] !== undefined)
      .map(([name, fn]) => {
        expect(fn.environment?.[DIGEST_KEY_VARIABLE], name).toBe(custom('digestKeySecretName'))
        return fn.role
      })
    expect(readers.sort()).toEqual(['NotifyRole', 'ResolveRole', 'RotateRole'])
    const allowed = Object.entries<Role>(roles)
      .filter(([, role]) => actionsOn(role, { Ref: 'CapbrokerDigestKey' }).length > 0)
      .map(([name, role]) => {
        expect(actionsOn(role, { Ref: 'CapbrokerDigestKey' }), name).toEqual([
          'secretsmanager:GetSecretValue',
        ])
        return name
      })
    expect(allowed.sort()).toEqual(readers)
  })

  it('gives each role the state table actions its code paths call', () => {
    const onTable = Object.fromEntries(
      Object.entries<Role>(roles)
        .map(([name, role]) => [name, actionsOn(role, table).sort()] as const)
        .filter(([, actions]) => actions.length > 0),
    )
    const all = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']
    expect(onTable).toEqual({
      // handle: listBindings, claim, complete and audit (TransactWriteItems), abandon.
      ResolveRole: all,
      BindingsRole: ['dynamodb:Query'],
      // release: listBindings, TransactWriteItems of deletes, then of audit puts.
      GithubRole: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      NotifyRole: all,
      RotateRole: all,
    })
  })
})
