/**
 * `bindings` — HTTP API `GET /apps/{app}/environments/{env}/bindings`: what is bound for
 * an app in an environment, from the state table, with each binding's status (`ready`;
 * `stale` with `staleSince`; `failed` with its `reason`) and `lastRotatedAt`. Metadata
 * only, never a value.
 */
import { bindingView } from '../broker/bindings.ts'
import type { StateStore } from '../broker/ports.ts'
import { NAME_PATTERN } from '../events/index.ts'
import { HttpProblem } from '../server/problem.ts'
import { createHostLogger, createStateStore, lazy, prewarm } from './host.ts'
import { type FunctionOptions, httpFunction, invocationFacts, jsonResponse } from './middleware.ts'

const NAME = new RegExp(NAME_PATTERN)
const PATH = /^\/apps\/([^/]+)\/environments\/([^/]+)\/bindings\/?$/

/** What `bindings` needs: the state store (built once per execution environment). */
export interface BindingsDependencies extends FunctionOptions {
  readonly state: () => Pick<StateStore, 'listBindings'>
}

/** Builds the `bindings` handler over its dependencies. */
export function createBindingsHandler(deps: BindingsDependencies) {
  return httpFunction(deps, async function listBindings(event, context) {
    // The route's path parameters; the raw path when the route is a catch-all.
    const fromPath = PATH.exec(event.rawPath ?? '')
    const app = event.pathParameters?.app ?? fromPath?.[1] ?? ''
    const environment = event.pathParameters?.env ?? fromPath?.[2] ?? ''
    for (const [what, value] of [
      ['app', app],
      ['environment', environment],
    ] as const) {
      if (!NAME.test(value)) throw new HttpProblem(400, `${what} must match ${NAME_PATTERN}`)
    }
    Object.assign(invocationFacts(context), { app, environment })
    const records = await deps.state().listBindings({ app, environment })
    // The same body as the embedded server's GET …/bindings: metadata, never values.
    return jsonResponse(200, { app, environment, bindings: records.map(bindingView) })
  })
}

const logger = createHostLogger(process.env)
const state = lazy(() => createStateStore(process.env))
prewarm(process.env, logger, state)

/** The Lambda entry point (`functions/bindings.handler`). */
export const handler = createBindingsHandler({ name: 'bindings', logger, state })
