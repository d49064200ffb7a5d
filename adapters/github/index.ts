/** GitHub: the contents API ManifestSource and webhook signature checks. */
export * from './contents-source.ts'
export * from './errors.ts'
export * from './signature.ts'
