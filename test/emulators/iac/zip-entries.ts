/**
 * The file names in a zip archive, read from its central directory: enough to check
 * what a Lambda artifact carries without a zip library.
 */
import { readFile } from 'node:fs/promises'

const END_OF_CENTRAL_DIRECTORY = 0x06054b50
const CENTRAL_FILE_HEADER = 0x02014b50

/** Every entry name of the archive at `path`, in archive order. */
export async function zipEntries(path: string): Promise<string[]> {
  const zip = await readFile(path)
  // The end record is the last 22 bytes plus a comment of at most 64 KiB.
  let end = -1
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
      end = i
      break
    }
  }
  if (end < 0) throw new Error(`${path}: not a zip archive (no end of central directory)`)
  const count = zip.readUInt16LE(end + 10)
  let offset = zip.readUInt32LE(end + 16)
  const names: string[] = []
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== CENTRAL_FILE_HEADER)
      throw new Error(`${path}: central directory entry ${i} is corrupt`)
    const nameLength = zip.readUInt16LE(offset + 28)
    const extraLength = zip.readUInt16LE(offset + 30)
    const commentLength = zip.readUInt16LE(offset + 32)
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength))
    offset += 46 + nameLength + extraLength + commentLength
  }
  return names
}
