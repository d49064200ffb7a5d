/**
 * The service of serverless.yml run locally: `serverless offline start` (osls with
 * serverless-esbuild, serverless-offline and serverless-offline-aws-eventbridge) on
 * free loopback ports, every AWS client of the functions pointed at one endpoint.
 */
import { join } from 'node:path'
import { PACKAGED_CATALOG_JSON } from '../../functions/environment.ts'
import { repoRoot } from '../../scripts/emulators/python-venv.ts'
import { AWS_TEST_ENV } from '../emulators/harness/moto.ts'
import {
  findFreePort,
  type ManagedProcess,
  startProcess,
  stopProcess,
  waitForHttp,
  waitForPort,
} from '../emulators/harness/process.ts'

/** The stage the e2e runs as: bus `capbroker-e2e`, table `capbroker-e2e-state`. */
export const E2E_STAGE = 'e2e'

/** The catalog the functions load (the one `npm run package` bundles by default). */
export const E2E_CATALOG = join(repoRoot, 'examples', 'aws', 'capbroker.yaml')

/** A running offline service. */
export interface OfflineService {
  /** The HTTP API: `POST /events`, `GET /apps/…/bindings`. */
  readonly httpUrl: string
  /** serverless-offline-aws-eventbridge's PutEvents endpoint. */
  readonly eventBridgeMockUrl: string
  readonly process: ManagedProcess
  stop(): Promise<void>
}

/** Ports chosen before the start, so the AWS router can know the mock's address. */
export interface OfflinePorts {
  readonly http: number
  readonly lambda: number
  readonly websocket: number
  readonly alb: number
  readonly eventBridgeMock: number
  readonly eventBridgePubSub: number
}

/** Free loopback ports for every server the offline service opens. */
export async function chooseOfflinePorts(): Promise<OfflinePorts> {
  const [http, lambda, websocket, alb, eventBridgeMock, eventBridgePubSub] = await Promise.all(
    Array.from({ length: 6 }, () => findFreePort()),
  )
  return {
    http: http!,
    lambda: lambda!,
    websocket: websocket!,
    alb: alb!,
    eventBridgeMock: eventBridgeMock!,
    eventBridgePubSub: eventBridgePubSub!,
  }
}

/**
 * Starts `serverless offline start` and waits until the HTTP API and the EventBridge
 * mock accept connections. `awsEndpoint` becomes CAPBROKER_AWS_ENDPOINT of every
 * function (`--localEnvironment` hands them this process's environment, with the fake
 * credentials and region of AWS_TEST_ENV on top).
 */
export async function startOfflineService(options: {
  readonly ports: OfflinePorts
  readonly awsEndpoint: string
  readonly timeoutMs?: number
}): Promise<OfflineService> {
  const { ports } = options
  const proc = startProcess({
    name: 'serverless-offline',
    command: process.execPath,
    args: [
      join(repoRoot, 'node_modules', '.bin', 'serverless'),
      'offline',
      'start',
      '--stage',
      E2E_STAGE,
      '--host',
      '127.0.0.1',
      '--httpPort',
      String(ports.http),
      '--lambdaPort',
      String(ports.lambda),
      '--websocketPort',
      String(ports.websocket),
      '--albPort',
      String(ports.alb),
      // No AWS_IAM (SigV4) authorizer offline; the e2e calls the routes unsigned.
      '--noAuth',
      '--localEnvironment',
      `--param=offlineEventBridgePort=${ports.eventBridgeMock}`,
      `--param=offlineEventBridgePubSubPort=${ports.eventBridgePubSub}`,
      // No rebuilds while the test runs (serverless-esbuild watches sources by default).
      '--param=offlineWatch=.esbuild/no-watch',
      // serverless-offline sets LAMBDA_TASK_ROOT=/var/task: give the catalog absolutely —
      // the JSON that resolving serverless.yml writes from E2E_CATALOG (the default one).
      `--param=catalogRuntimePath=${join(repoRoot, PACKAGED_CATALOG_JSON)}`,
    ],
    cwd: repoRoot,
    env: {
      ...AWS_TEST_ENV,
      CAPBROKER_AWS_ENDPOINT: options.awsEndpoint,
      CAPBROKER_LOG_LEVEL: 'warn',
    },
  })
  const httpUrl = `http://127.0.0.1:${ports.http}`
  try {
    const wait = { process: proc, timeoutMs: options.timeoutMs ?? 90_000, intervalMs: 200 }
    await waitForPort('127.0.0.1', ports.eventBridgeMock, wait)
    await waitForHttp(`${httpUrl}/`, { ...wait, accept: () => true })
  } catch (error) {
    await stopProcess(proc, 2000)
    throw error
  }
  return {
    httpUrl,
    eventBridgeMockUrl: `http://127.0.0.1:${ports.eventBridgeMock}`,
    process: proc,
    stop: () => stopProcess(proc),
  }
}
