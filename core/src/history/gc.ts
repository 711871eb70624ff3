import { isVolatileTwinPath } from '@twinsync/sdk'
import { INTENDED_REF, OBSERVED_REF } from '../intent/intent-git.js'
import { logFields, revParseCommit, runGit } from '../twin/git.js'
import { SnapshotLog } from './snapshot-log.js'

export interface GcReport {
  sizeBefore: number
  sizeAfter: number
  commitsBefore: number
  commitsAfter: number
  /** Old snapshots whose only changes were volatile facts, folded into the next one. */
  squashed: number
}

/**
 * Keep a twin that snapshots every hour for a year small: optionally fold old snapshots that
 * only moved volatile facts (processes, logs, usage) into their successor — each commit holds
 * the whole tree, so nothing but those facts is lost — then let git pack and prune.
 * Labelled snapshots, checkpoints, applies and reverts are always kept.
 */
export async function collectGarbage(dir: string, options: { squashVolatileOlderThanDays?: number; now: Date }): Promise<GcReport> {
  const sizeBefore = await repoSize(dir)
  const commitsBefore = await commitCount(dir)
  let squashed = 0
  if (options.squashVolatileOlderThanDays !== undefined) {
    squashed = await squashVolatile(dir, new Date(options.now.getTime() - options.squashVolatileOlderThanDays * 86_400_000))
  }
  await runGit(dir, ['reflog', 'expire', '--expire=now', '--all'])
  await runGit(dir, ['gc', '--quiet', '--prune=now'])
  return { sizeBefore, sizeAfter: await repoSize(dir), commitsBefore, commitsAfter: await commitCount(dir), squashed }
}

async function squashVolatile(dir: string, cutoff: Date): Promise<number> {
  const log = new SnapshotLog(dir)
  const total = await commitCount(dir)
  const records = (await log.list(total)).reverse()
  const fields = await logFields(dir, ['%H', '%T', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'], ['--reverse', 'HEAD'])
  const meta = new Map(fields.map(([commit = '', tree = '', an = '', ae = '', ad = '', cn = '', ce = '', cd = '', body = '']) => [commit, { tree, an, ae, ad, cn, ce, cd, body }] as const))
  let parent: string | null = null
  let squashed = 0
  const moved = new Map<string, string>()
  for (const [index, record] of records.entries()) {
    const isLast = index === records.length - 1
    const old = new Date(record.date) < cutoff
    const volatileOnly = old && record.kind === 'snapshot' && record.labels.length === 0 && !isLast && record.parent !== null &&
      (await log.changedPaths(record.parent, record.commit)).every((e) => isVolatileTwinPath(e.path))
    if (volatileOnly) {
      squashed++
      continue
    }
    const m = meta.get(record.commit)
    if (m === undefined) throw new Error(`no metadata for ${record.commit}`)
    const args: string[] = ['commit-tree', m.tree, ...(parent === null ? [] : ['-p', parent]), '-m', m.body.replace(/\n+$/, '')]
    const env = { GIT_AUTHOR_NAME: m.an, GIT_AUTHOR_EMAIL: m.ae, GIT_AUTHOR_DATE: m.ad, GIT_COMMITTER_NAME: m.cn, GIT_COMMITTER_EMAIL: m.ce, GIT_COMMITTER_DATE: m.cd }
    parent = (await runGit(dir, args, { env })).trim()
    moved.set(record.commit, parent)
  }
  if (squashed === 0 || parent === null) return 0
  const head = records[records.length - 1]?.commit as string
  await runGit(dir, ['update-ref', '-m', 'twinsync gc: fold volatile-only snapshots', 'HEAD', parent, head])
  for (const [commit, names] of await log.labels()) {
    const target = moved.get(commit)
    for (const name of names) if (target !== undefined) await runGit(dir, ['tag', '-f', '--no-sign', name, target])
  }
  await moveIntentRefs(dir, moved)
  return squashed
}

/** The observed state and the intent on top of it follow their commits to the rebuilt chain. */
async function moveIntentRefs(dir: string, moved: ReadonlyMap<string, string>): Promise<void> {
  const observed = await revParseCommit(dir, OBSERVED_REF)
  const target = observed === undefined ? undefined : moved.get(observed)
  if (target === undefined) return
  await runGit(dir, ['update-ref', '-m', 'twinsync gc', OBSERVED_REF, target])
  const intended = await revParseCommit(dir, INTENDED_REF)
  if (intended === undefined) return
  const body = await runGit(dir, ['log', '-1', '--format=%B', intended])
  const tree = (await runGit(dir, ['rev-parse', `${intended}^{tree}`])).trim()
  const commit = (await runGit(dir, ['commit-tree', tree, '-p', target, '-m', body.replace(/\n+$/, '')])).trim()
  await runGit(dir, ['update-ref', '-m', 'twinsync gc', INTENDED_REF, commit])
}

async function commitCount(dir: string): Promise<number> {
  return Number((await runGit(dir, ['rev-list', '--count', 'HEAD'])).trim())
}

/** Bytes of the repository's object store. */
async function repoSize(dir: string): Promise<number> {
  const out = await runGit(dir, ['count-objects', '-v'])
  const kib = (key: string) => Number(new RegExp(`^${key}: (\\d+)`, 'm').exec(out)?.[1] ?? 0)
  return (kib('size') + kib('size-pack') + kib('size-garbage')) * 1024
}
