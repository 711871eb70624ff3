// npm run bench: start-up and snapshot speed, measured on this machine with real tools.
// Prints medians against the goals in the issues; it never fails a build (speed is measured,
// not asserted in tests, which are flaky on shared machines).
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, run } from '../bed/index.js'
import { cliSandbox, json } from '../support/cli.js'

const RUNS = Number(process.env.BENCH_RUNS ?? 7)

async function timeRuns(label: string, argv: () => string[], runs = RUNS): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    const r = await run(argv())
    times.push(performance.now() - started)
    if (r.code !== 0) throw new Error(`${label} failed: ${r.stderr}`)
  }
  return median(times)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

const rows: Array<{ what: string; ms: number; goal?: string }> = []
const cli = await cliSandbox()
const rootfs = await freshRootfs()
try {
  const bin = join(process.cwd(), 'core/bin/run.js')
  rows.push({ what: 'node -e 0', ms: await timeRuns('node', () => ['node', '-e', '0']) })
  rows.push({ what: 'twinsync --version', ms: await timeRuns('version', () => ['node', bin, '--version']), goal: 'close to node -e 0' })
  rows.push({ what: 'twinsync describe (oclif loaded)', ms: await timeRuns('describe', () => ['node', bin, 'describe']) })

  await writeFile(cli.configFile, '{}\n')
  const snap = ['snapshot', '--root', rootfs.dir, '--repo', cli.twinDir, '--json']
  let started = performance.now()
  const first = await cli.twinsync([...snap, '--init'])
  if (first.code !== 0) throw new Error(first.stderr)
  rows.push({ what: 'first snapshot of a Debian root', ms: performance.now() - started })

  const times: number[] = []
  let perProvider: Array<{ name: string; durationMs: number }> = []
  for (let i = 0; i < RUNS; i++) {
    started = performance.now()
    const r = await cli.twinsync(snap)
    times.push(performance.now() - started)
    const out = json<{ commit?: string; providers: Array<{ name: string; durationMs: number }> }>(r)
    if (out.commit !== undefined) throw new Error('an unchanged root made a commit')
    perProvider = out.providers
  }
  rows.push({ what: 'snapshot of the unchanged root (whole command)', ms: median(times), goal: 'well under 1000 ms' })
  for (const p of perProvider) rows.push({ what: `  collect ${p.name} (last run, wall time)`, ms: p.durationMs })
} finally {
  await rootfs.cleanup()
  await cli.cleanup()
}

const width = Math.max(...rows.map((r) => r.what.length))
console.log(`median of ${RUNS} runs unless noted\n`)
for (const r of rows) console.log(`${r.what.padEnd(width)}  ${String(Math.round(r.ms)).padStart(6)} ms${r.goal ? `   goal: ${r.goal}` : ''}`)
