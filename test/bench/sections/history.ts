// `twinsync history` over a twin of 1,000 snapshots, built quickly: a handful of real snapshots
// of the services root with hourly churn (churn.ts), then their trees replayed as 1,000 hourly
// commits with one `git fast-import` (about a second). Every commit's tree is one TwinSync
// wrote, so history's per-snapshot comparison does real work; only the commits are synthetic.
// Twice: as this TwinSync's snapshots are (each message records its counts, as the real
// snapshot of that change recorded them; count-record.ts), and as an older TwinSync's were
// (the stamp only: history counts each snapshot once, then reads its count cache).
import { cp } from 'node:fs/promises'
import { countsTrailer, recordedCounts } from '../../../core/src/history/count-record.js'
import { twinKey } from '../../../core/src/plan/plan-seal.js'
import type { SemanticDiff } from '../../../core/src/history/semantic-diff.js'
import { freshRootfs, run, runOk } from '../../bed/index.js'
import { churnOffline } from '../churn.js'
import { repeat } from '../measure.js'
import { atMost, row, type BenchRow } from '../report.js'
import type { BenchContext, BenchSection } from '../sections.js'
import { benchCli } from '../twinsync.js'

const COMMITS = 1000
/** Distinct real snapshots whose trees are replayed. */
const REAL = 8
/** history --limit 1000 took minutes before issue 22's work: stop repeating after this long. */
const BUDGET_MS = 120_000

export const historySection: BenchSection = {
  name: 'history',
  describe: `twinsync history of ${COMMITS} snapshots (services root)`,
  run: async (ctx: BenchContext): Promise<BenchRow[]> => {
    const rootfs = await freshRootfs('server')
    const cli = await benchCli()
    try {
      ctx.progress(`history: ${REAL} real snapshots of the services root`)
      const snapshot = ['snapshot', '--root', rootfs.dir, '--repo', cli.twinDir, '--json']
      await churnOffline(rootfs.dir, 0)
      await cli.timed([...snapshot, '--init'])
      for (let i = 1; i < REAL; i++) {
        await churnOffline(rootfs.dir, i)
        await cli.timed(snapshot)
      }
      // The same real snapshots, once more for the older TwinSync's twin.
      const oldTwin = `${cli.twinDir}-old`
      await cp(cli.twinDir, oldTwin, { recursive: true, verbatimSymlinks: true })
      ctx.progress(`history: replaying their trees as ${COMMITS} hourly commits, twice`)
      // The replay's one made-up change (the last real tree back to the first), counted as its snapshot would have.
      const real = (await runOk(['git', '-C', cli.twinDir, 'rev-list', '--reverse', 'HEAD'])).stdout.split('\n').filter(Boolean)
      const wrap = await cli.timed(['diff', real[real.length - 1] as string, real[1] as string, '--json', '--repo', cli.twinDir, '--root', rootfs.dir])
      const wrapDomains = (JSON.parse(wrap.result.stdout) as { domains?: SemanticDiff['domains'] }).domains ?? {}
      await replay(cli.twinDir, COMMITS, { recorded: true, wrapDomains })
      await replay(oldTwin, COMMITS, { recorded: false, wrapDomains })
      const count = Number((await runOk(['git', '-C', cli.twinDir, 'rev-list', '--count', 'HEAD'])).stdout.trim())
      const history = (twin: string, args: string[]) => cli.timed(['history', ...args, '--json', '--repo', twin, '--root', rootfs.dir])

      ctx.progress(`history: twinsync history --limit ${COMMITS}`)
      const all = await repeat(ctx.runs, () => history(cli.twinDir, ['--limit', String(COMMITS)]), BUDGET_MS)
      const recent = await repeat(ctx.runs, () => history(cli.twinDir, []), BUDGET_MS)
      ctx.progress(`history: the older TwinSync's twin, first run (counts every snapshot) and then from its cache`)
      const oldFirst = await history(oldTwin, ['--limit', String(COMMITS)])
      const oldCached = await repeat(ctx.runs, () => history(oldTwin, ['--limit', String(COMMITS)]), BUDGET_MS)
      return [
        row('history', `history --limit ${COMMITS} of a twin with ${count} snapshots`, { twinsync: all.ms, runs: all.runs, peakMb: { twinsync: all.peakMb }, goal: atMost(300, 'ms') }),
        row('history', `history (default: the last 20) of the same twin`, { twinsync: recent.ms, runs: recent.runs, peakMb: { twinsync: recent.peakMb } }),
        row('history', `history --limit ${COMMITS}, snapshots of an older TwinSync (no counts recorded): first run`, { twinsync: oldFirst.ms, runs: 1, peakMb: { twinsync: oldFirst.peakMb } }),
        row('history', `  the same, from its count cache`, { twinsync: oldCached.ms, runs: oldCached.runs, peakMb: { twinsync: oldCached.peakMb } }),
      ]
    } finally {
      await cli.cleanup()
      await rootfs.cleanup()
    }
  },
}

/**
 * Make HEAD's history `total` commits long: after the real ones, commits whose trees cycle
 * through the real snapshots' trees, one hour apart, with TwinSync's snapshot messages. With
 * `recorded`, each message is the real snapshot's of the same change (its diary line and its
 * recorded counts), and the one change no real snapshot made (the last tree back to the first)
 * gets the counts `wrapDomains` says; without, the stamp alone, as an older TwinSync wrote.
 */
export async function replay(twin: string, total: number, options: { recorded: boolean; wrapDomains: SemanticDiff['domains'] }): Promise<void> {
  const git = (args: string[]) => runOk(['git', '-C', twin, ...args]).then((r) => r.stdout.trim())
  const real = (await git(['rev-list', '--reverse', 'HEAD'])).split('\n').filter(Boolean)
  const snapshots = real.slice(1)
  const trees = await Promise.all(snapshots.map((c) => git(['rev-parse', `${c}^{tree}`])))
  const messages = await Promise.all(snapshots.map((c) => git(['log', '-1', '--format=%B', c])))
  const branch = await git(['symbolic-ref', 'HEAD'])
  const head = real[real.length - 1] as string
  const start = Date.UTC(2026, 0, 1) / 1000
  const stream: string[] = []
  for (let n = 0; n < total - real.length; n++) {
    const k = n % trees.length
    const tree = trees[k] as string
    const when = start + n * 3600
    const stamp = `TwinSync snapshot ${new Date(when * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')}`
    let message = `${stamp}\n`
    if (options.recorded) {
      // k > 0: the change from trees[k-1] to trees[k] is the real snapshot's; k = 0 comes after the last tree.
      const own = (messages[k] as string).replace(/^TwinSync snapshot \S+/m, stamp)
      if (k > 0 && !/^TwinSync-Counts: /m.test(own)) throw new Error(`the real snapshot ${snapshots[k]} recorded no counts`)
      // k = 0 is signed with the twin's key, as its snapshots sign theirs.
      const key = k > 0 ? undefined : await twinKey(twin, true)
      message = key === undefined ? `${own}\n` : `${stamp}\n\n${countsTrailer(trees[trees.length - 1] as string, tree, recordedCounts(options.wrapDomains), key)}\n`
    }
    stream.push(`commit ${branch}`, `committer TwinSync <twinsync@localhost> ${when} +0000`, `data ${Buffer.byteLength(message)}`, message)
    if (n === 0) stream.push(`from ${head}`)
    stream.push('deleteall')
    for (const entry of (await treeEntries(twin, tree))) stream.push(`M ${entry.mode} ${entry.sha} ${entry.name}`)
    stream.push('')
  }
  const imported = await run(['git', '-C', twin, 'fast-import', '--quiet'], { input: stream.join('\n') + '\n' })
  if (imported.code !== 0) throw new Error(`git fast-import failed: ${imported.stderr}`)
  // The work tree follows the new HEAD, as after a real snapshot.
  await git(['reset', '--quiet', '--hard', 'HEAD'])
}

const entriesOf = new Map<string, Array<{ mode: string; sha: string; name: string }>>()

async function treeEntries(twin: string, tree: string): Promise<Array<{ mode: string; sha: string; name: string }>> {
  let entries = entriesOf.get(tree)
  if (entries === undefined) {
    const out = (await runOk(['git', '-C', twin, 'ls-tree', '-z', tree])).stdout
    entries = out.split('\0').filter(Boolean).map((line) => {
      const [meta = '', name = ''] = line.split('\t')
      const [mode = '', , sha = ''] = meta.split(' ')
      return { mode: mode === '40000' ? '040000' : mode, sha, name: JSON.stringify(name) }
    })
    entriesOf.set(tree, entries)
  }
  return entries
}
