/**
 * What a figure was measured on: every number in BENCHMARKS.md is only meaningful next
 * to the machine, the Node version and the date.
 */
import { statfsSync } from 'node:fs'
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os'

/** The machine and runtime of a benchmark run. */
export interface MachineInfo {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  readonly os: string
  readonly node: string
  readonly v8: string
  readonly date: string
  /** Load average (1 min) when the run started: a busy machine makes slow numbers. */
  readonly loadAtStart: number
}

/** Describes this machine now. */
export function describeMachine(): MachineInfo {
  const list = cpus()
  return {
    cpuModel: list[0]?.model.trim() || 'unknown CPU',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    v8: process.versions.v8,
    date: new Date().toISOString(),
    loadAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  }
}

/** The file system type of `path` (e.g. ext4, tmpfs): fsync costs depend on it. */
export function fileSystemOf(path: string): string {
  const types: Record<number, string> = {
    61267: 'ext4',
    16914836: 'tmpfs',
    1481003842: 'xfs',
    2435016766: 'btrfs',
    2035054128: 'overlayfs',
  }
  try {
    const type = statfsSync(path).type
    return types[type] ?? `0x${type.toString(16)}`
  } catch {
    return 'unknown'
  }
}
