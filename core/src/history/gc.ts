import { isVolatileTwinPath } from '@twinsync/sdk/light'
import { DISCARDED_REF, INTENDED_REF, OBSERVED_REF, commitTree, deleteRef } from '../intent/intent-git.js'
import { logFields, revParseCommit, runGit } from '../twin/git.js'
import { gcWhole } from '../twin/auto-pack.js'
import { SnapshotLog } from './snapshot-log.js'
import { localRefs, moveRefs } from './forget.js'

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
  // The intents `discard` dropped go with the reflogs (docs/user-guide.md): nothing keeps them after a gc.
  await deleteRef(dir, DISCARDED_REF)
  if (options.squashVolatileOlderThanDays !== undefined) {
    squashed = await squashVolatile(dir, new Date(options.now.getTime() - options.squashVolatileOlderThanDays * 86_400_000))
  }
  await runGit(dir, ['reflog', 'expire', '--expire=now', '--all'])
  await gcWhole(dir)
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
    const env = { GIT_AUTHOR_NAME: m.an, GIT_AUTHOR_EMAIL: m.ae, GIT_AUTHOR_DATE: m.ad, GIT_COMMITTER_NAME: m.cn, GIT_COMMITTER_EMAIL: m.ce, GIT_COMMITTER_DATE: m.cd }
    parent = await commitTree(dir, m.tree, parent === null ? [] : [parent], m.body.replace(/\n+$/, ''), env)
    moved.set(record.commit, parent)
  }
  if (squashed === 0 || parent === null) return 0
  await moveRefs(dir, await localRefs(dir), await withIntent(dir, moved))
  return squashed
}

/**
 * The rebuilt chain's map, with the intent on top of the observed state carried to it: the
 * branch, observed, intended and the labels then move in one transaction (forget's moveRefs).
 * Before session 17 they moved one by one: a kill or a locked ref between them left labels,
 * observed and intended on the old chain (a label off the history, its chain never pruned).
 */
async function withIntent(dir: string, moved: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const out = new Map(moved)
  const observed = await revParseCommit(dir, OBSERVED_REF)
  const target = observed === undefined ? undefined : moved.get(observed)
  const intended = await revParseCommit(dir, INTENDED_REF)
  if (target === undefined) {
    // The observed state is not on the rebuilt chain: it and its intent stay where they are.
    if (observed !== undefined) out.delete(observed)
    if (intended !== undefined) out.delete(intended)
    return out
  }
  if (intended === undefined || moved.has(intended)) return out
  const body = await runGit(dir, ['log', '-1', '--format=%B', intended])
  const tree = (await runGit(dir, ['rev-parse', `${intended}^{tree}`])).trim()
  out.set(intended, await commitTree(dir, tree, [target], body.replace(/\n+$/, '')))
  return out
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
