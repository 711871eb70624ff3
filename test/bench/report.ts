// The benchmark's output: rows of one table (what, TwinSync, etckeeper, ratio, goal, met?) and
// the same rows as JSON. The goals are issue 22's, word for word where it sets one.
import { writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'

export type Unit = 'ms' | 'MB' | 'KB'

export interface BenchRow {
  /** The section that made the row (see sections.ts). */
  section: string
  what: string
  unit: Unit
  /** TwinSync's median, in unit. */
  twinsync?: number
  /** etckeeper's median on the same root, in unit. */
  etckeeper?: number
  /** twinsync / etckeeper, when both are there. */
  ratio?: number
  /** The goal for this row, as text. */
  goal?: string
  /** Whether the goal is met (undefined: no goal, or one a person judges from the figures). */
  met?: boolean
  /** How many runs the medians are of. */
  runs?: number
  /** Peak memory (MB, median) of the TwinSync and etckeeper runs of a timed row: in the JSON only. */
  peakMb?: { twinsync?: number; etckeeper?: number }
  note?: string
}

/** How a row's goal is checked. */
export interface Goal {
  text: string
  met(row: BenchRow): boolean | undefined
}

/** TwinSync at most `max` times etckeeper on the same root. */
export function ratioAtMost(max: number, of = "etckeeper"): Goal {
  return { text: `≤ ${max.toFixed(1)}× ${of}`, met: (r) => (r.ratio === undefined ? undefined : r.ratio <= max) }
}

/** TwinSync's figure at most `max` (in the row's unit); `text` when the issue words it otherwise. */
export function atMost(max: number, unit: Unit, text = `≤ ${max} ${unit}`): Goal {
  return { text, met: (r) => (r.twinsync === undefined ? undefined : r.twinsync <= max) }
}

/** A goal a person judges from the figures (printed, never checked). */
export function judged(text: string): Goal {
  return { text, met: () => undefined }
}

/** Build a row: the ratio and the goal's verdict are computed here, in one place. */
export function row(section: string, what: string, values: Omit<BenchRow, 'section' | 'what' | 'ratio' | 'goal' | 'met' | 'unit'> & { unit?: Unit; goal?: Goal }): BenchRow {
  const { goal, unit = 'ms', ...rest } = values
  const out: BenchRow = { section, what, unit, ...rest }
  if (out.twinsync !== undefined && out.etckeeper !== undefined && out.etckeeper > 0) out.ratio = out.twinsync / out.etckeeper
  if (goal !== undefined) {
    out.goal = goal.text
    const met = goal.met(out)
    if (met !== undefined) out.met = met
  }
  return out
}

function figure(value: number | undefined, unit: Unit): string {
  if (value === undefined || !Number.isFinite(value)) return '–'
  if (unit === 'ms' && value >= 10_000) return `${(value / 1000).toFixed(1)} s`
  if (unit === 'KB' && value >= 10_240) return `${(value / 1024).toFixed(1)} MB`
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${unit}`
}

/** The table, as text: one line per row, sections separated by a blank line. */
export function renderTable(rows: BenchRow[]): string {
  const cells = rows.map((r) => [
    r.what,
    figure(r.twinsync, r.unit),
    figure(r.etckeeper, r.unit),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.goal ?? '',
    r.met === undefined ? (r.goal === undefined ? '' : '?') : r.met ? 'yes' : 'NO',
  ])
  const header = ['what', 'TwinSync', 'etckeeper', 'ratio', 'goal', 'met?']
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)))
  const line = (c: string[]) =>
    c.map((s, i) => (i === 0 || i >= 4 ? s.padEnd(widths[i] as number) : s.padStart(widths[i] as number))).join('  ').trimEnd()
  const out = [line(header), line(widths.map((w) => '-'.repeat(w)))]
  rows.forEach((r, i) => {
    if (i > 0 && rows[i - 1]?.section !== r.section) out.push('')
    out.push(line(cells[i] as string[]))
    if (r.note !== undefined) out.push(`    ${r.note}`)
  })
  return out.join('\n')
}

export interface Machine {
  cpus: number
  /** 1, 5 and 15 minute load averages at the start and at the end of the run. */
  loadStart: number[]
  loadEnd?: number[]
  node: string
}

export function machine(): Machine {
  return { cpus: cpus().length, loadStart: loadavg(), node: process.version }
}

export async function writeJson(path: string, report: { startedAt: string; finishedAt: string; settings: Record<string, unknown>; machine: Machine; notes: string[]; rows: BenchRow[] }): Promise<void> {
  await writeFile(path, JSON.stringify(report, null, 2) + '\n')
}
