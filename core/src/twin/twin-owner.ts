import { spawnSync } from 'node:child_process'
import { lstatSync } from 'node:fs'
import { SAFE_PATH, TwinSyncError, isTwinSyncError } from '@twinsync/sdk/light'
import { quoteArg } from '../plan/command-text.js'

/**
 * Root in a twin that another user owns (session 21). A user's twin (~/.local/share/twinsync/twin)
 * is theirs: a plan they make names `sudo twinsync apply --repo …` for the steps that need root.
 * Before, that run left root's files in the twin (git's objects, refs and index, the caches, the
 * files the snapshot after the apply wrote), and the user's own next run failed on them (EACCES).
 * The one rule, asked by TwinRepository when it opens or inits a twin:
 *
 * - Root may work in a twin of uid U only when sudo says U asked (SUDO_UID = U), the rule git
 *   itself follows for a repository root does not own. The twin's files (.git/config included)
 *   are U's to write: a run as root on them is one U asked for, not one another person starts
 *   on a twin U may have prepared. Anything else is refused (TWIN_NOT_OWNED, exit 2) before
 *   anything is read or written, with the two ways on: run it through sudo as U, or make the
 *   twin root's.
 * - What root writes in such a twin is handed to U (owner and group of the twin's folder) when
 *   the process ends, and what a killed root run left is handed over when the next one opens
 *   the twin: only entries owned by root, never through a symlink (handBack). The user's run needs
 *   nothing: none of this is looked at unless the process is root's and the twin is not.
 */
export interface TwinOwner {
  uid: number
  gid: number
}

/**
 * Whose a file root writes into `folder` for the person who ran it should be (session 22): the
 * invoking user's (SUDO_UID, SUDO_GID) when this process is root through sudo and the folder is
 * that user's, as their twin is handed back to them; undefined (root's, as written) otherwise.
 * `sudo twinsync plan --out ~/plan.json` left a root-owned file in the user's home before.
 */
export function invokingUserOwns(folder: string, env: NodeJS.ProcessEnv = process.env): TwinOwner | undefined {
  if ((process.geteuid?.() ?? 0) !== 0) return undefined
  const uid = Number(env.SUDO_UID)
  if (env.SUDO_UID === undefined || !Number.isInteger(uid) || uid <= 0) return undefined
  let st
  try {
    st = lstatSync(folder)
  } catch {
    return undefined
  }
  if (!st.isDirectory() || st.uid !== uid) return undefined
  const gid = Number(env.SUDO_GID)
  return { uid, gid: env.SUDO_GID !== undefined && Number.isInteger(gid) && gid >= 0 ? gid : st.gid }
}

/** Twins this process hands back when it exits (root in another user's twin). */
const handBackAtExit = new Map<string, TwinOwner>()

/**
 * The twin's owner when this process is root and the twin is another user's (refused unless
 * sudo says that user asked); undefined otherwise. Call before anything is read or written.
 */
export function checkTwinOwner(dir: string, env: NodeJS.ProcessEnv = process.env): TwinOwner | undefined {
  if ((process.geteuid?.() ?? 0) !== 0) return undefined
  let st
  try {
    st = lstatSync(dir)
  } catch {
    return undefined
  }
  if (st.uid === 0) return undefined
  const owner = { uid: st.uid, gid: st.gid }
  if (env.SUDO_UID !== String(st.uid)) throw notOwned(dir, owner.uid, env.SUDO_UID)
  return owner
}

/**
 * Open a twin as its owner would: refused as checkTwinOwner says, else what a killed root run
 * left is handed back now and what this run writes when it exits.
 */
export function actAsTwinOwner(dir: string): void {
  if ((process.geteuid?.() ?? 0) !== 0) {
    openedByUser.add(dir)
    return
  }
  const owner = checkTwinOwner(dir)
  if (owner === undefined) return
  handBack(dir, owner)
  if (handBackAtExit.size === 0) process.once('exit', handBackAll)
  handBackAtExit.set(dir, owner)
}

/** The twins this process opened as a user who is not root (for leftByRoot). */
const openedByUser = new Set<string>()

/**
 * Why a user's command failed when root's files are in their twin (session 22): a
 * `sudo twinsync` run killed (kill -9, a power cut) before its exit handed the twin back leaves
 * git's objects, its index or the caches root's, and the user's next command stopped on an
 * EACCES it did not explain. Asked by the CLI only when a command failed, so a run that works
 * looks at nothing: the first entry root owns in a twin this process opened as a user (the
 * twin theirs), by `find -P` (no link followed). TWIN_LEFT_BY_ROOT (exit 2) with the one
 * command that hands it back; undefined when there is none.
 */
export function leftByRoot(): TwinSyncError | undefined {
  const euid = process.geteuid?.() ?? 0
  if (euid === 0) return undefined
  for (const dir of openedByUser) {
    let st
    try {
      st = lstatSync(dir)
    } catch {
      continue
    }
    if (!st.isDirectory() || st.uid !== euid) continue
    const found = spawnSync('find', ['-P', dir, '-uid', '0', '-print', '-quit'], { env: { PATH: SAFE_PATH, LC_ALL: 'C' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    const first = (found.stdout ?? '').split('\n')[0] ?? ''
    if (first === '') continue
    const shown = first === dir ? '.' : first.startsWith(`${dir}/`) ? first.slice(dir.length + 1) : first
    return new TwinSyncError(
      'TWIN_LEFT_BY_ROOT',
      `Files of the twin ${dir} are root's (${shown} the first), left by a \`sudo twinsync\` run that ended before it handed the twin back to you (killed, or still running); this run (uid ${euid}) cannot write them and stopped`,
      {
        nextStep: `Hand them back: \`sudo chown -R -P -h --from=0 ${st.uid}:${st.gid} ${quoteArg(dir)}\`, then run the command again.`,
        details: { repo: dir, path: shown, owner: st.uid },
      },
    )
  }
  return undefined
}

/**
 * A failure as both front ends tell it (the CLI's catch, the panel's ErrorBox, which then ask
 * userErrorOf): in a user's twin that holds root's files (leftByRoot), TWIN_LEFT_BY_ROOT with the
 * command that repairs it, instead of the EACCES the run stopped on; another run holding the
 * twin (LOCK_HELD) is said as it is. Session 40: only the CLI's catch asked leftByRoot, and the
 * panel, stopped on the same files, showed git's or Node's words (GIT_FAILED, or a bug).
 */
export function failureAsTold(error: unknown): unknown {
  if (isTwinSyncError(error) && error.code === 'LOCK_HELD') return error
  return leftByRoot() ?? error
}

function handBackAll(): void {
  for (const [dir, owner] of handBackAtExit) {
    try {
      handBack(dir, owner)
    } catch {
      // At exit nothing can be said: the next run as root hands back what is left.
    }
  }
}

/**
 * Every entry of the twin (the folder itself, .git included) that root owns, given to `owner`:
 * links themselves, never what they point at, and no folder entered through a link. By
 * coreutils' `chown -R -P -h --from=0`, which walks by open folder handles: the twin is the
 * user's, who could swap a folder for a link to /etc while a walk by path names (lstat, then
 * readdir, then lchown of each name) was between its steps, and root would then have handed
 * /etc's files over. COMMAND_FAILED when chown fails.
 */
export function handBack(dir: string, owner: TwinOwner): void {
  const run = spawnSync('chown', ['-R', '-P', '-h', '--from=0', `${owner.uid}:${owner.gid}`, '--', dir], { env: { PATH: SAFE_PATH, LC_ALL: 'C' }, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] })
  if (run.status !== 0) {
    throw new TwinSyncError('COMMAND_FAILED', `The twin ${dir} could not be handed back to uid ${owner.uid}: chown said ${JSON.stringify((run.error?.message ?? run.stderr ?? '').trim().slice(0, 200))}`, {
      nextStep: `Hand it back yourself: \`chown -R -P -h --from=0 ${owner.uid}:${owner.gid} ${quoteArg(dir)}\`, then run the command again.`,
      details: { repo: dir },
    })
  }
}

function notOwned(dir: string, uid: number, sudoUid: string | undefined): TwinSyncError {
  return new TwinSyncError('TWIN_NOT_OWNED', `The twin ${dir} is uid ${uid}'s, and this run is root's${sudoUid === undefined ? '' : ` for uid ${sudoUid}`}: root works in another user's twin only when that user runs it through sudo, so that nothing of the twin is left root's; nothing was read or changed`, {
    nextStep: `Log in as the twin's owner (uid ${uid}) and run the command with sudo there (\`sudo twinsync … --repo ${quoteArg(dir)}\`), or make the twin root's first: \`chown -R root:root ${quoteArg(dir)}\`.`,
    details: { repo: dir, owner: uid },
  })
}
