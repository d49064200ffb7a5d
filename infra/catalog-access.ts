/**
 * What the packaged catalog lets the resolve function touch, as IAM: every
 * aws-secrets-manager `key` template of `classes` becomes a readable secret ARN pattern,
 * every `inject: { to: store }` bundle name a writable one. Run at package time
 * (serverless.yml → infra/catalog.cjs), so the role follows the catalog it ships with.
 *
 * A template variable becomes `*`; Secrets Manager appends `-` and six random characters
 * to every secret ARN, matched with `-??????` so that `rds/checkout-prod` does not also
 * grant `rds/checkout-prod-old`. IAM's `*` also matches `/`, which a substituted value
 * may not contain: the pattern is a superset of what the broker can ask for, never less.
 */
import { readFile } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { type Catalog, parseCatalog } from '../broker/catalog/load.ts'
import { parseTemplate } from '../broker/template.ts'

/** The catalog packaged when CAPBROKER_CATALOG is not set. */
export const DEFAULT_PACKAGED_CATALOG = 'examples/aws/capbroker.yaml'

/** A Secrets Manager ARN pattern: the region of its store and the part after `secret:`. */
export interface SecretPattern {
  readonly region: string
  readonly name: string
}

/** The secrets the catalog reads (class keys) and writes (bundles). */
export interface SecretAccess {
  readonly read: readonly SecretPattern[]
  readonly bundles: readonly SecretPattern[]
}

/** A CloudFormation value: a literal or an intrinsic function. */
export type CfnValue = string | { readonly [intrinsic: string]: unknown }

/** One IAM policy statement as CloudFormation takes it. */
export interface IamStatement {
  readonly Sid: string
  readonly Effect: 'Allow'
  readonly Action: readonly string[]
  readonly Resource: CfnValue | readonly CfnValue[]
}

const ADAPTER = 'aws-secrets-manager'
const RANDOM_SUFFIX = '-??????'

/**
 * The ARN pattern of the secrets a key template can name: `rds/{app}-{environment}` →
 * `rds/*-*-??????`. A template that is an ARN already keeps its own account and region
 * and only gets a trailing `*` (it may name the secret with or without its suffix).
 */
export function secretNamePattern(template: string): string {
  let pattern = ''
  for (const segment of parseTemplate(template)) {
    if ('text' in segment) pattern += segment.text
    else if (!pattern.endsWith('*')) pattern += '*'
  }
  if (pattern.startsWith('arn:')) return pattern.endsWith('*') ? pattern : `${pattern}*`
  return `${pattern}${RANDOM_SUFFIX}`
}

/** The secrets the catalog's AWS classes read and its AWS bundle sinks write. */
export function secretAccessOf(catalog: Catalog): SecretAccess {
  const regionOf = (store: string): string | undefined => {
    const config = catalog.stores.get(store)
    return config?.adapter === ADAPTER ? (config.region as string) : undefined
  }
  const collect = (items: { store: string; template: string }[]): SecretPattern[] => {
    const seen = new Map<string, SecretPattern>()
    for (const { store, template } of items) {
      const region = regionOf(store)
      if (region === undefined) continue
      const pattern = { region, name: secretNamePattern(template) }
      seen.set(`${pattern.region}\u0000${pattern.name}`, pattern)
    }
    return [...seen.values()]
  }
  return {
    read: collect(catalog.classes.map((c) => ({ store: c.store, template: c.key }))),
    bundles: collect(
      [...catalog.environments.values()].flatMap((env) =>
        env.inject.to === 'store' ? [{ store: env.inject.store, template: env.inject.name }] : [],
      ),
    ),
  }
}

/**
 * The full ARN of a pattern. `Fn::Join` with pseudo-parameter `Ref`s rather than
 * `Fn::Sub`: serverless.yml's own `${…}` variables would take `${AWS::Partition}` for one.
 */
export function secretArn(pattern: SecretPattern): CfnValue {
  if (pattern.name.startsWith('arn:')) return pattern.name
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        `:secretsmanager:${pattern.region}:`,
        { Ref: 'AWS::AccountId' },
        `:secret:${pattern.name}`,
      ],
    ],
  }
}

/**
 * The resolve role's Secrets Manager statements. BatchGetSecretValue has no resource
 * type (IAM only accepts `*`), but it returns a secret only where the caller also has
 * GetSecretValue on it, so the second statement is what bounds the reads. Bundles are
 * read (the sink compares before writing), created and updated; nothing is deleted.
 */
export function resolveSecretStatements(access: SecretAccess): IamStatement[] {
  const readable = [...access.read, ...access.bundles]
  if (readable.length === 0) {
    throw new Error(
      `the catalog serves nothing from an ${ADAPTER} store: the AWS deployment would have nothing to resolve (give a class, or an environment's inject, an ${ADAPTER} store)`,
    )
  }
  const statements: IamStatement[] = [
    {
      Sid: 'BatchReadSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:BatchGetSecretValue'],
      Resource: '*',
    },
    {
      Sid: 'ReadCatalogSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: readable.map(secretArn),
    },
  ]
  if (access.bundles.length > 0) {
    statements.push({
      Sid: 'WriteBindingBundles',
      Effect: 'Allow',
      Action: ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue'],
      Resource: access.bundles.map(secretArn),
    })
  }
  return statements
}

/**
 * The catalog to package: CAPBROKER_CATALOG or the default, as a POSIX path relative to
 * the service directory. serverless only packages files under that directory, so a
 * catalog outside it is refused here rather than silently missing from the artifact.
 */
export function packagedCatalogPath(
  serviceDir: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const given = env.CAPBROKER_CATALOG?.trim() || DEFAULT_PACKAGED_CATALOG
  const inside = relative(serviceDir, resolve(serviceDir, given))
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    throw new Error(
      `CAPBROKER_CATALOG=${given}: the catalog must be a file inside the service directory ${serviceDir} (serverless packages nothing outside it); copy it there`,
    )
  }
  return inside.split(sep).join('/')
}

/** What serverless.yml reads from the catalog at package time. */
export interface PackagedCatalog {
  /** The catalog's path relative to the service directory (and inside each artifact). */
  readonly path: string
  /** The resolve role's Secrets Manager statements. */
  readonly secretStatements: IamStatement[]
}

/** Reads, validates and turns the packaged catalog into its path and IAM statements. */
export async function describePackagedCatalog(
  serviceDir: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<PackagedCatalog> {
  const path = packagedCatalogPath(serviceDir, env)
  const text = await readFile(resolve(serviceDir, path), 'utf8').catch((error: unknown) => {
    throw new Error(`cannot read the catalog ${path}: ${(error as Error).message}`, {
      cause: error,
    })
  })
  const catalog = parseCatalog(text, path)
  return { path, secretStatements: resolveSecretStatements(secretAccessOf(catalog)) }
}
