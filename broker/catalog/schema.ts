/**
 * The catalog (`capbroker.yaml`) as one TypeBox source: the JSON Schema published as
 * `schemas/capbroker.schema.json`, the checks generated ahead of time
 * (broker/generated/checks.ts) — both by `npm run schemas` — and the TypeScript types the
 * broker uses. Run-time code imports this module for its types only (patterns.ts has
 * the plain values), so TypeBox's type builders never run at a cold start.
 */
import * as Type from 'typebox/type'
import { NAME_PATTERN, TYPE_PATTERN } from '../../events/patterns.ts'
import { DURATION_PATTERN, MANIFEST_PATH_PATTERN, REPOSITORY_PATTERN } from './patterns.ts'

const Duration = Type.Union(
  [Type.String({ pattern: DURATION_PATTERN }), Type.Integer({ minimum: 0 })],
  {
    description: 'a duration: 250ms, 30s, 5m, 1h, or a number of seconds',
  },
)

const Glob = Type.String({ minLength: 1, maxLength: 256 })
const Template = Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'may use {app}, {environment}, {name} and {params.<key>}',
})
const EntryName = Type.String({ pattern: NAME_PATTERN })

/** Options every store takes, whatever its adapter. */
export const CommonStoreOptions = {
  timeout: Type.Optional(Duration),
}

/** Each adapter's options; `adapter` picks one. Extra keys are typos and are refused. */
export const StoreOptionSchemas = {
  local: Type.Object(
    {
      adapter: Type.Literal('local'),
      path: Type.Optional(
        Type.String({ description: 'folder of the store; default CAPBROKER_HOME' }),
      ),
      ...CommonStoreOptions,
    },
    { additionalProperties: false },
  ),
  'aws-secrets-manager': Type.Object(
    {
      adapter: Type.Literal('aws-secrets-manager'),
      region: Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$' }),
      endpoint: Type.Optional(Type.String({ description: 'for an emulator or a VPC endpoint' })),
      ...CommonStoreOptions,
    },
    { additionalProperties: false },
  ),
  'gcp-secret-manager': Type.Object(
    {
      adapter: Type.Literal('gcp-secret-manager'),
      project: Type.String({ pattern: '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' }),
      endpoint: Type.Optional(Type.String({ description: 'host:port of an emulator' })),
      insecure: Type.Optional(
        Type.Boolean({ description: 'plaintext gRPC, for an emulator only' }),
      ),
      ...CommonStoreOptions,
    },
    { additionalProperties: false },
  ),
  'azure-key-vault': Type.Object(
    {
      adapter: Type.Literal('azure-key-vault'),
      vaultUrl: Type.String({ pattern: '^https://' }),
      ...CommonStoreOptions,
    },
    { additionalProperties: false },
  ),
} as const

/** The adapter kinds a catalog may name. */
export type AdapterKind = keyof typeof StoreOptionSchemas
/** The adapter kinds a catalog may name, as a list. */
const ADAPTER_KINDS = Object.keys(StoreOptionSchemas) as AdapterKind[]

/** A store entry: its adapter picks which options apply. */
export const StoreConfig = Type.Object(
  { adapter: Type.String({ description: `one of ${ADAPTER_KINDS.join(', ')}` }) },
  { additionalProperties: true },
)
/** A store's configuration as the adapter receives it. */
export type StoreConfig = { adapter: AdapterKind; timeout?: string | number } & Record<
  string,
  unknown
>

const ServiceBindingInject = Type.Object(
  {
    to: Type.Literal('service-binding'),
    root: Type.String({
      minLength: 1,
      description: 'bindings go to <root>/<app>/<environment>/<name>/',
    }),
  },
  { additionalProperties: false },
)
const StoreInject = Type.Object(
  {
    to: Type.Literal('store'),
    store: Type.String({ minLength: 1, description: 'a writable store of `stores`' }),
    name: Type.String({
      minLength: 1,
      description: 'the bundle secret name; may use {app} and {environment}',
    }),
  },
  { additionalProperties: false },
)

/** Where an environment's bindings go. */
export const InjectConfig = Type.Union([ServiceBindingInject, StoreInject])
export type InjectConfig = Type.Static<typeof InjectConfig>

/** An environment: its sink, and the git branches that resolve for it. */
export const EnvironmentConfig = Type.Object(
  {
    inject: InjectConfig,
    branches: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
)
export type EnvironmentConfig = Type.Static<typeof EnvironmentConfig>

/** A class: which store and key serve a type (and class) in some environments. */
export const ClassConfig = Type.Object(
  {
    type: Type.String({ pattern: TYPE_PATTERN }),
    class: Type.Optional(Type.String({ pattern: TYPE_PATTERN })),
    environments: Type.Optional(
      Type.Array(Glob, { minItems: 1, description: 'default: every environment' }),
    ),
    store: Type.String({ minLength: 1 }),
    key: Template,
    version: Type.Optional(Template),
    outputs: Type.Optional(
      Type.Record(Type.String({ pattern: NAME_PATTERN }), Type.String({ minLength: 1 }), {
        additionalProperties: false,
        description: 'binding entry → JSON property of the secret',
      }),
    ),
    secret: Type.Optional(
      Type.Array(EntryName, { description: 'which entries are secret; default all' }),
    ),
    cacheTtl: Type.Optional(Duration),
    // Lifecycle (issue 8): how often a scheduled refresh re-reads this class's bindings.
    refreshInterval: Type.Optional(
      Type.Union([Type.String({ pattern: DURATION_PATTERN }), Type.Integer({ minimum: 0 })], {
        description:
          'how often a scheduled refresh re-reads the source of this class’s bindings: 250ms, 30s, 5m, 1h or seconds (default 1h; 0: only on a change event or `capbroker refresh`)',
      }),
    ),
  },
  { additionalProperties: false },
)
export type ClassConfig = Type.Static<typeof ClassConfig>

/** A policy rule: allows what matches every list. Anything no rule allows is denied. */
export const PolicyConfig = Type.Object(
  {
    apps: Type.Array(Glob, { minItems: 1 }),
    environments: Type.Array(Glob, { minItems: 1 }),
    types: Type.Array(Glob, { minItems: 1 }),
    keys: Type.Array(Glob, { minItems: 1 }),
  },
  { additionalProperties: false },
)
export type PolicyConfig = Type.Static<typeof PolicyConfig>

/**
 * Where a trigger's secret lives: a key in one of `stores`. Only a reference is
 * accepted, so a webhook secret, signing secret or API token is never a literal in
 * the catalog (a file people commit and share).
 */
export const StoreReference = Type.Object(
  {
    store: Type.String({ pattern: NAME_PATTERN, description: 'a store of `stores`' }),
    key: Type.String({ minLength: 1, maxLength: 512, description: 'the key in that store' }),
  },
  {
    additionalProperties: false,
    description: 'a secret in one of `stores` ({ store, key }), never the secret itself',
  },
)
export type StoreReference = Type.Static<typeof StoreReference>

/** One repository whose pushes resolve an app's manifest (the Git push trigger). */
export const GitRepoConfig = Type.Object(
  {
    app: Type.String({ pattern: NAME_PATTERN, description: 'the app this repository declares' }),
    manifest: Type.Optional(
      Type.String({
        pattern: MANIFEST_PATH_PATTERN,
        description: 'the manifest path; default score.yaml, then capbroker/capabilities.yaml',
      }),
    ),
    source: Type.Optional(
      Type.Union([Type.Literal('github'), Type.Literal('local-git')], {
        description: 'where manifests are read: the GitHub contents API (default) or a clone',
      }),
    ),
    baseUrl: Type.Optional(
      Type.String({
        pattern: '^https?://',
        description: 'GitHub Enterprise API URL (https://ghe.example.com/api/v3); github only',
      }),
    ),
    clone: Type.Optional(
      Type.String({ minLength: 1, description: 'path of the local clone; local-git only' }),
    ),
    webhookSecret: StoreReference,
    token: Type.Optional(StoreReference),
  },
  { additionalProperties: false },
)
export type GitRepoConfig = Type.Static<typeof GitRepoConfig>

/** The Git push trigger: the repositories it listens to. */
export const GitConfig = Type.Object(
  {
    repos: Type.Record(Type.String({ pattern: REPOSITORY_PATTERN }), GitRepoConfig, {
      additionalProperties: false,
      description: 'owner/name → its app, manifest path and secrets',
    }),
  },
  { additionalProperties: false },
)
export type GitConfig = Type.Static<typeof GitConfig>

/** The Slack slash command: who may use it, for which apps and environments. */
export const SlackConfig = Type.Object(
  {
    teams: Type.Array(Type.String({ pattern: '^[A-Z][A-Z0-9]{2,20}$' }), {
      minItems: 1,
      description: 'the Slack workspace (team) ids allowed to use the command',
    }),
    signingSecret: StoreReference,
    users: Type.Record(
      Type.String({ pattern: '^[A-Z][A-Z0-9]{2,20}$' }),
      Type.Array(Glob, { minItems: 1 }),
      {
        additionalProperties: false,
        description: 'Slack user id → the apps (globs) that user may act for',
      },
    ),
    environments: Type.Array(Type.String({ pattern: NAME_PATTERN }), {
      minItems: 1,
      description:
        'the environments chat may touch, by name (no globs: prod is reachable only when named); the first is the default',
    }),
    responseUrls: Type.Optional(
      Type.Array(Type.String({ pattern: '^https?://' }), {
        minItems: 1,
        description:
          'URL prefixes a response_url must start with; default https://hooks.slack.com/ (set only for tests)',
      }),
    ),
  },
  { additionalProperties: false },
)
export type SlackConfig = Type.Static<typeof SlackConfig>

/** Chat-ops triggers. */
export const ChatopsConfig = Type.Object(
  { slack: Type.Optional(SlackConfig) },
  { additionalProperties: false },
)
export type ChatopsConfig = Type.Static<typeof ChatopsConfig>

function catalogSchema<S extends Type.TSchema>(store: S) {
  return Type.Object(
    {
      version: Type.Literal(1),
      stores: Type.Record(Type.String({ pattern: NAME_PATTERN }), store, {
        additionalProperties: false,
      }),
      environments: Type.Record(Type.String({ pattern: NAME_PATTERN }), EnvironmentConfig, {
        additionalProperties: false,
      }),
      classes: Type.Array(ClassConfig),
      policies: Type.Optional(Type.Array(PolicyConfig)),
      cache: Type.Optional(
        Type.Object({ ttl: Type.Optional(Duration) }, { additionalProperties: false }),
      ),
      git: Type.Optional(GitConfig),
      chatops: Type.Optional(ChatopsConfig),
    },
    { additionalProperties: false },
  )
}

/** The published JSON Schema of the catalog: each store is one of the adapters' option sets. */
export const CatalogSchema = catalogSchema(Type.Union(Object.values(StoreOptionSchemas)))

/**
 * The first validation pass: store options are checked per adapter in a second pass,
 * which gives "stores.aws.regoin: unknown property" instead of a union's noise.
 */
export const CatalogShape = catalogSchema(StoreConfig)

/** The catalog document as written. */
export type CatalogDocument = Omit<Type.Static<typeof CatalogShape>, 'stores'> & {
  stores: Record<string, StoreConfig>
}
