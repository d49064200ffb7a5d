/** Self-hosted repositories: manifests read from a local clone with git. */
export * from './git-source.ts'
