/**
 * The Lambda functions' configuration, read from their environment once per cold start.
 * Each reader names the variable it wanted, so a deployment mistake reads as one line
 * in the function's log instead of an SDK error three calls later.
 */
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import { isHttpUrl } from '../adapters/aws-common/options.ts'
import { InvalidConfigError } from '../broker/errors.ts'
import { isLogLevel, type LogLevel } from '../server/logger.ts'

/** The variables the functions read (`process.env` in Lambda). */
export type FunctionEnvironment = Readonly<Record<string, string | undefined>>

/** Region and endpoint of the clients the host builds (bus, state, secret stores). */
export interface AwsClientSettings {
  readonly region: string
  /** CAPBROKER_AWS_ENDPOINT: test-only, see {@link readAwsClientSettings}. */
  readonly endpoint?: string
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/

/** A variable that must be set and non-empty. */
export function requireVariable(env: FunctionEnvironment, name: string, what: string): string {
  const value = env[name]?.trim()
  if (value === undefined || value === '')
    throw new InvalidConfigError(`${name} is not set: the function needs ${what}`)
  return value
}

/**
 * `AWS_REGION` (set by Lambda itself) and `CAPBROKER_AWS_ENDPOINT`. The endpoint is for
 * tests only — moto, serverless-offline: when set, every AWS client the host builds
 * (EventBridge, DynamoDB and each Secrets Manager store, whatever the catalog says)
 * talks to it. A deployed function must not have it.
 */
export function readAwsClientSettings(env: FunctionEnvironment): AwsClientSettings {
  const region = requireVariable(env, 'AWS_REGION', 'the AWS region (Lambda sets it)')
  if (!REGION.test(region))
    throw new InvalidConfigError(`AWS_REGION must be an AWS region like eu-west-1`)
  const endpoint = env.CAPBROKER_AWS_ENDPOINT?.trim()
  if (endpoint === undefined || endpoint === '') return { region }
  if (!isHttpUrl(endpoint))
    throw new InvalidConfigError('CAPBROKER_AWS_ENDPOINT must be an http(s) URL')
  return { region, endpoint }
}

/** `CAPBROKER_EVENT_BUS`: the custom bus name (or ARN) requests and outcomes travel on. */
export function eventBusName(env: FunctionEnvironment): string {
  return requireVariable(env, 'CAPBROKER_EVENT_BUS', 'the name of the EventBridge bus')
}

/** `CAPBROKER_STATE_TABLE`: the DynamoDB state table. */
export function stateTableName(env: FunctionEnvironment): string {
  return requireVariable(env, 'CAPBROKER_STATE_TABLE', 'the name of the DynamoDB state table')
}

/**
 * Where packaging writes the catalog the functions read: the validated capbroker.yaml as
 * JSON, its globs compiled (infra/catalog-access.ts), relative to the service directory
 * and, inside each artifact, to `LAMBDA_TASK_ROOT`.
 */
export const PACKAGED_CATALOG_JSON = '.capbroker-package/catalog.json'

/**
 * `CAPBROKER_CATALOG`: the catalog file packaged with the function (serverless.yml sets
 * it; default {@link PACKAGED_CATALOG_JSON}). A relative path resolves against
 * `LAMBDA_TASK_ROOT`, where Lambda unpacks the function — the working directory of a
 * bundled handler is not the place to guess from.
 */
export function catalogPath(env: FunctionEnvironment): string {
  const root = env.LAMBDA_TASK_ROOT?.trim() || process.cwd()
  const path = env.CAPBROKER_CATALOG?.trim() || PACKAGED_CATALOG_JSON
  return isAbsolute(path) ? path : resolve(root, path)
}

/** Where packaging writes the problem lister: beside {@link PACKAGED_CATALOG_JSON}. */
export const PACKAGED_PROBLEMS = '.capbroker-package/problems.cjs'

/**
 * Where the functions find the problem lister (events/problems.ts with TypeBox's schema
 * engine, built on its own at packaging: infra/problems-bundle.ts): beside the catalog
 * they read. It is loaded on the first value that fails its check, never at cold start.
 */
export function problemsPath(env: FunctionEnvironment): string {
  return join(dirname(catalogPath(env)), basename(PACKAGED_PROBLEMS))
}

/** `CAPBROKER_LOG_LEVEL`: `debug`, `info` (default), `warn` or `error`. */
export function logLevel(env: FunctionEnvironment): LogLevel {
  const level = env.CAPBROKER_LOG_LEVEL?.trim()
  if (level === undefined || level === '') return 'info'
  if (!isLogLevel(level))
    throw new InvalidConfigError('CAPBROKER_LOG_LEVEL must be one of debug, info, warn, error')
  return level
}
