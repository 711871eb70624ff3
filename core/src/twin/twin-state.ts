import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, type Stats } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { TwinSyncError } from '@twinsync/sdk/errors'
import { quoteArg } from '../plan/command-text.js'

/**
 * TwinSync's own places inside the twin's `.git`, refused when one is a symlink (or no folder):
 * TwinSync writes its lock, records, caches and plan-seal key under `.git/twinsync`, its refs and
 * their reflogs under `refs/twinsync` and `logs/refs/twinsync`, and `.git/info/attributes`
 * (git-attributes.ts), all as root for root's twin and for a user's through sudo. Through a link
 * (`.git/twinsync -> /etc/cron.d`) those writes would land wherever it points, and the records
 * and the seal key would be read from there (session 34's probe: snapshot and status followed
 * it without a word). Checked by TwinRepository.open, which every command calls before it takes
 * the twin lock, reads a record or writes any of them.
 *
 * Speed: about 15 lstats and three small folder listings (`.git/twinsync`, its `cache` and each
 * provider's folder in it, a few entries each; `stage`'s contents, a snapshot's move, are not
 * listed: only what settling renames into the working twin is there, and every reader refuses a
 * link in the working twin).
 */
const STATE_FOLDERS = ['.git', '.git/info', '.git/refs', '.git/refs/twinsync', '.git/logs', '.git/logs/refs', '.git/logs/refs/twinsync', '.git/twinsync'] as const
/** Files TwinSync owns outside `.git/twinsync`: its attributes file (replaced by a rename, but read first). */
const STATE_FILES = ['.git/info/attributes'] as const
/** Folders below `.git/twinsync` whose entries are TwinSync's records and caches (walked); `stage` is checked, not walked. */
const NOT_WALKED = new Set(['.git/twinsync/stage'])
/** Files below `.git/twinsync` that a folder must not stand for: the move stamp (move-stamp.ts: its rename would fail, and a plan miss a move). Found by the walk, no call of their own. */
const FILES_WALKED = new Set(['.git/twinsync/moves'])

function lstatQuietly(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false })
  } catch {
    return undefined
  }
}

function stateError(dir: string, rel: string, s: Stats): TwinSyncError {
  const abs = join(dir, rel)
  if (s.isSymbolicLink()) {
    let target = '?'
    try {
      target = readlinkSync(abs)
    } catch {}
    return new TwinSyncError('TWIN_STATE_LINK', `${rel} in the twin ${dir} is a symlink (to ${target}); TwinSync keeps its own state there and writes nothing through a link; nothing was read or written`, {
      nextStep: `Put what the link points at in its place (no record or key of TwinSync's is lost): \`rm ${quoteArg(abs)} && cp -a ${quoteArg(target.startsWith('/') ? target : join(abs, '..', target))} ${quoteArg(abs)}\`, then run the command again.`,
      details: { repo: dir, path: rel, target },
    })
  }
  const gitdir = rel === '.git' && s.isFile() ? gitfileTarget(abs) : undefined
  if (gitdir !== undefined) return gitfileError(dir, abs, gitdir)
  return new TwinSyncError('TWIN_STATE_LINK', `${rel} in the twin ${dir} is ${s.isFile() ? 'a file' : s.isDirectory() ? 'a folder' : 'not a folder or file'} where TwinSync keeps its own state; nothing was read or written`, {
    nextStep: `Move it aside (\`mv ${quoteArg(abs)} ${quoteArg(`${abs}.aside`)}\`), then run the command again.`,
    details: { repo: dir, path: rel },
  })
}

/** Where a gitfile (`.git` as a file: "gitdir: PATH") points, absolute; undefined for any other file. */
function gitfileTarget(abs: string): string | undefined {
  let text: string
  try {
    text = readFileSync(abs, { encoding: 'utf8', flag: 'r' }).slice(0, 4096)
  } catch {
    return undefined
  }
  const target = /^gitdir: (.+?)\r?\n?$/.exec(text.split('\n')[0] ?? '')?.[1]
  if (target === undefined) return undefined
  return isAbsolute(target) ? target : join(abs, '..', target)
}

/**
 * `.git` a gitfile (`gitdir: /elsewhere`, as `git init --separate-git-dir` or a linked worktree
 * makes): the twin's repository, and TwinSync's state in it (the lock, the records, the seal
 * key, its refs), would live where it points, the risk of a symlinked `.git` (session 36). git
 * follows it; TwinSync refuses it as it refuses the link. The next step puts the repository in
 * its place; a linked worktree's (a `commondir` there) is no repository of its own.
 */
function gitfileError(dir: string, abs: string, gitdir: string): TwinSyncError {
  const worktree = existsSync(join(gitdir, 'commondir'))
  return new TwinSyncError('TWIN_STATE_LINK', `.git in the twin ${dir} is a gitfile (gitdir: ${gitdir}): the twin's repository and TwinSync's own state in it would live there; TwinSync keeps them in the twin's own .git and follows no link to them; nothing was read or written`, {
    nextStep: worktree
      ? `${gitdir} is a linked worktree of another repository, no twin of its own: point --repo at a twin made with \`twinsync init\`, or clone that repository to a new folder and point --repo there.`
      : `Put the repository in its place (no record or key of TwinSync's is lost): \`rm ${quoteArg(abs)} && cp -a ${quoteArg(gitdir)} ${quoteArg(abs)}\`, then run the command again.`,
    details: { repo: dir, path: '.git', target: gitdir },
  })
}

/** TWIN_STATE_LINK when a place of TwinSync's state inside the twin's `.git` is a symlink (or the wrong kind); see above. */
export function refuseLinkedState(dir: string): void {
  for (const rel of STATE_FOLDERS) {
    const s = lstatQuietly(join(dir, rel))
    if (s !== undefined && !s.isDirectory()) throw stateError(dir, rel, s)
  }
  for (const rel of STATE_FILES) {
    const s = lstatQuietly(join(dir, rel))
    if (s !== undefined && !s.isFile()) throw stateError(dir, rel, s)
  }
  const walk = (rel: string): void => {
    let entries
    try {
      entries = readdirSync(join(dir, rel), { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const child = `${rel}/${e.name}`
      if (e.isDirectory()) {
        if (FILES_WALKED.has(child)) {
          const s = lstatQuietly(join(dir, child))
          if (s !== undefined && !s.isFile()) throw stateError(dir, child, s)
        }
        if (!NOT_WALKED.has(child)) walk(child)
      } else if (!e.isFile()) {
        // A symlink, FIFO or device where a record, a cache file or the lock goes.
        const s = lstatQuietly(join(dir, child))
        if (s !== undefined && !s.isFile() && !s.isDirectory()) throw stateError(dir, child, s)
      }
    }
  }
  walk('.git/twinsync')
  walk('.git/refs/twinsync')
}
