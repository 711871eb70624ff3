import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { tmpdir } from 'node:os'

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

/** git merge-file, first plainly (to learn whether hunks conflict), then with --ours. Undefined for binary files. */
async function mergeFile(base: Uint8Array, ours: Uint8Array, theirs: Uint8Array): Promise<MergedPath | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'twinsync-merge-'))
  try {
    const files = ['intended', 'base', 'observed'].map((n) => join(dir, n))
    await Promise.all([writeFile(files[0] as string, ours), writeFile(files[1] as string, base), writeFile(files[2] as string, theirs)])
    const plain = await run(['merge-file', '-p', ...files])
    // Exit status: the number of conflicts (capped at 127); negative (255) on errors such as binary input.
    if (plain.code === 0) return { content: plain.stdout, conflict: false }
    if (plain.code < 0 || plain.code > 127) return undefined
    const ours_ = await run(['merge-file', '-p', '--ours', ...files])
    if (ours_.code !== 0) return undefined
    return { content: ours_.stdout, conflict: true }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function run(args: string[]): Promise<{ code: number; stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { stdio: ['ignore', 'pipe', 'ignore'] })
    const out: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out) }))
  })
}
