// The growth section's question on the scale root (scale-root.ts: 5,000 packages, 20,000 files
// under /etc, 1,000 unit files), where issue 22 names the goal: "1,000 hourly snapshots keep
// the repository ≤ 2× the first one". Run only when named (`BENCH_ONLY=growth-scale`): about
// 3 s a snapshot on the shared machine, an hour for 1,000, so the whole bench leaves it out.
//
// The scale root is not a booted system, so the churn is churn.ts's offline one, each "hour":
// the growth section's /etc part as it is (a setting, one of five rotating drop-in files), and
// for its 20 journal lines through `logger` a stand-in: 20 lines of the same cron message
// appended to /var/log/syslog, which the logs provider tails as `system/logs/syslog.txt` (the
// root has no journal files, so no `journal.txt`). What differs from the booted services
// container: no process list, load or usage facts (an offline root has none), so nothing of
// `system/processes` and `system/runtime` moves; the lines carry an ISO time with milliseconds
// and no `logger` pid of their own. Each snapshot is `snapshot --if-changed` with `--root`.
//
// BENCH_SNAPSHOTS sets how many (default 1,000; BENCH_QUICK=1 30). BENCH_UNTIL (a time git and
// Date.parse read, e.g. 2026-12-06T13:00Z) stops the run early: its rows then say "partial".
// etckeeper is not run beside it: its commit of this /etc takes seconds, so 1,000 of them would
// double the run (the growth section's etckeeper figures are per hour of the same /etc churn).
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { runOk } from '../../bed/index.js'
import { DEPTH } from '../../../core/src/twin/auto-pack.js'
import { churnOffline } from '../churn.js'
import { median } from '../measure.js'
import { row, type BenchRow, type Goal } from '../report.js'
import { countScaleRoot, freshScaleRoot } from '../scale-root.js'
import type { BenchContext, BenchSection } from '../sections.js'
import { benchCli } from '../twinsync.js'
import { breakdown, packRows, repoKb, type Packed, type TwinShell } from './growth.js'

const host: TwinShell = { runOk }

export const growthScaleSection: BenchSection = {
  name: 'growth-scale',
  describe: 'the growth section on the scale root, offline churn (only when named in BENCH_ONLY: about an hour)',
  onlyWhenNamed: true,
  run: async (ctx: BenchContext): Promise<BenchRow[]> => {
    const total = ctx.snapshots
    const until = process.env.BENCH_UNTIL === undefined ? undefined : Date.parse(process.env.BENCH_UNTIL)
    if (until !== undefined && Number.isNaN(until)) throw new Error(`BENCH_UNTIL=${process.env.BENCH_UNTIL} is not a time (e.g. 2026-12-06T13:00Z)`)
    ctx.progress('growth-scale: the scale root (built and cached on first use, about a minute)')
    const root = await freshScaleRoot()
    const cli = await benchCli()
    try {
      const counts = await countScaleRoot(root.dir)
      const twin = cli.twinDir
      const snapshot = async (args: string[]): Promise<{ ms: number; peakMb: number; commit: boolean; packed?: Packed }> => {
        const s = await cli.timed(['snapshot', '--root', root.dir, '--repo', twin, '--json', ...args])
        const out = JSON.parse(s.result.stdout) as { commit?: string; packed?: Packed }
        return { ms: s.ms, peakMb: s.peakMb, commit: out.commit !== undefined, ...(out.packed === undefined ? {} : { packed: out.packed }) }
      }
      await churnOffline(root.dir, 0)
      const first = await snapshot(['--init'])
      const firstKb = (await repoKb(host, twin)).repo
      const bare = join(cli.dir, 'first-packed.git')
      await runOk(['git', 'clone', '-q', '--bare', '--no-local', twin, bare])
      const firstPackedKb = Number((await runOk(['du', '-sk', bare])).stdout.split('\t')[0])
      await rm(bare, { recursive: true, force: true })
      const times: number[] = []
      const peaks: number[] = []
      const unpacked: number[] = []
      const packs: Packed[] = first.packed === undefined ? [] : [first.packed]
      let commits = 1
      let done = 1
      let largest = { snapshots: 1, kb: firstKb }
      const curve: Array<{ snapshots: number; kb: number }> = [{ snapshots: 1, kb: firstKb }]
      ctx.progress(`growth-scale: ${total} snapshots of the scale root, each after an hour's churn (progress every 50)`)
      for (let i = 1; i < total; i++) {
        if (until !== undefined && Date.now() > until) break
        await churnOffline(root.dir, i)
        const s = await snapshot(['--if-changed'])
        done = i + 1
        times.push(s.ms)
        peaks.push(s.peakMb)
        if (s.packed !== undefined) packs.push(s.packed)
        else unpacked.push(s.ms)
        if (s.commit) commits++
        // After every snapshot, as the growth section does: a size that moves between packs.
        const kb = (await repoKb(host, twin)).repo
        if (kb > largest.kb) largest = { snapshots: done, kb }
        if (done % 50 === 0) {
          curve.push({ snapshots: done, kb })
          ctx.progress(`growth-scale: ${done}/${total}, .git ${(kb / 1024).toFixed(1)} MB (${(kb / firstKb).toFixed(3)}×), median ${Math.round(median(times))} ms a snapshot`)
        }
      }
      const partial = done < total
      const after = await repoKb(host, twin)
      const afterKb = after.repo
      if (curve.at(-1)?.snapshots !== done) curve.push({ snapshots: done, kb: afterKb })
      const parts = await breakdown(host, twin, afterKb)
      // For reference: the same objects with every delta searched again (a copy: the twin is left
      // as the run made it). A roll-up of small packs finds no base outside them, so its oldest
      // version of the files manifest's part is stored against another part; the whole pack
      // searches every delta again since session 46 (auto-pack.ts SEARCH_AGAIN), roll-ups since
      // the last whole pack keep theirs.
      const copy = join(cli.dir, 'searched-again.git')
      await runOk(['cp', '-a', join(twin, '.git'), copy])
      const searchStarted = performance.now()
      await runOk(['git', '--git-dir', copy, 'repack', '-a', '-d', '-f', '-q', `--depth=${DEPTH}`], { timeoutMs: 1_800_000 })
      const searchMs = performance.now() - searchStarted
      const du = async (path: string) => Number((await runOk(['du', '-sk', path])).stdout.split('\t')[0])
      const searchedKb = (await du(copy)) - (await du(join(copy, 'twinsync/cache')))
      await rm(copy, { recursive: true, force: true })
      const gc = await cli.timed(['gc', '--repo', twin, '--json'])
      const afterGc = (JSON.parse(gc.result.stdout) as { sizeAfter?: number }).sizeAfter
      const gcKb = (await repoKb(host, twin)).repo
      const growth = afterKb / firstKb
      // Judged at 1,000 only: a shorter or stopped run says how far it got, not whether the goal holds.
      const twice: Goal = { text: '≤ 2× the first one (at 1,000)', met: () => (done >= 1000 ? growth <= 2 : undefined) }
      const label = `scale root (${counts.packages} packages, ${counts.etcFiles} files in /etc, ${counts.units} units)`
      const cut = partial ? ` (partial: stopped by BENCH_UNTIL after ${done} of ${total})` : ''
      ctx.note(`growth-scale, on the ${label}: the growth section's /etc churn; the journal's 20 lines as 20 syslog lines (test/bench/churn.ts); no process or usage facts (an offline root).`)
      ctx.note(`growth-scale: automatic packs ${packs.map((p) => `${p.kind[0]}${p.ms}`).join(' ')} (i = incremental, f = whole; ms of git repack).`)
      ctx.note(`growth-scale: what .git holds after ${done} snapshots (du -sk): ${parts}.`)
      ctx.note(`growth-scale: .git less TwinSync's provider caches (${after.cache} KB) after 1, every 50 and ${done} snapshots: ${curve.map((p) => `${p.snapshots}: ${(p.kb / 1024).toFixed(2)} MB`).join(', ')}.`)
      return [
        row('growth-scale', `repository after the first snapshot (scale root)`, { unit: 'KB', twinsync: firstKb, note: `first snapshot took ${Math.round(first.ms)} ms, ${Math.round(first.peakMb)} MB` }),
        row('growth-scale', `repository after ${done} hourly snapshots with churn (${commits} commits)${cut}`, { unit: 'KB', twinsync: afterKb, goal: twice, note: `${growth.toFixed(3)}× the first one; ${((afterKb - firstKb) / Math.max(1, done - 1)).toFixed(2)} KB a snapshot` }),
        row('growth-scale', `  the largest it was along the way (measured after every snapshot)`, { unit: 'KB', twinsync: largest.kb, note: `after snapshot ${largest.snapshots}: ${(largest.kb / firstKb).toFixed(3)}× the first one` }),
        row('growth-scale', `  the same after twinsync gc`, { unit: 'KB', twinsync: gcKb, note: `${(gcKb / firstKb).toFixed(3)}× the first one${afterGc === undefined ? '' : `; gc reports ${(afterGc / 1024).toFixed(0)} KB of objects`}` }),
        row('growth-scale', `  every delta searched again (git repack -a -d -f --depth=${DEPTH} on a copy), for reference`, { unit: 'KB', twinsync: searchedKb, note: `${(searchedKb / firstKb).toFixed(3)}× the first one; the repack took ${Math.round(searchMs)} ms` }),
        row('growth-scale', `  the first snapshot packed (a bare clone of it), for reference`, { unit: 'KB', twinsync: firstPackedKb, note: `after ${done}: ${(afterKb / firstPackedKb).toFixed(3)}× it` }),
        row('growth-scale', `time per snapshot --if-changed during the run (median of ${times.length})`, { twinsync: median(times), runs: times.length }),
        row('growth-scale', `  its peak memory (median)`, { unit: 'MB', twinsync: median(peaks), runs: peaks.length }),
        row('growth-scale', `  the same, snapshots that did not pack (median of ${unpacked.length})`, { twinsync: median(unpacked), runs: unpacked.length }),
        ...packRows('growth-scale', packs, done),
        row('growth-scale', `  slowest snapshot of the run (with its pack, if any)`, { twinsync: Math.max(...times) }),
      ]
    } finally {
      await cli.cleanup()
      await root.cleanup()
    }
  },
}
