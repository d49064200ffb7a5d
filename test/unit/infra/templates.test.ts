/**
 * serverless.yml and infra/*.yml against the code they deploy: the table the DynamoDB
 * adapter expects, the event type resolve handles, the variables the functions read.
 * The fragments use long-form intrinsics only, so a plain YAML parser reads them.
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
