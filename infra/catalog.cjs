// serverless.yml's view of the packaged catalog: `${file(./infra/catalog.cjs):runtimePath}`
// (its packaged form, written here from the YAML, what the functions read), `:problemsPath`
// (the problem lister written beside it) and
// the roles' Secrets Manager statements (`:secretStatements`, `:githubSecretStatements`,
// `:slackSecretStatements`, see PackagedCatalog). osls loads variable files with
// require(), so this shim is CommonJS; the logic is TypeScript in catalog-access.ts
// (Node's type stripping runs it). One parse per packaging run, however many references.
const { resolve } = require('node:path')

let described

module.exports = function describeCatalog() {
  described ??= import('./catalog-access.ts').then((m) =>
    m.describePackagedCatalog(resolve(__dirname, '..'), process.env),
  )
  return described
}
