import type { CallOptions, ManifestLocation, ManifestSource } from '../../../broker/ports.ts'

/** An in-memory ManifestSource: files per commit, and a log of every read. */
export class MemoryManifests implements ManifestSource {
  readonly kind = 'memory'
  readonly reads: ManifestLocation[] = []
  readonly #files = new Map<string, string>()
  failure: Error | undefined

  put(commit: string, path: string, text: string): void {
    this.#files.set(`${commit}:${path}`, text)
  }

  async read(location: ManifestLocation, _options?: CallOptions): Promise<string | undefined> {
    this.reads.push(location)
    if (this.failure) throw this.failure
    return this.#files.get(`${location.commit}:${location.path}`)
  }
}
