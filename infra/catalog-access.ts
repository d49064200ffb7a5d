/**
 * What the packaged catalog lets the functions touch, as IAM: every aws-secrets-manager
 * `key` template of `classes` becomes a readable secret ARN pattern, every `inject: {
 * to: store }` bundle name a writable one, and the triggers' store references (webhook
 * secrets, API tokens, the Slack signing secret) the exact secrets `github` and `slack`
 * read. Run at package time (serverless.yml → infra/catalog.cjs), so the roles follow the
 * catalog they ship with.
 *
 * A template variable becomes `*`; Secrets Manager appends `-` and six random characters
 * to every secret ARN, matched with `-??????` so that `rds/checkout-prod` does not also
 * grant `rds/checkout-prod-old`. IAM's `*` also matches `/`, which a substituted value
 * may not contain: the pattern is a superset of what the broker can ask for, never less.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import {
  type Catalog,
  catalogFromDocument,
  type PackagedCatalogFile,
  parseCatalog,
  parsePackagedCatalog,
  picomatchGlobs,
} from '../broker/catalog/load.ts'
import type { CatalogDocument } from '../broker/catalog/schema.ts'
import { packagedStamp } from '../broker/catalog/stamp.ts'
import { recordGlobs } from '../broker/globs.ts'
import { parseTemplate } from '../broker/template.ts'
import { triggerSecretReferences } from '../broker/triggers/trigger-secrets.ts'
import { PACKAGED_CATALOG_JSON, PACKAGED_PROBLEMS } from '../functions/environment.ts'
import { buildProblemLister } from './problems-bundle.ts'

/** The catalog packaged when CAPBROKER_CATALOG is not set. */
export const DEFAULT_PACKAGED_CATALOG = 'examples/aws/capbroker.yaml'

/**
 * What the functions read ({@link PACKAGED_CATALOG_JSON}): the validated catalog as JSON
 * with its globs compiled to regexes ({@link PackagedCatalogFile}), written at package
 * time. JSON rather than the YAML itself, and regexes rather than globs: a function then
 * loads neither a YAML parser nor picomatch at cold start (BENCHMARKS.md), and a catalog
 * that does not validate never reaches a deployment.
 */
export { PACKAGED_CATALOG_JSON }

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

/** The exact secrets the trigger functions read (store references, not templates). */
export interface TriggerSecretAccess {
  /** Webhook secrets and API tokens of `git.repos`. */
  readonly github: readonly SecretPattern[]
  /** The Slack signing secret. */
  readonly slack: readonly SecretPattern[]
}

/** One IAM policy statement as CloudFormation takes it. */
export interface IamStatement {
  readonly Sid: string
  readonly Effect: 'Allow' | 'Deny'
  readonly Action: readonly string[]
  readonly Resource: CfnValue | readonly CfnValue[]
}

const ADAPTER = 'aws-secrets-manager'
const RANDOM_SUFFIX = '-??????'

/**
 * BatchGetSecretValue has no resource type (IAM only accepts `*`), but it returns a
 * secret only where the caller also has GetSecretValue on it: the statements that name
 * secrets bound the reads. Every read of a newest version goes through it.
 */
const BATCH_READ: IamStatement = {
  Sid: 'BatchReadSecrets',
  Effect: 'Allow',
  Action: ['secretsmanager:BatchGetSecretValue'],
  Resource: '*',
}

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
  return secretKeyPattern(pattern)
}

/**
 * The ARN pattern of one literal secret name (a trigger's `{ store, key }`): the name and
 * its random suffix; an ARN keeps its own account and region and gets a trailing `*`.
 */
export function secretKeyPattern(key: string): string {
  if (key.startsWith('arn:')) return key.endsWith('*') ? key : `${key}*`
  return `${key}${RANDOM_SUFFIX}`
}

/** Deduplicated patterns of the items whose store is an AWS one, in that store's region. */
function awsPatterns(
  catalog: Catalog,
  items: readonly { store: string; name: string }[],
): SecretPattern[] {
  const seen = new Map<string, SecretPattern>()
  for (const { store, name } of items) {
    const config = catalog.stores.get(store)
    if (config?.adapter !== ADAPTER) continue
    const pattern = { region: config.region as string, name }
    seen.set(`${pattern.region}\u0000${pattern.name}`, pattern)
  }
  return [...seen.values()]
}

/** The secrets the catalog's AWS classes read and its AWS bundle sinks write. */
export function secretAccessOf(catalog: Catalog): SecretAccess {
  const collect = (items: { store: string; template: string }[]) =>
    awsPatterns(
      catalog,
      items.map((i) => ({ store: i.store, name: secretNamePattern(i.template) })),
    )
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
 * The Secrets Manager statements of the resolve and notify roles: the class keys and
 * bundles are read (batched; the sink compares before writing), bundles created and
 * updated; nothing is deleted.
 */
export function resolveSecretStatements(access: SecretAccess): IamStatement[] {
  const readable = [...access.read, ...access.bundles]
  if (readable.length === 0) {
    throw new Error(
      `the catalog serves nothing from an ${ADAPTER} store: the AWS deployment would have nothing to resolve (give a class, or an environment's inject, an ${ADAPTER} store)`,
    )
  }
  const statements: IamStatement[] = [
    BATCH_READ,
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
 * The trigger secrets on AWS stores (`triggerSecretReferences`); references to other
 * stores are left out, as the Lambda build cannot read them anyway.
 */
export function triggerSecretAccessOf(catalog: Catalog): TriggerSecretAccess {
  const refs = triggerSecretReferences(catalog.document)
  const collect = (list: readonly { store: string; key: string }[]) =>
    awsPatterns(
      catalog,
      list.map((r) => ({ store: r.store, name: secretKeyPattern(r.key) })),
    )
  return { github: collect(refs.github), slack: collect(refs.slack) }
}

/**
 * The statement of a trigger role the catalog gives no secret: IAM refuses a policy
 * without statements and a statement without resources, and an explicit deny says what
 * the role is for. Without a repository (or signing secret) on AWS, every delivery is
 * refused before anything is read.
 */
export const READS_NO_SECRETS: IamStatement = {
  Sid: 'ReadsNoSecrets',
  Effect: 'Deny',
  Action: ['secretsmanager:*'],
  Resource: '*',
}

/**
 * The github role's Secrets Manager statements: its repositories' webhook secrets and
 * tokens (read through BatchGetSecretValue, like every newest version), and the bundles a
 * release rewrites — read (batched, then AWSCURRENT before the write) and put, never
 * created: a release only removes names from a bundle that exists.
 */
export function githubSecretStatements(
  triggers: readonly SecretPattern[],
  bundles: readonly SecretPattern[],
): IamStatement[] {
  if (triggers.length === 0) return [READS_NO_SECRETS]
  const statements: IamStatement[] = [
    BATCH_READ,
    {
      Sid: 'ReadGitSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: triggers.map(secretArn),
    },
  ]
  if (bundles.length > 0)
    statements.push({
      Sid: 'RewriteBindingBundles',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      Resource: bundles.map(secretArn),
    })
  return statements
}

/** The slack role's Secrets Manager statements: the signing secret, nothing else. */
export function slackSecretStatements(signing: readonly SecretPattern[]): IamStatement[] {
  if (signing.length === 0) return [READS_NO_SECRETS]
  return [
    BATCH_READ,
    {
      Sid: 'ReadSigningSecret',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: signing.map(secretArn),
    },
  ]
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
  /** The catalog's path relative to the service directory (the YAML people edit). */
  readonly path: string
  /** Where its packaged form was written, relative to the service directory and inside each artifact. */
  readonly runtimePath: string
  /** Where the functions' problem lister was written, beside it (infra/problems-bundle.ts). */
  readonly problemsPath: string
  /** The Secrets Manager statements of the resolve and notify roles. */
  readonly secretStatements: IamStatement[]
  /** The github role's Secrets Manager statements. */
  readonly githubSecretStatements: IamStatement[]
  /** The slack role's Secrets Manager statements. */
  readonly slackSecretStatements: IamStatement[]
}

/**
 * Reads and validates the packaged catalog, writes its packaged form for the functions
 * ({@link PACKAGED_CATALOG_JSON}) and their problem lister beside it (each replaced in
 * one step), and turns the catalog into IAM statements.
 */
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
  const json = packagedCatalogJson(catalog)
  // What the functions will do with it, done now: a catalog the YAML reader accepts but
  // the functions would refuse (its JSON over the size limit) fails packaging instead.
  parsePackagedCatalog(json, PACKAGED_CATALOG_JSON, `written from ${path}`)
  await writeAtomically(resolve(serviceDir, PACKAGED_CATALOG_JSON), (temporary) =>
    writeFile(temporary, json, { mode: 0o644, flag: 'wx' }),
  )
  await writeAtomically(resolve(serviceDir, PACKAGED_PROBLEMS), (temporary) =>
    buildProblemLister(temporary),
  )
  const access = secretAccessOf(catalog)
  const triggers = triggerSecretAccessOf(catalog)
  return {
    path,
    runtimePath: PACKAGED_CATALOG_JSON,
    problemsPath: PACKAGED_PROBLEMS,
    secretStatements: resolveSecretStatements(access),
    githubSecretStatements: githubSecretStatements(triggers.github, access.bundles),
    slackSecretStatements: slackSecretStatements(triggers.slack),
  }
}

/**
 * The packaged form of a validated catalog, as the functions read it: its document, the
 * regexes of exactly the globs building it asks for — found by building it once more
 * with picomatch, recording each glob, so no list of where globs live is kept — and the
 * stamp that lets the functions build it without checking it again.
 */
export function packagedCatalogJson(catalog: Catalog): string {
  // Checked and stamped as the functions will read it: what JSON keeps of the document.
  const document = JSON.parse(JSON.stringify(catalog.document)) as CatalogDocument
  const recording = recordGlobs(picomatchGlobs)
  catalogFromDocument(document, catalog.file, recording.compile)
  const globs = JSON.parse(JSON.stringify(recording.recorded())) as PackagedCatalogFile['globs']
  const stamp = packagedStamp(document, globs)
  const packaged: PackagedCatalogFile = { catalog: document, globs, ...(stamp ? { stamp } : {}) }
  return JSON.stringify(packaged)
}

/** Writes `file` through a temporary file and a rename: a function never reads half of it. */
async function writeAtomically(
  file: string,
  write: (temporary: string) => Promise<void>,
): Promise<void> {
  await mkdir(dirname(file), { recursive: true })
  const temporary = `${file}.${randomUUID()}.tmp`
  try {
    await write(temporary)
    await rename(temporary, file)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}
