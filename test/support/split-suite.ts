// The whole test suite as several mocha processes at once (what `npm run test:all`, `npm test`
// and .ci/run run):
//
//   node --import tsx test/support/split-suite.ts [--jobs N] [--reporter R] [--logs DIR] GLOB... [-- MOCHA-ARGS]
//   node --import tsx test/support/split-suite.ts --save-times /tmp/twinsync-ci.XXXXXX/timings.json
//
// Speed: most of the integration and e2e time is waiting on child processes (git, dpkg, tar,
// systemd-nspawn containers booting), so several processes on the 2-core CI machine overlap. One
// process took 1,867 s of describes (session 13's CI, 32 minutes in all); two groups left the
// cores idle 18% of the time (session 36: 82% busy, 33 minutes), so three is the default (session
// 37); the measured figures are in docs/testing.md ("The whole run").
//
// How: the files the globs name (mocha's own lookup, so the same files as one `mocha GLOB...`)
// are split into `--jobs` groups (default 3) of about equal recorded time, the longest file first
// onto the group with the least time so far. Times come from test/support/file-times.json (made
// with --save-times from a run's timings.json); a file without a recorded time counts as
// DEFAULT_SECONDS. Files that look at host-wide state (TOGETHER) always share a group, so they
// run one after another. Each group is one mocha process with .mocharc.json (root hooks per
// process) and its files in the globs' order, so unit tests still run first while the test roots
// finish building in the background.
//
// Output: the first group's output is printed as it comes; every other group's goes to its log
// file and is printed whole after the first ended (each headed by a line), so no two spec outputs
// interleave and every failure shows with its test's name in mocha's summary of its group. The
// exit code is the sum of the groups' (mocha's number of failures; a group killed by a signal
// counts 1), at most 255: 0 only when every group passed. With TWINSYNC_TEST_TIMINGS=PATH (the
// timing reporter's), each group writes its own file and PATH gets them merged, with each
// group's files, wall time and exit code.
//
// A failing run ends with its failures again (`failuresOf` each failing group's log), headed by
// a line, and writes them to failures.txt in the logs folder (.ci/run prints that file last): a
// reader who sees only the tail of a long CI log (session 34's CI showed its last part, group 2's
// passing tests, and not group 1's one failure) still sees each failing test's name and error.
import { spawn } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { stripVTControlCharacters } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const TIMES_FILE = join(ROOT, 'test', 'support', 'file-times.json')

/** The time a file without a recorded one is counted with (seconds). */
export const DEFAULT_SECONDS = 10

/**
 * Files that must not run at the same time as each other, because one looks at host-wide state
 * that another makes: they always go into one group. Each set with the reason.
 */
export const TOGETHER: ReadonlyArray<{ files: readonly string[]; why: string }> = [
  {
    files: ['test/e2e/rehearse.test.ts', 'test/e2e/rehearse-live.test.ts', 'test/integration/dnf-plugin.test.ts'],
    why:
      "rehearse.test.ts asserts that no rehearsal is left on the host: no entry in /run/twinsync/rehearsal, no systemd-nspawn or twinsync-rehearsal process in the host's /proc; the other two run rehearsals (rehearse-live's nested containers show in the host's /proc)",
  },
]

export interface Group {
  files: string[]
  /** Recorded (or default) seconds of its files. */
  seconds: number
}

/**
 * Split files (paths relative to the repository) into at most `jobs` groups of about equal time:
 * every file in exactly one group, each group's files in their order in `files`, no empty group.
 */
export function splitFiles(
  files: readonly string[],
  times: Readonly<Record<string, number>>,
  jobs: number,
  together: ReadonlyArray<{ files: readonly string[] }> = TOGETHER,
): Group[] {
  const index = new Map(files.map((file, i) => [file, i]))
  const seconds = (file: string): number => {
    const t = times[file]
    return typeof t === 'number' && Number.isFinite(t) && t >= 0 ? t : DEFAULT_SECONDS
  }
  // Units that go into a group whole: each TOGETHER set (what of it is in `files`), each other file alone.
  const units: Array<{ files: string[]; seconds: number; first: number }> = []
  const placed = new Set<string>()
  for (const set of together) {
    const present = [...new Set(set.files)].filter((f) => index.has(f))
    if (present.length === 0) continue
    present.forEach((f) => placed.add(f))
    units.push({ files: present, seconds: present.reduce((s, f) => s + seconds(f), 0), first: Math.min(...present.map((f) => index.get(f) as number)) })
  }
  for (const [file, i] of index) {
    if (!placed.has(file)) units.push({ files: [file], seconds: seconds(file), first: i })
  }
  // Longest first, each onto the group with the least time so far (ties: the earlier unit, the lower group).
  units.sort((a, b) => b.seconds - a.seconds || a.first - b.first)
  const count = Math.max(1, Math.min(Math.floor(jobs), units.length))
  const groups: Group[] = Array.from({ length: count }, () => ({ files: [], seconds: 0 }))
  for (const unit of units) {
    const target = groups.reduce((best, g) => (g.seconds < best.seconds ? g : best))
    target.files.push(...unit.files)
    target.seconds += unit.seconds
  }
  for (const g of groups) g.files.sort((a, b) => (index.get(a) as number) - (index.get(b) as number))
  return groups.filter((g) => g.files.length > 0)
}

/** The recorded seconds per file (test/support/file-times.json); none when it is missing. */
export function readTimes(path = TIMES_FILE): Record<string, number> {
  if (!existsSync(path)) return {}
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { seconds?: Record<string, number> }
  return parsed.seconds ?? {}
}

/** file-times.json's content from a timing reporter's timings.json (files sorted by name). */
export function timesFromTimings(timings: { files: Array<{ file: string; seconds: number }> }, source: string): string {
  const seconds: Record<string, number> = {}
  for (const { file, seconds: s } of [...timings.files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    seconds[file] = Math.round(s * 10) / 10
  }
  const doc = {
    '//': 'Seconds per test file, for test/support/split-suite.ts to balance its groups. Refresh: node --import tsx test/support/split-suite.ts --save-times TIMINGS.json',
    source,
    seconds,
  }
  return `${JSON.stringify(doc, null, 1)}\n`
}

/** The test files the globs name, as mocha itself finds them, relative to the repository, each once. */
export async function lookUpFiles(globs: readonly string[]): Promise<string[]> {
  // mocha's own lookup (the one `mocha GLOB...` uses), so both ways run the same files.
  const lookup = pathToFileURL(createRequire(import.meta.url).resolve('mocha/lib/cli/lookup-files.js')).href
  const { lookupFiles } = (await import(lookup)) as { lookupFiles: (glob: string, extensions: string[], recursive: boolean) => string | string[] }
  const out: string[] = []
  for (const glob of globs) {
    const found = lookupFiles(glob, ['.js', '.cjs', '.mjs'], false)
    for (const file of Array.isArray(found) ? found : [found]) {
      const rel = relative(ROOT, resolve(ROOT, file))
      if (!out.includes(rel)) out.push(rel)
    }
  }
  return out
}

/** At most this many lines of one group's failures are repeated at the end. */
const FAILURE_LINES = 150

/**
 * The failures mocha's spec reporter printed at the end of a group's log: from its "N failing"
 * line up to the timing reporter's "Slowest files" (or the end), at most FAILURE_LINES lines.
 * A group that printed no such line (killed, or mocha failed before it ran a test) gives its
 * log's last 40 lines instead.
 */
export function failuresOf(log: string): string {
  const lines = log.split('\n')
  const plain = lines.map((l) => stripVTControlCharacters(l))
  const start = plain.findIndex((l) => /^\s+\d+ failing\s*$/.test(l))
  if (start < 0) return `(no "failing" summary in the log; its last lines:)\n${lines.slice(-40).join('\n')}`
  let end = plain.findIndex((l, i) => i > start && /^\s+Slowest files \(/.test(l))
  if (end < 0) end = lines.length
  const part = lines.slice(start, end)
  while (part.length > 0 && plain[start + part.length - 1]?.trim() === '') part.pop()
  const cut = part.length > FAILURE_LINES ? [...part.slice(0, FAILURE_LINES), `  … ${part.length - FAILURE_LINES} more lines in the group's log`] : part
  return cut.join('\n')
}

export interface TimingsFile {
  files: Array<{ file: string; seconds: number }>
  describes: unknown[]
  /** CPU seconds of the group's mocha process and of the programs it ran (timing-reporter.cjs). */
  cpu?: { self: number; children: number }
  /** The peak resident memory of the group's mocha process, MB (timing-reporter.cjs; session 37). */
  maxRssMB?: number
}

/** The groups' timings.json merged into one, with what each group ran, how long it took and (when reported) the CPU it used. */
export function mergeTimings(
  parts: Array<TimingsFile | undefined>,
  groups: Array<{ files: string[]; wallSeconds: number; exitCode: number | null }>,
): TimingsFile & { groups: unknown[] } {
  const files = parts.flatMap((p) => p?.files ?? []).sort((a, b) => b.seconds - a.seconds)
  const describes = parts.flatMap((p) => p?.describes ?? [])
  return {
    files,
    describes,
    groups: groups.map((g, i) => {
      const cpu = parts[i]?.cpu
      const maxRssMB = parts[i]?.maxRssMB
      return { group: i + 1, wallSeconds: Math.round(g.wallSeconds), exitCode: g.exitCode, ...(cpu === undefined ? {} : { cpuSeconds: Math.round(cpu.self + cpu.children) }), ...(maxRssMB === undefined ? {} : { maxRssMB }), files: g.files }
    }),
  }
}

/** One line of how busy the cores were: the groups' CPU against the wall time of the run (undefined without every group's CPU). */
export function cpuLine(parts: Array<TimingsFile | undefined>, wallSeconds: number, cores: number): string | undefined {
  if (parts.length === 0 || parts.some((p) => p?.cpu === undefined) || wallSeconds <= 0) return undefined
  const cpu = parts.reduce((sum, p) => sum + (p?.cpu?.self ?? 0) + (p?.cpu?.children ?? 0), 0)
  return `split-suite: ${Math.round(cpu)} s of CPU in ${Math.round(wallSeconds)} s on ${cores} cores: ${Math.round((100 * cpu) / (wallSeconds * cores))}% busy (a lower bound: daemons that left their parent are not counted)`
}

interface Options {
  jobs: number
  reporter: string | undefined
  logs: string | undefined
  globs: string[]
  mochaArgs: string[]
}

/** Parse the command line; throws an Error with a usage message on bad input. */
export function parseArgs(argv: readonly string[]): Options {
  const options: Options = { jobs: 3, reporter: undefined, logs: undefined, globs: [], mochaArgs: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${arg} needs a value`)
      return v
    }
    if (arg === '--') {
      options.mochaArgs = argv.slice(i + 1)
      break
    } else if (arg === '--jobs' || arg === '-j') {
      const v = value()
      if (!/^[1-9]\d*$/.test(v)) throw new Error(`--jobs takes a whole number of at least 1, not ${JSON.stringify(v)}`)
      options.jobs = Number(v)
    } else if (arg === '--reporter') options.reporter = value()
    else if (arg === '--logs') options.logs = value()
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg} (mocha's options go after --)`)
    else options.globs.push(arg)
  }
  if (options.globs.length === 0) throw new Error('no test files given (globs)')
  return options
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--save-times') {
    const from = argv[1]
    if (from === undefined) throw new Error('--save-times needs the path of a timings.json')
    writeFileSync(TIMES_FILE, timesFromTimings(JSON.parse(readFileSync(from, 'utf8')) as TimingsFile, from))
    process.stdout.write(`split-suite: wrote ${relative(process.cwd(), TIMES_FILE)}\n`)
    return 0
  }
  const options = parseArgs(argv)
  const files = await lookUpFiles(options.globs)
  if (files.length === 0) throw new Error(`no test files match ${options.globs.join(' ')}`)
  const groups = splitFiles(files, readTimes(), options.jobs)
  const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js')
  const timingsPath = process.env.TWINSYNC_TEST_TIMINGS
  const reporter = options.reporter === undefined ? [] : ['--reporter', options.reporter]
  const argsOf = (g: Group) => [mocha, ...reporter, ...options.mochaArgs, ...g.files]

  if (groups.length === 1) {
    // One process: mocha as before, its output straight through.
    const child = spawn(process.execPath, argsOf(groups[0] as Group), { cwd: ROOT, stdio: 'inherit' })
    const stop = forward([child])
    const code = await new Promise<number>((done) => child.once('exit', (c) => done(c ?? 1)))
    stop()
    return code
  }

  const logs = options.logs ?? mkdtempSync(join(tmpdir(), 'twinsync-suite-'))
  mkdirSync(logs, { recursive: true })
  const total = groups.length
  process.stdout.write(
    `split-suite: ${files.length} test files in ${total} mocha processes at once (recorded seconds: ${groups.map((g) => Math.round(g.seconds)).join(', ')}); the output of ${total === 2 ? 'group 2' : `groups 2-${total}`} follows the first's (logs: ${logs})\n`,
  )
  const started = Date.now()
  const runs = groups.map((group, i) => {
    const n = i + 1
    const log = join(logs, `group-${n}.log`)
    const out = createWriteStream(log)
    const env = { ...process.env, ...(timingsPath ? { TWINSYNC_TEST_TIMINGS: join(logs, `timings-${n}.json`) } : {}) }
    const child = spawn(process.execPath, argsOf(group), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        out.write(chunk)
        if (n === 1) (stream === child.stdout ? process.stdout : process.stderr).write(chunk)
      })
    }
    const exited = new Promise<{ code: number | null; seconds: number }>((done) => {
      child.once('close', (code) => {
        const seconds = (Date.now() - started) / 1000
        out.end(() => done({ code, seconds }))
      })
    })
    return { n, group, log, child, exited }
  })
  const stop = forward(runs.map((r) => r.child))
  const results: Array<{ code: number | null; seconds: number }> = []
  for (const r of runs) {
    const result = await r.exited
    results.push(result)
    if (r.n === 1) {
      process.stdout.write(`\nsplit-suite: group 1 of ${total} ended after ${Math.round(result.seconds)} s (${describeCode(result.code)})\n`)
      continue
    }
    process.stdout.write(`\nsplit-suite: ===== group ${r.n} of ${total}: ${r.group.files.length} files, ended after ${Math.round(result.seconds)} s (${describeCode(result.code)}); its output: =====\n`)
    process.stdout.write(readFileSync(r.log))
  }
  stop()

  if (timingsPath) {
    const parts = runs.map((r) => {
      const path = join(logs, `timings-${r.n}.json`)
      return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as TimingsFile) : undefined
    })
    const merged = mergeTimings(parts, runs.map((r, i) => ({ files: r.group.files, wallSeconds: results[i]?.seconds ?? 0, exitCode: results[i]?.code ?? null })))
    writeFileSync(timingsPath, `${JSON.stringify(merged, null, 1)}\n`)
    const busy = cpuLine(parts, Math.max(...results.map((r) => r.seconds)), availableParallelism())
    if (busy !== undefined) process.stdout.write(`${busy}\n`)
  }
  const lines = runs.map((r, i) => `split-suite: group ${r.n} of ${total}: ${r.group.files.length} files, ${Math.round(results[i]?.seconds ?? 0)} s, ${describeCode(results[i]?.code ?? null)}`)
  process.stdout.write(`\n${lines.join('\n')}\n`)
  const failures = results.reduce((sum, r) => sum + (r.code ?? 1), 0)
  if (failures > 0) {
    const failed = runs.filter((_, i) => results[i]?.code !== 0)
    const text = failed
      .map((r) => `split-suite: ===== group ${r.n} of ${total} failed (${describeCode(results[r.n - 1]?.code ?? null)}); its failures, from ${r.log}: =====\n${failuresOf(readFileSync(r.log, 'utf8'))}\n`)
      .join('\n')
    writeFileSync(join(logs, 'failures.txt'), text)
    process.stdout.write(`\n${text}`)
    process.stdout.write('split-suite: FAILED: the failures are above, each with its test name (and in failures.txt in the logs folder)\n')
  }
  return Math.min(255, failures)
}

function describeCode(code: number | null): string {
  if (code === 0) return 'passed'
  if (code === null) return 'killed by a signal'
  return `exit code ${code}: failures`
}

/** Pass SIGINT/SIGTERM/SIGHUP on to the groups (each one's test bed then stops what it started). */
function forward(children: Array<ReturnType<typeof spawn>>): () => void {
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => {
    const handler = () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal)
    }
    process.on(signal, handler)
    return () => process.off(signal, handler)
  })
  return () => handlers.forEach((off) => off())
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`split-suite: ${(error as Error).message}\n`)
      process.exit(2)
    },
  )
}
