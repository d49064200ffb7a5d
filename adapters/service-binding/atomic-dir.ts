/**
 * Publishing a directory atomically, the way Kubernetes' AtomicWriter does: write the
 * complete content into a fresh directory, then swap a symlink to it with `rename()`,
 * which replaces the old link in one step. A reader resolving the link sees the old
 * binding or the new one, never a mix and never a half-written file.
 */
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
} from 'node:fs'
import { chmod, lstat, mkdir, open, readdir, rename, rm, symlink, unlink } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { isOwnVersionDir, VERSION_SEPARATOR } from './layout.ts'

const DIRECTORY_MODE = 0o700
const FILE_MODE = 0o600

function randomSuffix(): string {
  return randomBytes(8).toString('hex')
}

/**
 * Creates `dir` (and missing parents) and sets it to 0700 — the mode is set explicitly
 * because mkdir's is filtered by the umask. `chmodExisting` also tightens a directory
 * that already existed (ours); the root, which may be shared, is left as it is.
 * Synchronous, like {@link publishedAs}: it runs for every request, and a directory
 * that exists costs two or three system calls, far less than as many thread-pool round
 * trips.
 */
export function ensureDirectory(dir: string, chmodExisting: boolean): void {
  const created = mkdirSync(dir, { recursive: true, mode: DIRECTORY_MODE })
  if (created === undefined && !chmodExisting) return
  chmodSync(dir, DIRECTORY_MODE)
}

/** fsync a directory so a rename or a new file in it survives a crash. */
async function syncDirectory(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync; its renames are durable on their own.
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Writes `files` into a new directory `<dataDir>/<name>+<random>` (0700, files 0600,
 * each fsynced) and returns its path. Nothing points at it yet.
 */
export async function writeVersionDir(
  dataDir: string,
  name: string,
  files: ReadonlyMap<string, string>,
): Promise<string> {
  const dir = join(dataDir, `${name}${VERSION_SEPARATOR}${randomSuffix()}`)
  await mkdir(dir, { mode: DIRECTORY_MODE })
  try {
    await chmod(dir, DIRECTORY_MODE)
    for (const [file, content] of files) {
      const handle = await open(join(dir, file), 'wx', FILE_MODE)
      try {
        await handle.chmod(FILE_MODE)
        await handle.writeFile(content, 'utf8')
        await handle.sync()
      } finally {
        await handle.close()
      }
    }
    await syncDirectory(dir)
    return dir
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/**
 * True when `<linkDir>/<name>` is our link to a version directory holding exactly
 * `files` (the same names, the same contents, regular files of mode 0600): publishing
 * them again would change nothing a reader sees, so the caller may skip the write, its
 * fsyncs and the swap.
 *
 * Synchronous on purpose: it runs for every binding of every request, and almost
 * always finds the binding unchanged. Through `fs/promises` each of its ~40 calls (for
 * a binding of five entries) was a thread-pool round trip, 0.44 ms of CPU per binding
 * in all; as plain system calls it is ~0.05 ms, blocking the event loop for about as
 * long on a local disk (BENCHMARKS.md, the service-binding rows). A bindings root on a
 * slow network file system would block it for longer.
 *
 * Each file is opened without following a link and without blocking (a FIFO put in its
 * place must not hang the process), then checked through its own descriptor: a link, a
 * FIFO, a file of another mode or length, or other bytes is "not published". Windows
 * has neither flag (they are 0 there) nor POSIX modes: no file there is ever 0600, so
 * every binding is written anew on every inject — safe, and slow.
 */
export function publishedAs(
  linkDir: string,
  dataDir: string,
  name: string,
  files: ReadonlyMap<string, string>,
): boolean {
  const dir = ownTarget(join(linkDir, name), dataDir, name)
  if (dir === undefined) return false
  let present: string[]
  try {
    present = readdirSync(dir)
  } catch (error) {
    ignoreMissing(error as NodeJS.ErrnoException)
    return false
  }
  if (present.length !== files.size || present.some((file) => !files.has(file))) return false
  for (const [file, content] of files) {
    if (!holds(join(dir, file), Buffer.from(content, 'utf8'))) return false
  }
  return true
}

/** Flags that open a file for reading, refusing a link and never waiting on a FIFO. */
const CHECK_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)

/** True when `path` is a regular file of mode 0600 holding exactly `expected`. */
function holds(path: string, expected: Buffer): boolean {
  let fd: number
  try {
    fd = openSync(path, CHECK_FLAGS)
  } catch {
    return false // missing, a link (ELOOP), unreadable: not published as these
  }
  try {
    const stats = fstatSync(fd)
    if (!stats.isFile() || (stats.mode & 0o777) !== FILE_MODE) return false
    if (stats.size !== expected.length) return false
    // One byte more than expected, to see a file that grew since the fstat.
    const bytes = Buffer.allocUnsafe(expected.length + 1)
    const read = readSync(fd, bytes, 0, bytes.length, 0)
    // Bytes, not text: invalid UTF-8 in a tampered file must not compare equal.
    return read === expected.length && bytes.subarray(0, read).equals(expected)
  } finally {
    closeSync(fd)
  }
}

/**
 * After an inject that changed nothing: the version replaced by the last swap, kept for
 * readers that had resolved the old link, goes once it has been replaced for
 * {@link ORPHAN_MIN_AGE_MS}, and so do leftovers — as the next swap would have removed
 * them, so that no superseded copy of a secret stays on disk for long.
 */
export async function pruneSuperseded(
  linkDir: string,
  dataDir: string,
  name: string,
): Promise<void> {
  const current = ownTarget(join(linkDir, name), dataDir, name)
  const previousLink = previousLinkOf(dataDir, name)
  const replacedAt = await lstat(previousLink).then(
    (stats) => stats.mtimeMs,
    (error: NodeJS.ErrnoException) => {
      ignoreMissing(error)
      return undefined
    },
  )
  let previous = ownTarget(previousLink, dataDir, name)
  if (replacedAt !== undefined && Date.now() - replacedAt >= ORPHAN_MIN_AGE_MS) {
    await unlink(previousLink).catch(ignoreMissing)
    if (previous !== undefined && previous !== current)
      await rm(previous, { recursive: true, force: true })
    previous = undefined
  }
  await collectOrphans(dataDir, name, [current, previous], ORPHAN_MIN_AGE_MS)
}

/**
 * Points `<linkDir>/<name>` at `versionDir`. The new link is made under a temporary
 * name in `dataDir` (never in the directory readers list) and renamed over the old one.
 *
 * The version it replaces is kept until the next swap, tracked by the link
 * `<dataDir>/<name>+previous`: a reader that resolved the old link a moment before the
 * swap still finds it whole (deleting it at once would let such a reader list a
 * half-deleted directory). The one before that is deleted.
 *
 * A real directory at `<linkDir>/<name>` (written by an older sink) is first moved into
 * `dataDir` and deleted after the swap; in between, the name is briefly absent — a
 * reader may miss the binding for that instant, but never sees half of it.
 */
export async function swapLink(
  linkDir: string,
  dataDir: string,
  name: string,
  versionDir: string,
): Promise<void> {
  const replaced = await detach(linkDir, dataDir, name, false)
  // Relative, so the root can be moved or mounted elsewhere (a container volume).
  await replaceLink(dataDir, join(linkDir, name), relative(linkDir, versionDir))
  await syncDirectory(linkDir)
  if (replaced.kind === 'legacy') await rm(replaced.dir, { recursive: true, force: true })
  if (replaced.kind !== 'link' || replaced.dir === undefined) return
  const previousLink = previousLinkOf(dataDir, name)
  const older = ownTarget(previousLink, dataDir, name)
  await replaceLink(dataDir, previousLink, relative(dataDir, replaced.dir))
  if (older !== undefined && older !== replaced.dir && older !== resolve(versionDir)) {
    await rm(older, { recursive: true, force: true })
  }
  await collectOrphans(dataDir, name, [resolve(versionDir), replaced.dir], ORPHAN_MIN_AGE_MS)
}

/**
 * Version directories older than this and referenced by no link are leftovers — of a
 * crash between write and swap, or of another process that lost a race — and are
 * deleted. Younger ones may be another process's write about to be swapped in.
 */
export const ORPHAN_MIN_AGE_MS = 60_000

/**
 * Deletes `<dataDir>/<name>+…` directories that are not in `keep` and are at least
 * `minAgeMs` old, so no stale copy of a secret stays on disk.
 */
export async function collectOrphans(
  dataDir: string,
  name: string,
  keep: readonly (string | undefined)[],
  minAgeMs: number,
): Promise<void> {
  const kept = new Set(keep.filter((k): k is string => k !== undefined))
  const now = Date.now()
  let entries: string[]
  try {
    entries = await readdir(dataDir)
  } catch (error) {
    ignoreMissing(error as NodeJS.ErrnoException)
    return
  }
  for (const entry of entries) {
    if (!entry.startsWith(`${name}${VERSION_SEPARATOR}`)) continue
    const path = join(dataDir, entry)
    if (kept.has(path)) continue
    const stats = await lstat(path).catch(() => undefined)
    if (!stats?.isDirectory() || now - stats.mtimeMs < minAgeMs) continue
    await rm(path, { recursive: true, force: true })
  }
}

/**
 * Deletes `<linkDir>/<name>`, the versioned directory behind it and the kept previous
 * one. A missing name is a no-op.
 */
export async function removeLink(linkDir: string, dataDir: string, name: string): Promise<void> {
  const removed = await detach(linkDir, dataDir, name, true)
  if (removed.kind !== 'missing') await syncDirectory(linkDir)
  const previousLink = previousLinkOf(dataDir, name)
  const older = ownTarget(previousLink, dataDir, name)
  await unlink(previousLink).catch(ignoreMissing)
  for (const dir of [removed.kind === 'missing' ? undefined : removed.dir, older]) {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  }
  // Released means gone: every version of the binding goes, whatever its age.
  await collectOrphans(dataDir, name, [], 0)
}

function previousLinkOf(dataDir: string, name: string): string {
  return join(dataDir, `${name}${VERSION_SEPARATOR}previous`)
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error
}

/** Creates or replaces the symlink `path` in one step: a temporary link, renamed over it. */
async function replaceLink(dataDir: string, path: string, target: string): Promise<void> {
  const temporary = join(dataDir, `.link${VERSION_SEPARATOR}${randomSuffix()}`)
  await symlink(target, temporary)
  try {
    await rename(temporary, path)
  } catch (error) {
    await unlink(temporary).catch(() => {})
    throw error
  }
}

/** The versioned directory of `name` that the link `path` points at, if it is ours. */
function ownTarget(path: string, dataDir: string, name: string): string | undefined {
  let target: string
  try {
    target = resolve(dirname(path), readlinkSync(path))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'EINVAL' || code === 'ENOTDIR') return undefined
    throw error
  }
  return isOwnVersionDir(dataDir, name, target) ? target : undefined
}

/** What was at a binding's name before it was replaced or removed. */
type Detached =
  | { readonly kind: 'missing' }
  | { readonly kind: 'link'; readonly dir: string | undefined }
  | { readonly kind: 'legacy'; readonly dir: string }
  | { readonly kind: 'file'; readonly dir?: undefined }

/**
 * Looks at what is at `<linkDir>/<name>`: our link (and the versioned directory behind
 * it, when it is ours to delete), a real directory — moved out of the readers' listing
 * at once — or a stray file. `unlinkLink` removes a link or file too (for `remove`;
 * `swapLink` lets its rename replace them in one step).
 */
async function detach(
  linkDir: string,
  dataDir: string,
  name: string,
  unlinkLink: boolean,
): Promise<Detached> {
  const linkPath = join(linkDir, name)
  let stats: Awaited<ReturnType<typeof lstat>>
  try {
    stats = await lstat(linkPath)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' }
    throw error
  }
  if (stats.isDirectory()) {
    const aside = join(dataDir, `${name}${VERSION_SEPARATOR}legacy-${randomSuffix()}`)
    await rename(linkPath, aside)
    return { kind: 'legacy', dir: aside }
  }
  const dir = stats.isSymbolicLink() ? ownTarget(linkPath, dataDir, name) : undefined
  if (unlinkLink) await unlink(linkPath)
  return stats.isSymbolicLink() ? { kind: 'link', dir } : { kind: 'file' }
}
