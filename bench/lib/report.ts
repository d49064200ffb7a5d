/**
 * What a suite hands back — sections of tables with the command that reproduces them,
 * and checks against the targets — and how the runner prints them (aligned
 * text) and writes them (Markdown).
 */

/** A table: a header row and body rows of already formatted cells. */
export interface Table {
  readonly header: readonly string[]
  readonly rows: readonly (readonly string[])[]
}

/** One part of the report. */
export interface Section {
  readonly title: string
  /** What is measured, and how — a paragraph of Markdown. */
  readonly what: string
  readonly tables: readonly { readonly caption?: string; readonly table: Table }[]
  readonly notes?: readonly string[]
  /** The command that produces exactly this section. */
  readonly command: string
}

/** A figure held against a target. */
export interface Check {
  readonly figure: string
  readonly target: string
  readonly measured: string
  readonly met: boolean
  /** Where the figure is explained (the section title). */
  readonly section: string
}

/** A suite's result. */
export interface SuiteResult {
  readonly sections: readonly Section[]
  readonly checks: readonly Check[]
  /** Machine-readable figures, embedded in BENCHMARKS.md for the budget tests. */
  readonly data?: Record<string, unknown>
}

/** What every suite gets. */
export interface SuiteContext {
  /** The repository root. */
  readonly root: string
  /** `--quick`: shorter runs, fewer repetitions — a smoke test, not figures to publish. */
  readonly quick: boolean
  readonly log: (message: string) => void
}

/** Aligned plain text, for the terminal. */
export function textTable(table: Table): string {
  const widths = table.header.map((h, i) =>
    Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)),
  )
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(table.header), line(widths.map((w) => '-'.repeat(w))), ...table.rows.map(line)].join(
    '\n',
  )
}

/** A GitHub-flavoured Markdown table. */
export function markdownTable(table: Table): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|')
  const line = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(' | ')} |`
  return [line(table.header), line(table.header.map(() => '---')), ...table.rows.map(line)].join(
    '\n',
  )
}
