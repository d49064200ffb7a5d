/**
 * Structured JSON logs, one line per call. Fields are names, ids and numbers; a
 * SecretValue prints as `[redacted]` through its toJSON, and any field whose name looks
 * like it carries a secret is dropped before it is written.
 */
import type { Logger } from '../broker/ports.ts'

/** Log levels, least to most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }
const SENSITIVE = /^(value|secret|password|token|authorization|cookie|body)$/i

/** True for a known level name. */
export function isLogLevel(level: string | undefined): level is LogLevel {
  return level !== undefined && Object.hasOwn(ORDER, level)
}

/** A logger writing JSON lines to a stream (stdout by default). */
export function createJsonLogger(
  options: { level?: LogLevel; write?: (line: string) => void; now?: () => Date } = {},
): Logger {
  const threshold = ORDER[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stdout.write(line))
  const now = options.now ?? (() => new Date())
  const emit = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < threshold) return
    const record: Record<string, unknown> = { time: now().toISOString(), level, msg }
    for (const [name, value] of Object.entries(fields ?? {})) {
      if (value === undefined || SENSITIVE.test(name)) continue
      record[name] = value
    }
    write(`${JSON.stringify(record)}\n`)
  }
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') }
}
