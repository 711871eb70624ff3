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
  return (await counted(nodeArgv, options))?.instructions
}

/** One callgrind count (`counted`): what it says, the V8 flag markers it started with, its collections. */
export interface Count {
  /** Node's user-space instructions (all its threads). */
  instructions: number
  /** The V8 flag markers of the code-cache folder when the run started (`flagMarkers`). */
  markers: string[]
  /** Young-generation collections (scavenges) and mark-compacts; undefined where node has no symbols to tell. */
  gc?: { scavenges: number; markCompacts: number }
}

/**
 * `instructions`, and what a count depends on besides the code (session 43): the V8 flag markers
 * the run started with (other markers, other V8 flags) and its garbage collections, read from
 * callgrind's call counts of V8's own functions (node's symbols: `ScavengerCollector::
 * CollectGarbage`, `Heap::MarkCompact`). Under valgrind a run is 30-100 times slower, and V8
 * 11.3 decides at each scavenge whether to grow its young generation (by 16 for a short run,
 * core/bin/v8-flags.js) from the allocation rate it measured in wall time (heap.cc's
 * ShouldResizeNewSpace): under 1,000 bytes a millisecond it means to shrink it, and a growth and
 * a shrink both due cancel out. A real run allocates tens of MB a second and never gets there; a
 * callgrind run on a loaded machine sometimes does, and then the young generation grows a
 * scavenge or two later. The same build on the same twin (`plan`, services root, load 11-17):
 * 2 scavenges 435.7-436.0 M (13 runs), 4 scavenges 443.9-444.2 M (4 runs; V8 asked 4 times
 * whether to grow and grew once). So two counts with other collections are not like for like
 * (compare.ts says so), whatever the code.
 */
export async function counted(nodeArgv: string[], options: RunOptions & { okCodes?: number[] } = {}): Promise<Count | undefined> {
  const valgrind = findTool('valgrind')
  if (valgrind === undefined) return undefined
  const env = options.env ?? process.env
  const markers = await flagMarkers(env)
  const out = join(tmpdir(), `twinsync-bench-callgrind-${process.pid}-${counter++}`)
  // Names written out (no compression), so the call counts of V8's collectors can be read by name.
  const argv = [valgrind, '--tool=callgrind', `--callgrind-out-file=${out}`, '--compress-strings=no', 'node', '--random-seed=1', ...nodeArgv]
  try {
    const result = await keepingLongRunMarkers(codeCacheDir(env), () => run(argv, options))
    if (!(options.okCodes ?? [0]).includes(result.code ?? -1)) throw new Error(`${argv.join(' ')} exited ${result.code ?? result.signal}:\n${result.stderr.trim().split('\n').slice(-15).join('\n')}`)
    const collected = /Collected : (\d+)/.exec(result.stderr)
    if (collected === null) throw new Error(`callgrind printed no count:\n${result.stderr.trim().split('\n').slice(-15).join('\n')}`)
    const gc = collections(await readFile(out, 'utf8').catch(() => ''))
    return { instructions: Number(collected[1]), markers, ...(gc === undefined ? {} : { gc }) }
  } finally {
    await rm(out, { force: true })
  }
}

/**
 * The scavenges and mark-compacts a callgrind output file (`--compress-strings=no`) records: the
 * calls of V8's `ScavengerCollector::CollectGarbage()` and `Heap::MarkCompact()`. undefined when
 * it names none of V8's functions (a node without symbols).
 */
export function collections(callgrindOut: string): { scavenges: number; markCompacts: number } | undefined {
  let scavenges = 0
  let markCompacts = 0
  let v8 = false
  let callee: string | undefined
  for (const line of callgrindOut.split('\n')) {
    if (line.startsWith('cfn=')) callee = line.slice(4)
    else if (line.startsWith('calls=') && callee !== undefined) {
      const calls = Number(line.slice(6).split(' ')[0])
      if (callee.endsWith('v8::internal::ScavengerCollector::CollectGarbage()')) scavenges += calls
      else if (callee.endsWith('v8::internal::Heap::MarkCompact()')) markCompacts += calls
      callee = undefined
    }
    if (!v8 && line.startsWith('fn=') && line.includes('v8::internal::')) v8 = true
  }
  return v8 ? { scavenges, markCompacts } : undefined
}

/**
 * The V8 flag markers in the code-cache folder a run with this environment uses (core/bin/v8-flags.js:
 * `long-run-<command>`, `large-heap-<command>`), sorted: they choose the flags of its next run.
 */
export async function flagMarkers(env: NodeJS.ProcessEnv): Promise<string[]> {
  const names = await readdir(codeCacheDir(env)).catch(() => [] as string[])
  return names.filter((f) => f.startsWith('long-run-') || f.startsWith('large-heap-')).sort()
}

/**
 * What compare.ts prints of interleaved counts of two builds (`pairs[i]`: pair i's old and new
 * counts): each count with its collections, the medians and the median paired difference, the
 * markers each side's runs started with, and the pairs that are not like for like (other markers
 * or other collections on each side), with the difference of the like pairs alone.
 */
export function describeCounts(pairs: Array<{ old: Count; new: Count }>): string[] {
  const M = (n: number) => `${(n / 1e6).toFixed(1)} M`
  const gcOf = (c: Count) => (c.gc === undefined ? '' : ` (${c.gc.scavenges} scavenges${c.gc.markCompacts > 0 ? `, ${c.gc.markCompacts} mark-compacts` : ''})`)
  const shown = (markers: string[]) => (markers.length === 0 ? 'none' : markers.join(' '))
  const side = (name: 'old' | 'new') => pairs.map((p) => p[name])
  const diff = (list: Array<{ old: Count; new: Count }>) => median(list.map((p) => p.new.instructions - p.old.instructions))
  const base = median(side('old').map((c) => c.instructions))
  const percent = (n: number) => `${((n / base) * 100).toFixed(1)}%`
  const lines = [
    `callgrind (node only), ${pairs.length} interleaved pairs: old ${side('old').map((c) => M(c.instructions) + gcOf(c)).join(', ')}; new ${side('new').map((c) => M(c.instructions) + gcOf(c)).join(', ')}`,
    `  medians ${M(base)} -> ${M(median(side('new').map((c) => c.instructions)))}, paired difference ${M(diff(pairs))} (${percent(diff(pairs))})`,
  ]
  const markersOf = (name: 'old' | 'new') => {
    const distinct = [...new Set(side(name).map((c) => shown(c.markers)))]
    return distinct.length === 1 ? `${distinct[0]} at every run` : side(name).map((c) => shown(c.markers)).join('; ')
  }
  lines.push(`  V8 flag markers in the code-cache folder at each run (core/bin/v8-flags.js): old ${markersOf('old')}; new ${markersOf('new')}`)
  const why = (p: { old: Count; new: Count }) => {
    const reasons: string[] = []
    if (shown(p.old.markers) !== shown(p.new.markers)) reasons.push(`markers ${shown(p.old.markers)} / ${shown(p.new.markers)} (other V8 flags)`)
    if (p.old.gc !== undefined && p.new.gc !== undefined && (p.old.gc.scavenges !== p.new.gc.scavenges || p.old.gc.markCompacts !== p.new.gc.markCompacts)) reasons.push(`collections ${gcOf(p.old).trim()} / ${gcOf(p.new).trim()}`)
    return reasons
  }
  const unlike = pairs.map((p, i) => ({ i, reasons: why(p) })).filter((u) => u.reasons.length > 0)
  if (unlike.length > 0) {
    for (const u of unlike) lines.push(`  NOT LIKE FOR LIKE, pair ${u.i + 1}: ${u.reasons.join('; ')}`)
    const like = pairs.filter((p) => why(p).length === 0)
    lines.push(like.length === 0 ? '  no pair is like for like: count again (a busy machine makes V8 grow its young generation later under valgrind, see measure.ts `counted`)' : `  the ${like.length} like pair${like.length === 1 ? '' : 's'} alone: paired difference ${M(diff(like))} (${percent(diff(like))})`)
  }
  return lines
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
