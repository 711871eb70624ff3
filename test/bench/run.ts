// npm run bench: TwinSync side by side with etckeeper on the same roots, start-up, history,
// a plugin's cost, a synthetic scale root (time and peak memory) and the repository's growth
// over many snapshots. Prints one table of medians against issue 22's goals and writes the
// same rows as JSON. It never fails a build: speed is measured and reported, not asserted
// (timed assertions are flaky on shared machines).
//
//   BENCH_RUNS=7        runs per measurement (median reported); BENCH_QUICK=1 makes it 3
//   BENCH_QUICK=1       a short run: fewer runs and snapshots, to prove the bench works
//   BENCH_SNAPSHOTS=N   snapshots for the repository-growth section (default 1000; quick 30)
//   BENCH_ONLY=a,b      only these sections (names in sections.ts; growth-scale runs only when named)
//   BENCH_UNTIL=time    growth-scale stops its snapshots at this time (its rows say partial)
//   BENCH_OUT=path      where the JSON goes (default bench-results.json in the repository)
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { repoRoot, run } from '../bed/index.js'
import { etckeeper, type Etckeeper } from './etckeeper.js'
import { machine, renderTable, row, writeJson, type BenchRow } from './report.js'
import { runsIn, SECTIONS, type BenchContext } from './sections.js'

const quick = process.env.BENCH_QUICK === '1'
const runs = Number(process.env.BENCH_RUNS ?? (quick ? 3 : 7))
const snapshots = Number(process.env.BENCH_SNAPSHOTS ?? (quick ? 30 : 1000))
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean)
const out = process.env.BENCH_OUT ?? join(repoRoot, 'bench-results.json')

const notes: string[] = []
let tool: Promise<Etckeeper> | undefined
const ctx: BenchContext = {
  runs,
  quick,
  snapshots,
  progress: (message) => process.stderr.write(`bench: ${message}\n`),
  note: (text) => {
    if (!notes.includes(text)) notes.push(text)
  },
  etckeeper: () => {
    tool ??= etckeeper().then((t) => {
      ctx.note(t.how)
      return t
    })
    return tool
  },
}

const startedAt = new Date().toISOString()
// Which code was measured: the figures of a run belong to one commit.
const commit = (await run(['git', '-C', repoRoot, 'describe', '--always', '--dirty'])).stdout.trim()
const host = machine()
const rows: BenchRow[] = []
for (const section of SECTIONS) {
  if (!runsIn(section, only)) continue
  const started = performance.now()
  try {
    rows.push(...(await section.run(ctx)))
  } catch (error) {
    process.stderr.write(`bench: section ${section.name} failed: ${(error as Error).stack ?? String(error)}\n`)
    rows.push({ ...row(section.name, `${section.name}: FAILED`, {}), note: (error as Error).message.split('\n').slice(0, 4).join(' | ') })
  }
  ctx.progress(`section ${section.name} took ${((performance.now() - started) / 1000).toFixed(0)} s`)
}
host.loadEnd = loadavg()

const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ')
console.log(
  `\nCommit ${commit}. Medians of ${runs} runs unless noted${quick ? ' (BENCH_QUICK=1: a rough run)' : ''}. ${host.cpus} CPUs; load average ${load(host.loadStart)} at the start, ${load(host.loadEnd)} at the end.\n` +
    'On a shared or busy machine the figures are noisy; the ratios (both tools interleaved run by run) are the steadier part.\n',
)
console.log(renderTable(rows))
if (notes.length > 0) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`)
await writeJson(out, { startedAt, finishedAt: new Date().toISOString(), settings: { commit, runs, quick, snapshots, only }, machine: host, notes, rows })
console.log(`\nJSON: ${out}`)
