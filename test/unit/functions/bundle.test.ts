/**
 * What esbuild puts into each function's bundle (as serverless-esbuild would build it):
 * no Google, Azure or embedded adapter in any of them, each function carries only the
 * AWS clients it calls, only github carries the GitHub client and only rotate the
 * rotation triggers, only github and slack picomatch. A stray import (the
 * default store registry, the CLI) shows up here before it shows up as cold-start time.
 */
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildFunction, readServerlessBuild } from '../../../bench/lib/function-bundles.ts'

const FUNCTIONS = ['ingest', 'resolve', 'bindings', 'github', 'slack', 'notify', 'rotate'] as const
type FunctionName = (typeof FUNCTIONS)[number]

/** Inputs that made it into the output (tree-shaken modules have 0 bytes in it), and their bytes. */
const included = new Map<FunctionName, Map<string, number>>()

beforeAll(async () => {
  // Built as `serverless package` builds them (serverless.yml's esbuild settings).
  const root = fileURLToPath(new URL('../../..', import.meta.url))
  const settings = readServerlessBuild(root)
  for (const name of FUNCTIONS) {
    const { metafile } = await buildFunction(root, settings, name, `functions/${name}.ts`)
    const output = Object.values(metafile.outputs)[0]
    included.set(
      name,
      new Map(
        Object.entries(output?.inputs ?? {})
          .filter(([, input]) => input.bytesInOutput > 0)
          .map(([path, input]) => [path, input.bytesInOutput]),
      ),
    )
  }
}, 60_000)

/** Whether the bundle carries more than `minBytes` of inputs whose path has `fragment`. */
const has = (name: FunctionName, fragment: string, minBytes = 0) =>
  [...(included.get(name) ?? [])].some(
    ([path, bytes]) => path.includes(fragment) && bytes > minBytes,
  )

describe('function bundles', () => {
  it.each(FUNCTIONS)('%s carries no other cloud, no embedded adapter, no CLI', (name) => {
    expect(included.get(name)?.size).toBeGreaterThan(0)
    for (const fragment of [
      'node_modules/@google-cloud/',
      'node_modules/@azure/',
      'node_modules/google-gax/',
      'adapters/registry.ts',
      'adapters/gcp-secret-manager/',
      'adapters/azure-key-vault/',
      'adapters/local/',
      'adapters/sqlite/',
      'adapters/service-binding/',
      'cli/',
      // Values are checked by the checks `npm run schemas` generates: no schema is built
      // (typebox/type) or compiled (typebox/compile) in a function, and the problem lister
      // (typebox/schema, events/problems.ts) is packaged as a file of its own, loaded on
      // the first failed check (functions/schema-problems.ts).
      'node_modules/typebox/build/type/',
      'node_modules/typebox/build/compile/',
      'node_modules/typebox/build/schema/',
      'node_modules/typebox/build/value/',
      'node_modules/typebox/build/index.mjs',
      'events/problems.ts',
      'events/data.ts',
      'broker/catalog/schema.ts',
      'broker/triggers/payloads.ts',
    ])
      expect(has(name, fragment), `${name} bundles ${fragment}`).toBe(false)
  })

  it('gives each function only the AWS APIs it calls, through the JSON client', () => {
    const apis = (name: FunctionName) =>
      [
        'adapters/eventbridge/bus.ts',
        'adapters/dynamodb/state-store.ts',
        'adapters/aws-secrets-manager/store.ts',
        // A stray constant (a few bytes) of a module is not the adapter.
      ].filter((adapter) => has(name, adapter, 200))
    const broker = [
      'adapters/eventbridge/bus.ts',
      'adapters/dynamodb/state-store.ts',
      'adapters/aws-secrets-manager/store.ts',
    ]
    expect(apis('ingest')).toEqual(['adapters/eventbridge/bus.ts'])
    expect(apis('bindings')).toEqual(['adapters/dynamodb/state-store.ts'])
    expect(apis('resolve')).toEqual(broker)
    // github: secrets, requests on the bus, releases; notify: the broker, the queue
    // being read by Lambda's event source mapping, not by the function.
    expect(apis('github')).toEqual(broker)
    expect(apis('notify')).toEqual(broker)
    // rotate: the broker's refresh (sources, bundles, state, binding.rotated on the bus).
    expect(apis('rotate')).toEqual(broker)
    // slack: the signing secret and the chat queue (SendMessage), no broker.
    expect(apis('slack')).toEqual(['adapters/aws-secrets-manager/store.ts'])
    for (const name of FUNCTIONS) {
      expect(has(name, 'adapters/aws-common/json-client.ts'), name).toBe(true)
      // Lambda sets credentials in the environment: the SDK's chain is left out.
      expect(has(name, 'node_modules/@aws-sdk/'), name).toBe(false)
      expect(has(name, 'node_modules/@smithy/'), name).toBe(false)
    }
  })

  it('carries the GitHub client and signature check in github only', () => {
    for (const name of FUNCTIONS) {
      const github = name === 'github'
      expect(has(name, 'node_modules/@octokit/rest/'), name).toBe(github)
      expect(has(name, 'node_modules/@octokit/webhooks-methods/'), name).toBe(github)
    }
    // The Slack verification is in slack, the response_url poster in notify.
    expect(has('slack', 'broker/triggers/slack-signature.ts')).toBe(true)
    expect(has('notify', 'broker/triggers/slack-signature.ts')).toBe(false)
    expect(has('notify', 'adapters/slack/responder.ts')).toBe(true)
    expect(has('github', 'adapters/slack/')).toBe(false)
    expect(has('rotate', 'adapters/slack/')).toBe(false)
    expect(has('rotate', 'broker/triggers/git-push.ts')).toBe(false)
  })

  it('carries the refresh in rotate, and the digest key loader where bindings are recorded', () => {
    expect(has('rotate', 'broker/lifecycle/refresh.ts')).toBe(true)
    expect(has('rotate', 'broker/lifecycle/triggers.ts')).toBe(true)
    // github only releases (its requests go to resolve over the bus): no binding record.
    const recording = ['resolve', 'notify', 'rotate']
    for (const name of FUNCTIONS)
      expect(has(name, 'functions/digest-key.ts'), name).toBe(recording.includes(name))
  })

  it('keeps the catalog and the broker out of the HTTP-only functions', () => {
    for (const name of ['ingest', 'bindings'] as const) {
      expect(has(name, 'broker/pipeline.ts'), name).toBe(false)
      expect(has(name, 'broker/catalog/catalog.ts'), name).toBe(false)
    }
    expect(has('resolve', 'broker/pipeline.ts')).toBe(true)
    expect(has('resolve', 'broker/lifecycle/triggers.ts')).toBe(false)
  })

  it('carries a YAML parser only where YAML is read: github, for the manifests in repositories', () => {
    // The others read the catalog as the JSON packaging writes, and events as JSON.
    for (const name of FUNCTIONS) {
      expect(has(name, 'node_modules/yaml/'), name).toBe(name === 'github')
      expect(has(name, 'broker/catalog/load.ts'), name).toBe(false)
    }
  })

  it('carries picomatch only where triggers match globs: github and slack', () => {
    // The catalog's globs come compiled in the packaged catalog (broker/globs.ts).
    for (const name of FUNCTIONS) {
      const triggers = name === 'github' || name === 'slack'
      expect(has(name, 'node_modules/picomatch/'), name).toBe(triggers)
      expect(has(name, 'broker/catalog/picomatch-globs.ts'), name).toBe(false)
    }
  })
})
