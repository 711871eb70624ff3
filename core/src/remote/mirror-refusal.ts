import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { isTwinSyncError, stableStringify, writeFileAtomic } from '@twinsync/sdk/light'
import { revParseCommit, runGit, tryGit } from '../twin/git.js'
import { MIRROR_BRANCH, REMOTE_NAME } from './remote-settings.js'

/**
 * The mirror's branch as this twin last took it (pull), pushed it or fetched it after the
 * checks passed: `status`'s "not yet pushed", the push's secret scan and its audit read it.
 */
export const MIRROR_REF = `refs/remotes/${REMOTE_NAME}/${MIRROR_BRANCH}`


/** What the last pull refused the mirror's branch for (RemoteStatus.refused; `status`, `remote show`). */
export interface MirrorRefusal {
  /** The mirror URL it was fetched from: another mirror linked since hides it. */
  url: string
  /** The mirror's commit the pull fetched and refused. */
  commit: string
  code: string
  message: string
  nextStep?: string
  /** When (ISO time). */
  at: string
}

function refusalPath(twinDir: string): string {
  return join(twinDir, '.git', 'twinsync', 'mirror-refused.json')
}

/** The last pull's refusal of this mirror (`url`), or undefined (none, another mirror's, unreadable). */
export function readMirrorRefusal(twinDir: string, url: string): MirrorRefusal | undefined {
  let saved: Partial<MirrorRefusal> | null
  try {
    saved = JSON.parse(readFileSync(refusalPath(twinDir), 'utf8')) as Partial<MirrorRefusal> | null
  } catch {
    return undefined
  }
  if (saved === null || typeof saved !== 'object' || saved.url !== url) return undefined
  const { commit, code, message, nextStep, at } = saved
  if (typeof commit !== 'string' || !/^[0-9a-f]{40,64}$/.test(commit) || typeof code !== 'string' || typeof message !== 'string' || typeof at !== 'string') return undefined
  return { url, commit, code, message, ...(typeof nextStep === 'string' ? { nextStep } : {}), at }
}

/**
 * Keep what the pull refused, for `status` to say without reading the refused commit again. A
 * write the disk refuses leaves only `status` without that line: the pull's own refusal stands.
 */
export async function keepMirrorRefusal(twinDir: string, url: string, commit: string, error: unknown): Promise<void> {
  if (!isTwinSyncError(error)) return
  const record: MirrorRefusal = { url, commit, code: error.code, message: error.message, ...(error.nextStep === undefined ? {} : { nextStep: error.nextStep }), at: new Date().toISOString() }
  await writeFileAtomic(refusalPath(twinDir), stableStringify(record), { mode: 0o600 }).catch(() => undefined)
}

/** The mirror's branch was taken or replaced (a pull that passed, a push): no refusal stands. */
export async function clearMirrorRefusal(twinDir: string): Promise<void> {
  await rm(refusalPath(twinDir), { force: true }).catch(() => undefined)
}

/**
 * After a refusal: a tracking ref a TwinSync before session 46 left on the refused commit goes
 * back to what this twin and that commit share (their merge base; none: removed), and its reflog
 * lines no longer reached from there go, so nothing keeps the refused objects. Once per twin
 * that had one: the pull that refuses it again.
 */
export async function untrackRefused(dir: string, refused: string): Promise<void> {
  if ((await revParseCommit(dir, MIRROR_REF)) !== refused) return
  const base = (await tryGit(dir, ['merge-base', 'HEAD', refused])).output.trim()
  if (/^[0-9a-f]{40,64}$/.test(base)) await runGit(dir, ['update-ref', '-m', 'pull: the mirror\'s commit was refused', MIRROR_REF, base, refused])
  else await runGit(dir, ['update-ref', '-d', MIRROR_REF, refused])
  await tryGit(dir, ['reflog', 'expire', '--expire-unreachable=now', MIRROR_REF])
}
