// Timing and peak memory of one command, and medians over runs.
//
// Every measured command runs under GNU time (`/usr/bin/time -f %M`), the same wrapper for
// TwinSync and for etckeeper, so both pay the same few hundred microseconds for it and both
// get a peak resident set size: the largest single process of the command (node itself for
// TwinSync, usually git for etckeeper), not a sum over the processes it ran.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { findTool, requireTools, run, type RunOptions, type RunResult } from '../bed/index.js'

export interface Sample {
  ms: number
  /** Peak resident set size of the largest process, in MB (1 MB = 2^20 bytes). */
  peakMb: number
  result: RunResult
}

let counter = 0

/** Run argv once under GNU time. Rejects unless the exit code is one of okCodes (default 0). */
export async function measure(argv: string[], options: RunOptions & { okCodes?: number[] } = {}): Promise<Sample> {
  requireTools('time') // GNU time, Debian package `time`
  const time = findTool('time') as string
  const out = join(tmpdir(), `twinsync-bench-time-${process.pid}-${counter++}`)
  const started = performance.now()
  const result = await run([time, '-f', '%M', '-o', out, ...argv], options)
  const ms = performance.now() - started
  const kb = Number((await readFile(out, 'utf8').catch(() => '')).trim().split('\n').pop())
  await rm(out, { force: true })
  if (!(options.okCodes ?? [0]).includes(result.code ?? -1)) {
    const output = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-15).join('\n')
    throw new Error(`${argv.join(' ')} exited ${result.code ?? result.signal}:\n${output}`)
  }
  return { ms, peakMb: Number.isFinite(kb) ? kb / 1024 : NaN, result }
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

export interface Medians {
  ms: number
  peakMb: number
  runs: number
  /** Every run's time, in order (for paired differences). */
  times: number[]
}

export function medians(samples: Sample[]): Medians {
  const times = samples.map((s) => s.ms)
  return { ms: median(times), peakMb: median(samples.map((s) => s.peakMb)), runs: samples.length, times }
}

/**
 * The median of the run-by-run differences a − b of two interleaved measurements: steadier
 * than the difference of two medians when the machine's load drifts during the runs.
 */
export function pairedDifference(a: Medians, b: Medians): number {
  return median(a.times.map((t, i) => t - (b.times[i] ?? NaN)))
}

/**
 * The user-space instructions one run of a node program executes, counted by callgrind
 * (valgrind; `--trace-children=no`, so a child such as git is not counted), with V8's random seed
 * fixed: two runs of the same unchanged snapshot of the minbase root agree to about 0.1%, where
 * its wall and CPU times move by several percent on a shared machine. About 30 times slower than
 * the run itself. undefined without valgrind. `nodeArgv` is what follows `node`.
 *
 * Counted as a person's run of TwinSync runs (session 38; until then the figures counted more):
 * - No `--hash-seed=1` (sessions 25-37 gave it): V8's hash seed is part of the flag hash V8
 *   stamps on cached code, so Node's own modules' code caches, built into node under the
 *   defaults, were refused and each module a run loads was compiled from source: `history
 *   --limit 1000 --json` of the bench's twin 433 M with it, 367 M without. `--random-seed=1`
 *   is left out of that hash and keeps a count repeatable to about 0.1 M.
 * - The run leaves the `long-run-<command>` markers of its code-cache folder (core/bin/v8-flags.js)
 *   as it found them (`keepingLongRunMarkers`): under valgrind every run takes more than
 *   LONG_CPU, so its marker made the next run of the command take V8's default budget instead
 *   of the short run's flags: a series measured the long run's flags (the same history 341 M
 *   with the short run's, 367 M with the long run's), and a timed run after a count did too.
 * - A code-cache folder of its own for each build measured (`XDG_CACHE_HOME`; compare.ts gives
 *   each side one): requireCached keeps one build's caches of a file, so two builds sharing a
 *   folder deleted each other's caches and each run compiled from source.
 */
export async function instructions(nodeArgv: string[], options: RunOptions & { okCodes?: number[] } = {}): Promise<number | undefined> {
  const valgrind = findTool('valgrind')
  if (valgrind === undefined) return undefined
  const argv = [valgrind, '--tool=callgrind', '--callgrind-out-file=/dev/null', 'node', '--random-seed=1', ...nodeArgv]
  const result = await keepingLongRunMarkers(codeCacheDir(options.env ?? process.env), () => run(argv, options))
  if (!(options.okCodes ?? [0]).includes(result.code ?? -1)) throw new Error(`${argv.join(' ')} exited ${result.code ?? result.signal}:\n${result.stderr.trim().split('\n').slice(-15).join('\n')}`)
  const collected = /Collected : (\d+)/.exec(result.stderr)
  if (collected === null) throw new Error(`callgrind printed no count:\n${result.stderr.trim().split('\n').slice(-15).join('\n')}`)
  return Number(collected[1])
}

/** The code-cache folder a TwinSync run with this environment uses (core/bin/code-cache.js's cacheDir). */
export function codeCacheDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CACHE_HOME
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.cache')
  return join(base, 'twinsync', 'v8')
}

/**
 * `measured()` with the `long-run-*` markers of the code-cache folder `dir` set back afterwards
 * to what they were before (one it wrote removed, one it removed written again): a run under
 * valgrind is slow enough to mark its command long, which no run outside it would (see
 * `instructions`). The other markers (`large-heap-*`, V8's heap in use) are the same under
 * valgrind and are left to the run.
 */
export async function keepingLongRunMarkers<T>(dir: string, measured: () => Promise<T>): Promise<T> {
  const markers = async () => (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith('long-run-'))
  const before = new Set(await markers())
  try {
    return await measured()
  } finally {
    for (const f of await markers()) if (!before.has(f)) await rm(join(dir, f), { force: true })
    for (const f of before) await writeFile(join(dir, f), '', { mode: 0o600, flag: 'a' }).catch(() => undefined)
  }
}

/**
 * Repeat a measurement `runs` times, but stop early (after at least one run) once `budgetMs`
 * is spent, so one very slow operation cannot hold the whole benchmark for an hour. The number
 * of runs actually made is reported with the median.
 */
export async function repeat(runs: number, once: (i: number) => Promise<Sample>, budgetMs = Infinity): Promise<Medians> {
  const samples: Sample[] = []
  const started = performance.now()
  for (let i = 0; i < runs; i++) {
    samples.push(await once(i))
    if (performance.now() - started > budgetMs) break
  }
  return medians(samples)
}

/**
 * Two measurements interleaved (a, b, a, b, ...), so a burst of load on this shared machine
 * hits both sides alike instead of one of them. Stops early like repeat() once budgetMs is spent.
 */
export async function sideBySide(
  runs: number,
  a: (i: number) => Promise<Sample>,
  b: (i: number) => Promise<Sample>,
  budgetMs = Infinity,
): Promise<[Medians, Medians]> {
  const as: Sample[] = []
  const bs: Sample[] = []
  const started = performance.now()
  for (let i = 0; i < runs; i++) {
    as.push(await a(i))
    bs.push(await b(i))
    if (performance.now() - started > budgetMs) break
  }
  return [medians(as), medians(bs)]
}
