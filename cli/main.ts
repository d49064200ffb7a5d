/** The `capbroker` command: wires commands to the embedded runtime; no logic of its own. */
import { Command, CommanderError } from 'commander'
import { BrokerError, CatalogError, ManifestError } from '../broker/errors.ts'
import { EventValidationError } from '../events/index.ts'
import { registerAudit } from './commands/audit.ts'
import { registerBindings } from './commands/bindings.ts'
import { registerCatalog } from './commands/catalog.ts'
import { registerRefresh } from './commands/refresh.ts'
import { registerRelease } from './commands/release.ts'
import { registerRequest } from './commands/request.ts'
import { registerSecrets } from './commands/secrets.ts'
import { registerServe } from './commands/serve.ts'
import { VERSION } from './context.ts'
import { UsageError } from './errors.ts'

const program = new Command('capbroker')
  .description(
    'Event-driven capability broker: apps declare needs, capbroker resolves them per environment and injects bindings.',
  )
  .version(VERSION, '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .addHelpText(
    'after',
    `
Examples:
  $ capbroker serve                                   # http://127.0.0.1:7777
  $ capbroker request -f examples/capabilities.yaml --app checkout --env dev
  $ capbroker bindings checkout dev
  $ capbroker refresh --app checkout --env dev
  $ capbroker release stripe --app checkout --env dev
  $ capbroker audit checkout dev
  $ capbroker catalog validate

Environment: CAPBROKER_CATALOG, CAPBROKER_HOME, CAPBROKER_LOG_LEVEL, PORT.`,
  )

registerServe(program)
registerRequest(program)
registerBindings(program)
registerRefresh(program)
registerRelease(program)
registerAudit(program)
registerSecrets(program)
registerCatalog(program)

try {
  await program.parseAsync(process.argv)
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2)
  if (
    error instanceof UsageError ||
    error instanceof CatalogError ||
    error instanceof ManifestError ||
    error instanceof EventValidationError
  ) {
    process.stderr.write(`capbroker: ${error.message}\n`)
    process.exit(2)
  }
  if (error instanceof BrokerError) {
    process.stderr.write(`capbroker: ${error.message}\n`)
    process.exit(1)
  }
  process.stderr.write(`capbroker: unexpected error: ${(error as Error).stack ?? error}\n`)
  process.exit(1)
}
