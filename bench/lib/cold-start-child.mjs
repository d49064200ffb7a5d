// One cold start, in a fresh `node` process: import a Lambda bundle, let the init work it
// queued finish (no I/O happens there, so one turn of the event loop is enough), and
// print how long after process start the handler was ready. Plain JavaScript on purpose:
// a TypeScript entry would make Node load its type stripper first and slow every run,
// the empty baseline included.
import { pathToFileURL } from 'node:url'

const started = performance.now()
const module = await import(pathToFileURL(process.argv[2]).href)
await new Promise((resolve) => setImmediate(resolve))
const ready = performance.now()
if (typeof module.handler !== 'function') {
  process.stderr.write(`${process.argv[2]} exports no handler function\n`)
  process.exit(2)
}
process.stdout.write(`\n${JSON.stringify({ coldStart: { started, ready } })}\n`)
