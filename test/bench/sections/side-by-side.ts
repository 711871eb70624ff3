// TwinSync against etckeeper on one root, interleaved run by run: the first snapshot against
// `etckeeper init` + the first commit, an unchanged snapshot against etckeeper's commit that
// finds nothing, one changed file against etckeeper's commit of it; on the services root also
// plan, status, history and startup, each interleaved with etckeeper's no-change commit.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RootfsImage } from '../../bed/index.js'
import { etckeeperFirst, etckeeperHome, etckeeperRun } from '../etckeeper.js'
import { repeat, sideBySide, type Medians, type Sample } from '../measure.js'
import { ratioAtMost, row, type BenchRow, type Goal } from '../report.js'
import { rootPair } from '../roots.js'
import type { BenchContext, BenchSection } from '../sections.js'
import { benchCli } from '../twinsync.js'

/** The file both tools see change; created before the first snapshot in both copies. */
const CHANGED_FILE = 'etc/twinsync-bench.conf'

export function sideBySideSection(name: string, image: RootfsImage, label: string, options: { commands: boolean }): BenchSection {
  return {
    name,
    describe: `${label}: first, unchanged and one-file snapshots against etckeeper${options.commands ? '; plan, status, history, startup' : ''}`,
    run: (ctx) => measureRoot(ctx, name, image, label, options.commands),
  }
}

async function measureRoot(ctx: BenchContext, section: string, image: RootfsImage, label: string, commands: boolean): Promise<BenchRow[]> {
  const ek = await ctx.etckeeper()
  ctx.progress(`${label}: two copies of the root`)
  const roots = await rootPair(image)
  const cli = await benchCli()
  try {
    const home = await etckeeperHome(cli.dir)
    for (const root of [roots.twinsync, roots.etckeeper]) await writeFile(join(root, CHANGED_FILE), 'setting = 0\n')
    const snapshot = ['snapshot', '--root', roots.twinsync, '--repo', cli.twinDir, '--json']
    const rows: BenchRow[] = []
    const add = (what: string, ts: Medians, ek: Medians, goal?: Goal) =>
      rows.push(row(section, `${label}: ${what}`, { twinsync: ts.ms, etckeeper: ek.ms, runs: ts.runs, peakMb: { twinsync: ts.peakMb, etckeeper: ek.peakMb }, ...(goal === undefined ? {} : { goal }) }))

    ctx.progress(`${label}: first snapshot vs etckeeper init + first commit (${ctx.runs} runs each)`)
    const [tsFirst, ekFirst] = await sideBySide(
      ctx.runs,
      async () => {
        await cli.forgetTwin()
        return cli.timed([...snapshot, '--init'])
      },
      () => etckeeperFirst(ek, roots.etckeeper, home),
    )
    add('first snapshot vs etckeeper init + first commit', tsFirst, ekFirst, ratioAtMost(1.0))

    ctx.progress(`${label}: unchanged snapshot vs etckeeper's no-change commit`)
    const [tsSame, ekSame] = await sideBySide(
      ctx.runs,
      async () => expectCommit(await cli.timed(snapshot), false),
      // `etckeeper commit` that finds nothing exits 1 (git: "nothing to commit").
      () => etckeeperRun(ek, roots.etckeeper, home, ['commit', 'no change'], [0, 1]),
    )
    add("unchanged snapshot vs etckeeper's no-change commit", tsSame, ekSame, ratioAtMost(1.0))

    ctx.progress(`${label}: one changed file`)
    const [tsOne, ekOne] = await sideBySide(
      ctx.runs,
      async (i) => {
        await writeFile(join(roots.twinsync, CHANGED_FILE), `setting = ${i + 1}\n`)
        return expectCommit(await cli.timed(snapshot), true)
      },
      async (i) => {
        await writeFile(join(roots.etckeeper, CHANGED_FILE), `setting = ${i + 1}\n`)
        return etckeeperRun(ek, roots.etckeeper, home, ['commit', 'one change'])
      },
    )
    add('one file in /etc changed vs etckeeper commit of it', tsOne, ekOne)

    // etckeeper's daily job runs `etckeeper unclean` first and commits only when that says so.
    const ekUnclean = await repeat(ctx.runs, () => etckeeperRun(ek, roots.etckeeper, home, ['unclean'], [1]))
    rows.push(row(section, `${label}: etckeeper unclean alone (its daily job's check, for reference)`, { etckeeper: ekUnclean.ms, runs: ekUnclean.runs }))

    if (commands) {
      const common = ['--root', roots.twinsync, '--repo', cli.twinDir, '--json']
      const goals: Record<string, number | undefined> = { plan: 1.5, status: 1.5, history: undefined, startup: undefined }
      // Each command interleaved with etckeeper's no-change commit, its own reference (session 43):
      // measured in a row after the snapshot rows against their etckeeper figure, these rows
      // moved with the machine's moment, not with the code (sessions 40-42: `plan` 0.85-1.63x of
      // etckeeper; session 42's 169-174 ms against 114-151 in 41 for counts within 3%).
      for (const [command, max] of Object.entries(goals)) {
        ctx.progress(`${label}: ${command} on the unchanged machine vs etckeeper's no-change commit`)
        const [ts, ekNow] = await sideBySide(
          ctx.runs,
          () => cli.timed([command, ...common]),
          () => etckeeperRun(ek, roots.etckeeper, home, ['commit', 'no change'], [0, 1]),
        )
        add(
          `${command} (unchanged machine) vs etckeeper's no-change commit`,
          ts,
          ekNow,
          max === undefined ? undefined : ratioAtMost(max),
        )
      }
    }
    ctx.note(`${label}: V8 flag markers (core/bin/v8-flags.js) in TwinSync's code-cache folder as its runs started: ${cli.markersSeen()}.`)
    return rows
  } finally {
    await cli.cleanup()
    await roots.cleanup()
  }
}

/** Check that a snapshot made a commit (or did not), so a broken run cannot pass as a fast one. */
function expectCommit(sample: Sample, wanted: boolean): Sample {
  const out = JSON.parse(sample.result.stdout) as { commit?: string }
  if ((out.commit !== undefined) !== wanted) {
    throw new Error(wanted ? 'a snapshot after a change made no commit' : `a snapshot of an unchanged root made a commit: ${out.commit}`)
  }
  return sample
}
