// npm run bench:compare: one TwinSync command run by two builds, old and new, the way a speed
// change is measured (docs/testing.md, "Comparing two builds"): each build its own code-cache
// folder, config, data folder and (with --twin) its own copy of a twin; both warmed up first
// (the first run writes the code caches); their outputs compared byte for byte; then callgrind
// counts in interleaved pairs (measure.ts's `instructions`: V8's random seed fixed, no hash seed,
// the long-run markers left as they were), and optionally wall and CPU time in interleaved pairs.
// With each count it prints what the count depends on besides the code (measure.ts's `counted`):
// the V8 flag markers each side's code-cache folder held (`long-run-*`, `large-heap-*`:
// core/bin/v8-flags.js chooses a run's flags by them) and the run's garbage collections, and it
// names a pair whose two runs differ in either (not like for like), with the like pairs' figure.
//
//   node --import tsx test/bench/compare.ts --old /path/to/old/checkout [--pairs 3] [--wall 0] \
//     [--twin /path/to/twin] [--config file] [--mask REGEX] -- history --limit 1000 --json --repo {twin}
//
// --mask: what matches it is left out of the comparison of the outputs (a timing a command
// prints, as `snapshot --json`'s providers' `"durationMs": \d+`).
// The old checkout is a built one (its core/bin/run.js, its bundles, its node_modules giving
// its own @twinsync/sdk). `{twin}` in the arguments is each side's copy of --twin. The new side
// is this checkout. On this shared machine run it niced (`nice -n 10`).
import { cp, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { makeTempDir, removeTree, repoRoot, run, type RunResult } from '../bed/index.js'
import { counted, describeCounts, median, type Count } from './measure.js'

interface Side {
  name: string
  bin: string
  dir: string
  env: Record<string, string>
  args: string[]
}

const CPU_PRELOAD = join(repoRoot, 'test', 'bench', 'cpu-usage.cjs')

function usage(message: string): never {
  process.stderr.write(`compare: ${message}\nusage: compare.ts --old CHECKOUT [--pairs N] [--wall N] [--twin DIR] [--config FILE] [--mask REGEX] -- twinsync arguments ({twin}: each side's copy)\n`)
  process.exit(2)
}

function parse(argv: string[]) {
  const cut = argv.indexOf('--')
  if (cut < 0) usage('no -- before the command')
  const own = argv.slice(0, cut)
  const command = argv.slice(cut + 1)
  const options = new Map<string, string>()
  for (let i = 0; i < own.length; i += 2) {
    const key = own[i] as string
    if (!['--old', '--pairs', '--wall', '--twin', '--config', '--mask'].includes(key) || own[i + 1] === undefined) usage(`unknown or incomplete option ${key}`)
    options.set(key, own[i + 1] as string)
  }
  const old = options.get('--old') ?? usage('--old is required')
  const count = (key: string, fallback: number) => {
    const n = Number(options.get(key) ?? fallback)
    if (!Number.isInteger(n) || n < 0) usage(`${key} takes a whole number`)
    return n
  }
  const mask = options.get('--mask')
  return { old: resolve(old), pairs: count('--pairs', 3), wall: count('--wall', 0), twin: options.get('--twin'), config: options.get('--config'), mask: mask === undefined ? undefined : new RegExp(mask, 'g'), command }
}

async function side(name: string, checkout: string, command: string[], twin: string | undefined, config: string | undefined): Promise<Side> {
  const dir = await makeTempDir(`compare-${name}`)
  const configFile = join(dir, 'config.yaml')
  await writeFile(configFile, config === undefined ? '{}\n' : await readFile(config, 'utf8'))
  if (twin !== undefined) await cp(twin, join(dir, 'twin'), { recursive: true, verbatimSymlinks: true })
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    // The build's own code caches (see measure.ts's `instructions`).
    XDG_CACHE_HOME: join(dir, '.cache'),
    TWINSYNC_DATA_DIR: join(dir, 'data'),
    TWINSYNC_CONFIG: configFile,
    TWINSYNC_CREDENTIALS: join(dir, 'credentials'),
  }
  const args = command.map((a) => a.split('{twin}').join(join(dir, 'twin')))
  return { name, bin: join(checkout, 'core', 'bin', 'run.js'), dir, env, args }
}

async function once(s: Side, more: Record<string, string> = {}): Promise<RunResult> {
  const r = await run(['node', s.bin, ...s.args], { env: { ...s.env, ...more }, timeoutMs: 900_000 })
  if (r.code !== 0) throw new Error(`${s.name}: exited ${r.code ?? r.signal}:\n${r.stderr.trim().split('\n').slice(-15).join('\n')}`)
  return r
}

/** Where two outputs first differ (undefined: the same bytes); each side's folder read as {side}, what `mask` matches as {masked}. */
function firstDifference(a: Side, ra: RunResult, b: Side, rb: RunResult, mask: RegExp | undefined): string | undefined {
  const plain = (text: string, s: Side) => {
    const own = text.split(s.dir).join('{side}')
    return mask === undefined ? own : own.replace(mask, '{masked}')
  }
  const x = plain(ra.stdout, a)
  const y = plain(rb.stdout, b)
  if (x === y) return undefined
  let i = 0
  while (i < x.length && x[i] === y[i]) i++
  return `stdout differs at character ${i} of ${x.length} / ${y.length}: ${JSON.stringify(x.slice(Math.max(0, i - 40), i + 40))} vs ${JSON.stringify(y.slice(Math.max(0, i - 40), i + 40))}`
}

const options = parse(process.argv.slice(2))
const oldSide = await side('old', options.old, options.command, options.twin, options.config)
const newSide = await side('new', repoRoot, options.command, options.twin, options.config)
try {
  // Warm-up: the first run writes each build's code caches, the second runs from them.
  for (const s of [oldSide, newSide]) await once(s)
  const outputs = [await once(oldSide), await once(newSide)] as const
  const difference = firstDifference(oldSide, outputs[0], newSide, outputs[1], options.mask)
  console.log(`command: twinsync ${options.command.join(' ')}`)
  console.log(`output: ${difference ?? `the same bytes (${outputs[0].stdout.length} characters of stdout${options.mask === undefined ? '' : `, ${options.mask.source} left out`})`}`)
  if (options.pairs > 0) {
    const pairs: Array<{ old: Count; new: Count }> = []
    for (let i = 0; i < options.pairs; i++) {
      const pair: Partial<Record<'old' | 'new', Count>> = {}
      for (const s of i % 2 === 0 ? [oldSide, newSide] : [newSide, oldSide]) {
        const n = await counted([s.bin, ...s.args], { env: s.env, timeoutMs: 900_000 })
        if (n === undefined) throw new Error('valgrind is not installed (Debian package valgrind)')
        pair[s.name as 'old' | 'new'] = n
      }
      pairs.push(pair as { old: Count; new: Count })
    }
    console.log(describeCounts(pairs).join('\n'))
  }
  if (options.wall > 0) {
    const wall: Record<string, number[]> = { old: [], new: [] }
    const cpu: Record<string, number[]> = { old: [], new: [] }
    for (let i = 0; i < options.wall; i++) {
      for (const s of i % 2 === 0 ? [oldSide, newSide] : [newSide, oldSide]) {
        const cpuFile = join(s.dir, 'cpu')
        await rm(cpuFile, { force: true })
        const started = performance.now()
        await once(s, { NODE_OPTIONS: `--require=${CPU_PRELOAD}`, TWINSYNC_BENCH_CPU_FILE: cpuFile })
        ;(wall[s.name] as number[]).push(performance.now() - started)
        ;(cpu[s.name] as number[]).push(Number((await readFile(cpuFile, 'utf8')).trim()))
      }
    }
    const paired = (x: Record<string, number[]>) => median((x.new as number[]).map((n, i) => n - ((x.old as number[])[i] as number)))
    const ms = (n: number) => `${n.toFixed(1)} ms`
    console.log(`wall, ${options.wall} interleaved pairs: medians ${ms(median(wall.old as number[]))} -> ${ms(median(wall.new as number[]))}, paired ${ms(paired(wall))}`)
    console.log(`CPU of the node process (user + sys): medians ${ms(median(cpu.old as number[]))} -> ${ms(median(cpu.new as number[]))}, paired ${ms(paired(cpu))}`)
  }
  if (difference !== undefined) process.exitCode = 1
} finally {
  await removeTree(oldSide.dir)
  await removeTree(newSide.dir)
}
