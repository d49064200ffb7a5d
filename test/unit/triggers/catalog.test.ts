import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseCatalog } from '../../../broker/catalog/load.ts'
import { CatalogError } from '../../../broker/errors.ts'
import { TRIGGER_CATALOG, triggerCatalog } from './fixtures.ts'

function problemsOf(text: string): string {
  try {
    parseCatalog(text, 'capbroker.yaml')
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogError)
    return (error as Error).message
  }
  throw new Error('expected a CatalogError')
}

describe('catalog: git and chatops', () => {
  it('loads both trigger sections', () => {
    const catalog = triggerCatalog()
    expect(Object.keys(catalog.document.git?.repos ?? {})).toEqual([
      'Codertocat/Hello-World',
      'acme/legacy',
    ])
    expect(catalog.document.chatops?.slack?.users.U2CERLKJA).toEqual(['checkout'])
  })

  it('loads the example catalog of docs/triggers.md', () => {
    const text = readFileSync(
      new URL('../../../examples/triggers/capbroker.yaml', import.meta.url),
      'utf8',
    )
    expect(parseCatalog(text, 'examples/triggers/capbroker.yaml').document.git).toBeDefined()
  })

  it.each([
    [
      'a secret pasted where a store reference belongs',
      (t: string) =>
        t.replace(
          'webhookSecret: { store: local, key: github/webhook }',
          'webhookSecret: "s3cr3t"',
        ),
      /capbroker.yaml:25:22: git.repos\["Codertocat\/Hello-World"\].webhookSecret: must be a store reference \{ store, key \}/,
    ],
    [
      'an unknown store for a token',
      (t: string) => t.replace('token: { store: local', 'token: { store: vault'),
      /capbroker.yaml:26:23: git.repos\["Codertocat\/Hello-World"\].token.store: unknown store "vault" \(defined: local\)/,
    ],
    [
      'an unknown store for the signing secret',
      (t: string) => t.replace('signingSecret: { store: local', 'signingSecret: { store: lokal'),
      /chatops.slack.signingSecret.store: unknown store "lokal"/,
    ],
    [
      'local-git without a clone',
      (t: string) => t.replace('      clone: ../legacy.git\n', ''),
      /git.repos\["acme\/legacy"\].clone: is required with source local-git/,
    ],
    [
      'a clone for a GitHub repository',
      (t: string) => t.replace('token: { store: local, key: github/token }', 'clone: /srv/x'),
      /git.repos\["Codertocat\/Hello-World"\].clone: applies to source local-git only/,
    ],
    [
      'a manifest path that climbs out',
      (t: string) => t.replace('deploy/capabilities.yaml', '../secrets.yaml'),
      /git.repos\["acme\/legacy"\].manifest: must be a path inside the repository/,
    ],
    [
      'a repository listed twice in another case',
      (t: string) =>
        t.replace(
          '    acme/legacy:',
          '    codertocat/hello-world:\n      app: x\n      webhookSecret: { store: local, key: k }\n    acme/legacy:',
        ),
      /git.repos\["codertocat\/hello-world"\]: repository "codertocat\/hello-world" is listed twice/,
    ],
    [
      'a chat environment that does not exist',
      (t: string) => t.replace('environments: [dev]\n', 'environments: [dev, production]\n'),
      /capbroker.yaml:\d+:\d+: chatops.slack.environments\[1\]: unknown environment "production"/,
    ],
    [
      'a plain-http response URL that is not loopback',
      (t: string) => `${t}    responseUrls: ["http://hooks.example.com/"]\n`,
      /chatops.slack.responseUrls\[0\]: must be an https:\/\/ URL/,
    ],
    [
      'a branch two environments claim',
      (t: string) => t.replace('branches: [main, master]', 'branches: [main, develop]'),
      /environments.prod.branches\[1\]: branch "develop" already resolves for environment "dev"/,
    ],
    [
      'a typo in a repository entry',
      (t: string) => t.replace('manifest: deploy', 'manfest: deploy'),
      /git.repos\["acme\/legacy"\]: unknown property "manfest"/,
    ],
  ])('%s is reported with file, line and column', (_what, edit, expected) => {
    expect(problemsOf(edit(TRIGGER_CATALOG))).toMatch(expected)
  })

  it('never echoes the literal it refuses', () => {
    const message = problemsOf(
      TRIGGER_CATALOG.replace(
        'signingSecret: { store: local, key: slack/signing }',
        'signingSecret: canary-literal-signing',
      ),
    )
    expect(message).toMatch(/chatops.slack.signingSecret: must be a store reference/)
    expect(message).not.toContain('canary-literal-signing')
  })
})
