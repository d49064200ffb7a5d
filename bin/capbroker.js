#!/usr/bin/env node
// The entry point stays plain JavaScript so an old Node gets a clear message instead of
// a syntax error: capbroker runs its TypeScript sources through Node's type stripping.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`capbroker needs Node.js 22.18 or newer (this is ${process.version}).`)
  process.exit(1)
}
await import('../cli/main.ts')
