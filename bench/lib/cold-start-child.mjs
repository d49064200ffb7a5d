// One cold start, in a fresh `node` process: import a Lambda bundle, let the init work it
// queued finish (no I/O happens there, so one turn of the event loop is enough), and
// print how long after process start the handler was ready. Plain JavaScript on purpose:
// a TypeScript entry would make Node load its type stripper first and slow every run,
// the empty baseline included.
//
// With `--transport` as second argument it then loads what the first AWS call of our
// JSON client loads (adapters/aws-common/json-client.ts): `node:https`, through import()
// as the bundle does, and the signer's built-ins (aws4 requires crypto, querystring and
// url), through require() as the bundle does — and prints that time too. That is a lower
// bound of the first call: no signing, no socket, no TLS handshake, no network.
import { pathToFileURL } from 'node:url'

const started = performance.now()
const module = await import(pathToFileURL(process.argv[2]).href)
await new Promise((resolve) => setImmediate(resolve))
const ready = performance.now()
if (typeof module.handler !== 'function') {
  process.stderr.write(`${process.argv[2]} exports no handler function\n`)
  process.exit(2)
}
let transport
if (process.argv[3] === '--transport') {
  await import('node:https')
  for (const builtin of ['crypto', 'querystring', 'url']) process.getBuiltinModule(builtin)
  transport = performance.now()
}
process.stdout.write(`\n${JSON.stringify({ coldStart: { started, ready, transport } })}\n`)
