import { SCHEDULE_KEYWORDS, scheduleFieldsProblem } from './schedule.js'
import type { CronJob, CronProblem, CronVariable } from './state.js'

/** user: `SCHEDULE COMMAND` (a crontab of one user); system: `SCHEDULE USER COMMAND`. */
export type CrontabFormat = 'user' | 'system'

export interface CrontabSource {
  /** Machine path the text came from. */
  path: string
  format: CrontabFormat
  /** Owner of a user crontab (its file name). */
  user?: string
}

export interface ParsedCrontab {
  jobs: CronJob[]
  environment: CronVariable[]
  problems: CronProblem[]
}

// Cron reads a line as an assignment before it tries it as a job; real names are identifiers,
// so a job line (it starts with a digit, "*" or "@") can never match.
const ASSIGNMENT = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/

/** Parse a crontab into its jobs, variables and the lines cron would not accept. */
export function parseCrontab(text: string, source: CrontabSource): ParsedCrontab {
  const result: ParsedCrontab = { jobs: [], environment: [], problems: [] }
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  lines.forEach((raw, index) => {
    const line = index + 1
    const text = raw.replace(/\r$/, '')
    const trimmed = text.trim()
    if (trimmed.length === 0 || trimmed.startsWith('#')) return
    const assignment = ASSIGNMENT.exec(text)
    if (assignment !== null) {
      result.environment.push({ source: source.path, line, name: assignment[1] as string, value: unquote(assignment[2] as string) })
      return
    }
    const job = parseJobLine(trimmed, source)
    if (typeof job === 'string') result.problems.push({ source: source.path, line, text, reason: job })
    else result.jobs.push({ ...job, source: source.path, line })
  })
  return result
}

function unquote(value: string): string {
  const quoted = /^"(.*)"$/.exec(value) ?? /^'(.*)'$/.exec(value)
  return quoted === null ? value : (quoted[1] as string)
}

type JobFields = Omit<CronJob, 'source' | 'line'>

// A job line, or the reason it is not one.
function parseJobLine(line: string, source: CrontabSource): JobFields | string {
  const tokens = line.split(/\s+/)
  let schedule: string
  let rest: string[]
  if (line.startsWith('@')) {
    const keyword = tokens[0] as string
    if (!(SCHEDULE_KEYWORDS as readonly string[]).includes(keyword)) return `unknown schedule keyword ${keyword}`
    schedule = keyword
    rest = tokens.slice(1)
  } else {
    if (tokens.length < 5) return 'a job line needs 5 schedule fields and a command'
    const fields = tokens.slice(0, 5)
    const problem = scheduleFieldsProblem(fields)
    if (problem !== undefined) return problem
    schedule = fields.join(' ')
    rest = tokens.slice(5)
  }
  let user = source.user ?? ''
  if (source.format === 'system') {
    const column = rest[0]
    if (column === undefined) return 'a system crontab line needs a user after the schedule'
    user = column
    rest = rest.slice(1)
  }
  // Keep the command's own spacing: take everything after the tokens already consumed.
  const command = commandAfter(line, tokens.length - rest.length)
  if (command.length === 0) return 'the job has no command'
  return { kind: source.format, user, schedule, command, reboot: schedule === '@reboot' }
}

function commandAfter(line: string, consumed: number): string {
  let rest = line
  for (let i = 0; i < consumed; i++) rest = rest.replace(/^\S+\s*/, '')
  return rest.trim()
}
