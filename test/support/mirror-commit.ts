import { execFileSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { git } from './in-process-twin.js'

/**
 * A bare mirror in `dir` linked to the twin (`twinsync remote set`) holding the twin's HEAD, and on
 * top of it one commit made in a clone by `edit` (given the clone's folder): what anyone with the
 * token could push, for a `twinsync pull` to take or refuse. About 0.2 s and a few git runs.
 */
export async function mirrorWithCommit(
  twinDir: string,
  twinsync: (...args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>,
  dir: string,
  edit: (clone: string) => Promise<void>,
  message: string,
): Promise<string> {
  const mirror = join(dir, 'mirror.git')
  const clone = join(dir, 'mirror-clone')
  execFileSync('rm', ['-rf', mirror, clone])
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
  const set = await twinsync('remote', 'set', mirror)
  if (set.code !== 0) throw new Error(`remote set exited ${set.code}:\n${set.stdout}\n${set.stderr}`)
  git(twinDir, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
  await pushToMirror(mirror, clone, {}, edit, message)
  return mirror
}

/**
 * One commit on top of a bare mirror's main, made in a clone at `clone` (removed after): `files`
 * (twin paths to text) written, then `edit` given the clone's folder. What anyone with the token
 * could push.
 */
export async function pushToMirror(mirror: string, clone: string, files: Readonly<Record<string, string>>, edit: (clone: string) => Promise<void>, message: string): Promise<void> {
  execFileSync('git', ['clone', '--quiet', mirror, clone])
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(clone, path, '..'), { recursive: true })
    await writeFile(join(clone, path), text)
  }
  await edit(clone)
  git(clone, ['add', '--all'])
  git(clone, ['commit', '--quiet', '-m', message])
  git(clone, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'])
  execFileSync('rm', ['-rf', clone])
}
