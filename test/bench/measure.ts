// Timing and peak memory of one command, and medians over runs.
//
// Every measured command runs under GNU time (`/usr/bin/time -f %M`), the same wrapper for
// TwinSync and for etckeeper, so both pay the same few hundred microseconds for it and both
// get a peak resident set size: the largest single process of the command (node itself for
// TwinSync, usually git for etckeeper), not a sum over the processes it ran.
import { readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
 * (valgrind; `--trace-children=no`, so a child such as git is not counted), with V8's hash and
 * random seeds fixed: two runs of the same unchanged snapshot of the minbase root agree to about
 * 0.1% (476.3 and 475.9 M, session 25), where its wall and CPU times move by several percent on a
 * shared machine. About 30 times slower than the run itself. undefined without valgrind.
 * `nodeArgv` is what follows `node`; a changed seed changes V8's flag hash, so the first such run
 * compiles every code cache anew (count it out).
 */
export async function instructions(nodeArgv: string[], options: RunOptions & { okCodes?: number[] } = {}): Promise<number | undefined> {
  const valgrind = findTool('valgrind')
  if (valgrind === undefined) return undefined
  const argv = [valgrind, '--tool=callgrind', '--callgrind-out-file=/dev/null', 'node', '--hash-seed=1', '--random-seed=1', ...nodeArgv]
  const result = await run(argv, options)
  if (!(options.okCodes ?? [0]).includes(result.code ?? -1)) throw new Error(`${argv.join(' ')} exited ${result.code ?? result.signal}:\n${result.stderr.trim().split('\n').slice(-15).join('\n')}`)
  const collected = /Collected : (\d+)/.exec(result.stderr)
  if (collected === null) throw new Error(`callgrind printed no count:\n${result.stderr.trim().split('\n').slice(-15).join('\n')}`)
  return Number(collected[1])
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
