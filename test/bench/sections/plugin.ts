// What a third-party plugin costs every command: examples/twinsync-plugin-dnf installed the way
// its end-to-end test installs it (built with its `npm run build`, `npm pack`, `twinsync plugins install ./x.tgz`)
// into one sandbox, none in the other; `--version` and an unchanged snapshot of the minbase
// root in both, interleaved run by run.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, makeTempDir, removeTree, repoRoot, runOk } from '../../bed/index.js'
import { pairedDifference, sideBySide, type Medians } from '../measure.js'
import { atMost, row, type BenchRow } from '../report.js'
import type { BenchContext, BenchSection } from '../sections.js'
import { benchCli, type BenchCli } from '../twinsync.js'

const PLUGIN_DIR = join(repoRoot, 'examples', 'twinsync-plugin-dnf')

export const pluginSection: BenchSection = {
  name: 'plugin',
  describe: 'the cost of one installed plugin (twinsync-plugin-dnf) on --version and an unchanged snapshot',
  run: async (ctx: BenchContext): Promise<BenchRow[]> => {
    const work = await makeTempDir('bench-plugin')
    const rootfs = await freshRootfs('base')
    const bare = await benchCli()
    const withPlugin = await benchCli()
    try {
      ctx.progress('plugin: building and packing examples/twinsync-plugin-dnf, installing it')
      await runOk(['npm', 'run', 'build'], { cwd: PLUGIN_DIR, timeoutMs: 300_000 })
      await runOk(['npm', 'pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: PLUGIN_DIR, timeoutMs: 300_000 })
      const tarball = (await readdir(work)).find((f) => /^twinsync-plugin-dnf-.*\.tgz$/.test(f))
      if (tarball === undefined) throw new Error('npm pack made no twinsync-plugin-dnf tarball')
      const install = await withPlugin.twinsync(['plugins', 'install', `./${tarball}`], { cwd: work })
      if (install.code !== 0) throw new Error(`twinsync plugins install failed: ${install.stderr}`)
      const listed = await withPlugin.twinsync(['providers', '--json', '--root', rootfs.dir, '--repo', withPlugin.twinDir])
      if (!listed.stdout.includes('twinsync-plugin-dnf')) throw new Error(`the installed plugin's provider is not listed:\n${listed.stdout}${listed.stderr}`)

      const snapshot = (cli: BenchCli) => ['snapshot', '--root', rootfs.dir, '--repo', cli.twinDir, '--json']
      for (const cli of [bare, withPlugin]) await cli.timed([...snapshot(cli), '--init'])
      ctx.progress('plugin: --version and an unchanged snapshot, with and without it')
      const [versionWith, versionBare] = await sideBySide(ctx.runs, () => withPlugin.timed(['--version']), () => bare.timed(['--version']))
      const [snapWith, snapBare] = await sideBySide(ctx.runs, () => withPlugin.timed(snapshot(withPlugin)), () => bare.timed(snapshot(bare)))
      const added = (what: string, a: Medians, b: Medians) =>
        row('plugin', `${what}: with the plugin − without`, {
          twinsync: pairedDifference(a, b),
          runs: a.runs,
          peakMb: { twinsync: a.peakMb },
          goal: atMost(10, 'ms'),
          note: `median of the ${a.runs} run-by-run differences; medians: with ${Math.round(a.ms)} ms, without ${Math.round(b.ms)} ms`,
        })
      return [added('twinsync --version', versionWith, versionBare), added('unchanged snapshot (minbase)', snapWith, snapBare)]
    } finally {
      await bare.cleanup()
      await withPlugin.cleanup()
      await rootfs.cleanup()
      await removeTree(work)
    }
  },
}
