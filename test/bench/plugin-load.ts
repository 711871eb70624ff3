// npm run bench:plugins: what an installed third-party plugin adds to every command.
// The dnf example is packed and installed from its tarball (`twinsync plugins install ./x.tgz`,
// as an admin would) into two sandboxes, one of which disables its provider in the config
// (loaded, never detected: the cost of loading alone); a third has no plugin. All run the same
// commands against the same Debian root, interleaved (the order turns every round) so a noisy
// machine shifts them alike. Medians of wall time and of the twinsync process's own CPU time
// (user + system, measured inside it: it moves far less than wall time on a busy machine).
// Goal: the plugin adds at most 10 ms.
import { readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, makeTempDir, removeTree, repoRoot, runOk } from '../bed/index.js'
import { cliSandbox, type CliSandbox } from '../support/cli.js'

const RUNS = Number(process.env.BENCH_RUNS ?? 21)
const PLUGIN_DIR = join(repoRoot, 'examples', 'twinsync-plugin-dnf')

function signed(value: number, digits: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

const CPU_PRELOAD = join(repoRoot, 'test', 'bench', 'cpu-usage.cjs')

const work = await makeTempDir('bench-plugin')
const cpuFile = join(work, 'cpu')
const without = await cliSandbox()
const withPlugin = await cliSandbox()
const disabled = await cliSandbox()
const sandboxes: Array<[string, CliSandbox]> = [['no plugin', without], ['dnf', withPlugin], ['dnf disabled', disabled]]
const rootfs = await freshRootfs()
try {
  await runOk(['npm', 'run', 'build'], { cwd: PLUGIN_DIR, timeoutMs: 300_000 })
  await runOk(['npm', 'pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: PLUGIN_DIR })
  const tarball = (await readdir(work)).find((f) => /^twinsync-plugin-dnf-.*\.tgz$/.test(f)) as string
  for (const cli of [withPlugin, disabled]) {
    const install = await cli.twinsync(['plugins', 'install', `./${tarball}`], { cwd: work })
    if (install.code !== 0) throw new Error(install.stderr)
  }
  await writeFile(disabled.configFile, 'providers:\n  disabled: [dnf]\n')

  const at = (cli: CliSandbox) => ['--root', rootfs.dir, '--repo', cli.twinDir]
  for (const [, cli] of sandboxes) {
    const init = await cli.twinsync(['snapshot', '--init', ...at(cli)])
    if (init.code !== 0) throw new Error(init.stderr)
  }
  const commands: Array<{ what: string; args: (cli: CliSandbox) => string[]; runs: number }> = [
    { what: 'twinsync --version', args: () => ['--version'], runs: RUNS },
    { what: 'twinsync providers', args: (cli) => ['providers', ...at(cli)], runs: RUNS },
    { what: 'twinsync snapshot (unchanged root)', args: (cli) => ['snapshot', ...at(cli)], runs: Math.max(5, Math.round(RUNS / 2)) },
  ]
  console.log('median of N runs each, interleaved; the dnf plugin installed from its tarball (this root has no rpm database)')
  console.log('wall ms / CPU ms of the twinsync process; "+" is what the plugin adds to the column "no plugin"\n')
  console.log(`${'command'.padEnd(36)} ${'N'.padStart(3)}  ${sandboxes.map(([name]) => name.padStart(22)).join('')}`)
  for (const c of commands) {
    const wall = new Map<CliSandbox, number[]>(sandboxes.map(([, cli]) => [cli, []]))
    const cpu = new Map<CliSandbox, number[]>(sandboxes.map(([, cli]) => [cli, []]))
    for (let i = 0; i < c.runs; i++) {
      const order = sandboxes.map(([, cli]) => cli)
      for (let k = 0; k < i % order.length; k++) order.push(order.shift() as CliSandbox)
      for (const cli of order) {
        await rm(cpuFile, { force: true })
        const started = performance.now()
        const r = await cli.twinsync(c.args(cli), { env: { NODE_OPTIONS: `--require=${CPU_PRELOAD}`, TWINSYNC_BENCH_CPU_FILE: cpuFile } })
        ;(wall.get(cli) as number[]).push(performance.now() - started)
        if (r.code !== 0) throw new Error(`${c.what} failed (exit ${r.code}): ${r.stderr}`)
        ;(cpu.get(cli) as number[]).push(Number((await readFile(cpuFile, 'utf8')).trim()))
      }
    }
    const base = { wall: median(wall.get(without) as number[]), cpu: median(cpu.get(without) as number[]) }
    const cells = sandboxes.map(([, cli]) => {
      const w = median(wall.get(cli) as number[])
      const u = median(cpu.get(cli) as number[])
      const text = cli === without ? `${w.toFixed(0)} / ${u.toFixed(1)}` : `${signed(w - base.wall, 0)} / ${signed(u - base.cpu, 1)}`
      return text.padStart(22)
    })
    console.log(`${c.what.padEnd(36)} ${String(c.runs).padStart(3)}  ${cells.join('')}`)
  }
} finally {
  await rootfs.cleanup()
  for (const [, cli] of sandboxes) await cli.cleanup()
  await removeTree(work)
}
