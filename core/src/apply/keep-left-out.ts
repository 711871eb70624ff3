import type { Change } from '@twinsync/sdk'
import { SnapshotLog } from '../history/snapshot-log.js'
import type { ProviderRegistry } from '../providers/provider-registry.js'
import { ownerOfTwinPath } from '../snapshot/twin-ownership.js'
import { runGit } from '../twin/git.js'
import { GitTreeReader } from '../twin/git-tree-reader.js'
import type { TwinRepository } from '../twin/twin-repository.js'

/**
 * An apply snapshots the machine over the working twin (checkpoint, then the result), so a
 * change the user left out would vanish from the desired state. Put it back: of the twin files
 * the user's desired state changed (between the checkpoint and the commit before it), those
 * owned by a provider with a left-out change, and still different from it after the apply, get
 * the desired content again, uncommitted — the next plan shows those changes as pending.
 * Providers with nothing left out keep the snapshot's files (an apt install adds dependencies
 * the desired apt.json never listed). Returns the twin paths put back.
 */
export async function keepLeftOutPending(
  twin: TwinRepository,
  registry: ProviderRegistry,
  report: { checkpoint: string | null; commit: string | null },
  leftOut: readonly Change[],
): Promise<string[]> {
  if (leftOut.length === 0 || report.checkpoint === null || report.commit === null) return []
  const log = new SnapshotLog(twin.dir)
  const checkpoint = await log.get(report.checkpoint)
  // Without a checkpoint commit the twin already matched the machine: nothing desired to keep.
  if (checkpoint.kind !== 'checkpoint' || checkpoint.parent === null) return []
  const desiredCommit = checkpoint.parent
  const { providers, claims } = await registry.load()
  const plain = providers.map((p) => p.provider)
  const wanted = new Set(leftOut.map((c) => c.provider))
  const edited = await log.changedPaths(checkpoint.commit, desiredCommit)
  const desired = new GitTreeReader(twin.dir, desiredCommit)
  const after = new GitTreeReader(twin.dir, report.commit)
  const kept: string[] = []
  try {
    for (const { path } of edited) {
      const owner = ownerOfTwinPath(path, plain, claims)
      if (owner === undefined || !wanted.has(owner.name)) continue
      const want = await desired.read(path)
      const now = await after.read(path)
      if (want !== undefined && now !== undefined && Buffer.from(want).equals(Buffer.from(now))) continue
      if (want === undefined && now === undefined) continue
      if (want === undefined) await twin.remove(path)
      else await twin.write({ path, content: want, executable: await isExecutable(twin.dir, desiredCommit, path) })
      kept.push(path)
    }
  } finally {
    desired.close()
    after.close()
  }
  return kept
}

async function isExecutable(dir: string, commit: string, path: string): Promise<boolean> {
  const line = await runGit(dir, ['ls-tree', commit, '--', path])
  return line.startsWith('100755')
}
