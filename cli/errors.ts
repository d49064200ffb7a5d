/** Bad input on the command line: printed as is, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}
