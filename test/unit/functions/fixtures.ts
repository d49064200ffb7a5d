/**
 * Lambda inputs in the shapes AWS documents: the HTTP API payload format 2.0 event
 * ("Working with AWS Lambda proxy integrations for HTTP APIs"), the EventBridge event
 * envelope, and a Lambda context. Every field the services send is present, so a handler
 * that reads the wrong one fails here.
 */
import type { APIGatewayProxyEventV2, Context, EventBridgeEvent } from 'aws-lambda'
import { buildEvent, EventTypes } from '../../../events/index.ts'

/** What varies between the HTTP requests of the tests. */
export interface HttpRequest {
  readonly method?: string
  readonly path: string
  readonly routeKey?: string
  readonly query?: string
  readonly headers?: Record<string, string>
  readonly body?: string | Buffer
  /** Send the body base64-encoded, as API Gateway does for types it deems binary. */
  readonly base64?: boolean
  readonly pathParameters?: Record<string, string>
}

/** An HTTP API (payload format 2.0) event. Header names arrive lower-cased. */
export function httpApiEvent(request: HttpRequest): APIGatewayProxyEventV2 {
  const method = request.method ?? 'POST'
  const body =
    request.body === undefined
      ? undefined
      : request.base64
        ? Buffer.from(request.body).toString('base64')
        : request.body.toString()
  return {
    version: '2.0',
    routeKey: request.routeKey ?? `${method} ${request.path}`,
    rawPath: request.path,
    rawQueryString: request.query ?? '',
    headers: {
      accept: '*/*',
      'content-length': String(Buffer.byteLength(request.body ?? '')),
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'user-agent': 'curl/8.5.0',
      'x-amzn-trace-id': 'Root=1-67890abc-0123456789abcdef01234567',
      'x-forwarded-for': '203.0.113.10',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...request.headers,
    },
    ...(request.query
      ? { queryStringParameters: Object.fromEntries(new URLSearchParams(request.query)) }
      : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.10',
        userAgent: 'curl/8.5.0',
      },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: request.routeKey ?? `${method} ${request.path}`,
      stage: '$default',
      time: '01/Jun/2025:12:00:00 +0000',
      timeEpoch: 1748779200000,
    },
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: request.base64 ?? false,
  }
}

/** A Lambda context; `awsRequestId` distinguishes invocations in the logs. */
export function lambdaContext(
  functionName: string,
  awsRequestId = 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `capbroker-prod-${functionName}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:capbroker-prod-${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/capbroker-prod-${functionName}`,
    logStreamName: '2025/06/01/[$LATEST]abcdef0123456789',
    getRemainingTimeInMillis: () => 30_000,
    done() {},
    fail() {},
    succeed() {},
  }
}

/** An EventBridge event as a rule delivers it to a Lambda target. */
export function eventBridgeEvent(
  detail: unknown,
  detailType: string = EventTypes.requested,
  source = '/apps/checkout',
): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': detailType,
    source,
    account: '123456789012',
    time: '2025-06-01T12:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail,
  }
}

/** A valid `requested` event for checkout/prod. */
export function requestedEvent(id = 'req-1') {
  return buildEvent(
    EventTypes.requested,
    { id, source: '/apps/checkout', time: '2025-06-01T12:00:00.000Z' },
    {
      app: 'checkout',
      environment: 'prod',
      capabilities: [{ name: 'orders-db', type: 'postgres' }],
    },
  )
}

/** Collects what a JSON logger writes, one parsed record per line. */
export function logCapture() {
  const lines: string[] = []
  return {
    lines,
    write: (line: string) => void lines.push(line),
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  }
}
