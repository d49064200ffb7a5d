/**
 * The catalog (`capbroker.yaml`) as one TypeBox source: the JSON Schema published as
 * `schemas/capbroker.schema.json` and the TypeScript types the broker uses.
 */
import Type from 'typebox'
import { NAME_PATTERN, TYPE_PATTERN } from '../../events/index.ts'

/** `5m`, `30s`, `1h`, `250ms`, or a number of seconds. */
export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h)$'
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
export const ADAPTER_KINDS = Object.keys(StoreOptionSchemas) as AdapterKind[]

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
