/**
 * Cron schedules as Debian's cron (Vixie cron with Debian's patches) accepts them: five fields,
 * or one of the @ keywords. A schedule cron would reject must be refused before a crontab is
 * written, because `crontab -` refuses the whole file and a plan would stop half-way.
 */

export const SCHEDULE_KEYWORDS = [
  '@reboot',
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
] as const

interface FieldRule {
  name: string
  low: number
  high: number
  /** Three-letter names cron accepts in place of numbers (case-insensitive), index + offset = value. */
  names?: readonly string[]
  namesStart?: number
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

export const FIELD_RULES: readonly FieldRule[] = [
  { name: 'minute', low: 0, high: 59 },
  { name: 'hour', low: 0, high: 23 },
  { name: 'day of month', low: 1, high: 31 },
  { name: 'month', low: 1, high: 12, names: MONTHS, namesStart: 1 },
  // 0 and 7 are both Sunday.
  { name: 'day of week', low: 0, high: 7, names: DAYS, namesStart: 0 },
]

/** Why the five schedule fields are not valid, or undefined when cron would accept them. */
export function scheduleFieldsProblem(fields: readonly string[]): string | undefined {
  if (fields.length !== FIELD_RULES.length) return `a schedule has 5 fields, found ${fields.length}`
  for (let i = 0; i < FIELD_RULES.length; i++) {
    const problem = fieldProblem(fields[i] as string, FIELD_RULES[i] as FieldRule)
    if (problem !== undefined) return problem
  }
  return undefined
}

/** Why a whole schedule ("@daily", "*\/5 * * * *") is not valid, or undefined. */
export function scheduleProblem(schedule: string): string | undefined {
  const trimmed = schedule.trim()
  if (trimmed.startsWith('@')) {
    return (SCHEDULE_KEYWORDS as readonly string[]).includes(trimmed) ? undefined : `unknown schedule keyword ${trimmed}`
  }
  return scheduleFieldsProblem(trimmed.split(/\s+/))
}

export function isValidSchedule(schedule: string): boolean {
  return scheduleProblem(schedule) === undefined
}

function fieldProblem(field: string, rule: FieldRule): string | undefined {
  if (field.length === 0) return `${rule.name} is empty`
  for (const item of field.split(',')) {
    const problem = itemProblem(item, rule)
    if (problem !== undefined) return `${rule.name} "${field}": ${problem}`
  }
  return undefined
}

// One list item: "*", "N", "A-B", each of the first and last optionally with "/STEP".
// Cron takes a step only after "*" or a range: "5/10" is refused by cron, so it is refused here.
function itemProblem(item: string, rule: FieldRule): string | undefined {
  if (item.length === 0) return 'empty list item'
  const [base, step, extra] = item.split('/')
  if (extra !== undefined) return `"${item}" has more than one step`
  if (base === undefined || base.length === 0) return `"${item}" has no range before the step`
  if (step !== undefined) {
    if (!/^\d+$/.test(step)) return `step "${step}" is not a number`
    const n = Number(step)
    if (n < 1 || n > rule.high) return `step ${n} is outside 1-${rule.high}`
  }
  if (base === '*') return undefined
  const bounds = base.split('-')
  if (bounds.length > 2) return `"${base}" is not a range`
  const values: number[] = []
  for (const bound of bounds) {
    const value = valueOf(bound, rule)
    if (value === undefined) return `"${bound}" is not a number or name`
    if (value < rule.low || value > rule.high) return `${bound} is outside ${rule.low}-${rule.high}`
    values.push(value)
  }
  if (values.length === 1 && step !== undefined) return `a step needs "*" or a range before it, not "${base}"`
  if (values.length === 2 && (values[0] as number) > (values[1] as number)) return `range ${base} runs backwards`
  return undefined
}

function valueOf(token: string, rule: FieldRule): number | undefined {
  if (/^\d+$/.test(token)) return Number(token)
  const index = rule.names?.indexOf(token.toLowerCase()) ?? -1
  return index < 0 ? undefined : index + (rule.namesStart ?? 0)
}
