import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { isTwinSyncError } from '@twinsync/sdk/errors'
import { runGit } from '../twin/git.js'

export interface MergedPath {
  /** The content the intended twin gets; undefined: the path is absent. */
  content: Uint8Array | undefined
  /**
   * The person's edit and the machine changed the same lines: the edit wins there (what was
   * asked for is never dropped), and the plan shows the rest for review.
   */
  conflict: boolean
}

/**
 * Carry one path's intent from the state it was made against (`base`) to a newer one (`onto`):
 * untouched sides take the other side, both changed is a line merge (git merge-file) whose
 * conflicting hunks keep the intent. A merge that breaks a JSON document keeps the intent whole.
 */
export async function mergePath(
  path: string,
  base: Uint8Array | undefined,
  intended: Uint8Array | undefined,
  onto: Uint8Array | undefined,
): Promise<MergedPath> {
  if (same(intended, base)) return { content: onto, conflict: false }
  if (same(onto, base) || same(intended, onto)) return { content: intended, conflict: false }
  if (intended === undefined || onto === undefined || base === undefined) return { content: intended, conflict: true }
  const merged = await mergeFile(base, intended, onto)
  if (merged === undefined) return { content: intended, conflict: true }
  if (path.endsWith('.json')) {
    try {
      JSON.parse(Buffer.from(merged.content ?? new Uint8Array()).toString('utf8'))
    } catch {
      return { content: intended, conflict: true }
    }
  }
  return merged
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return Buffer.from(a).equals(Buffer.from(b))
}

/**
 * git merge-file, resolved once toward each side: where the two results differ, hunks
 * conflicted, and the intended one is kept. Undefined when git cannot merge (binary input).
 */
async function mergeFile(base: Uint8Array, ours: Uint8Array, theirs: Uint8Array): Promise<MergedPath | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'twinsync-merge-'))
  try {
    const files = ['intended', 'base', 'observed'].map((n) => join(dir, n))
    await Promise.all([writeFile(files[0] as string, ours), writeFile(files[1] as string, base), writeFile(files[2] as string, theirs)])
    const [mine, other] = await Promise.all([runGit(dir, ['merge-file', '-p', '--ours', ...files]), runGit(dir, ['merge-file', '-p', '--theirs', ...files])])
    return { content: Buffer.from(mine), conflict: mine !== other }
  } catch (error) {
    if (isTwinSyncError(error) && error.code === 'GIT_FAILED') return undefined
    throw error
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
