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
import { repoRoot } from '../../../scripts/emulators/python-venv.ts'

// biome-ignore lint/suspicious/noExplicitAny: YAML documents are checked field by field
const load = (path: string): any => parse(readFileSync(join(repoRoot, path), 'utf8'))

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
      const source = readFileSync(join(repoRoot, 'functions', `${name}.ts`), 'utf8')
      for (const variable of Object.keys(fn.environment ?? {}))
        expect(source, `${name} reads ${variable}`).toContain(`'${variable}'`)
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
