import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { closeSync, constants, linkSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TwinSyncError, stableStringify } from '@twinsync/sdk/light'
import { removeFile } from '../twin/remove-file.js'

/**
 * A saved plan is sealed when written: an HMAC-SHA256 of its canonical JSON under a key that
 * lives in the twin's .git/twinsync/ (mode 0600, never committed or pushed). Any edit of the
 * file (a change id, a resource, a command, the data) breaks the seal, and so does a plan
 * forged elsewhere: what apply runs is exactly what was reviewed.
 */
export interface PlanSeal {
  algorithm: 'hmac-sha256'
  digest: string
}

const KEY_FILE = ['.git', 'twinsync', 'plan-seal.key']

/**
 * The twin's own secret (created on first use; undefined when there is none and `create` is
 * false). What it signs says what it is in the signed text: plans here, a snapshot's recorded
 * counts in history/count-record.ts.
 */
export async function twinKey(twinDir: string, create: boolean): Promise<Buffer | undefined> {
  const path = join(twinDir, ...KEY_FILE)
  const existing = await readKey(path)
  if (existing !== undefined || !create) return existing
  mkdirSync(join(twinDir, '.git', 'twinsync'), { recursive: true, mode: 0o700 })
  // Written aside, then linked into place: the key file is whole or not there, whatever stops
  // this run; another run's key, linked first, wins. Synchronous calls: the twin's own file, made
  // once by the core (init's commit, a plan, an apply) in no provider call, whose time limit a
  // blocked call would hold up; fs/promises loaded for them alone in init (session 53). One left short (by an older TwinSync
  // killed while writing it) has sealed nothing and is replaced.
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  try {
    writeFileSync(fd, randomBytes(32))
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(temp, path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    if ((await readKey(path)) === undefined) renameSync(temp, path)
  } finally {
    removeFile(temp)
  }
  return readKey(path)
}

/**
 * The key in the file, undefined when there is none or it is too short to be one; a symlink is
 * never followed. Read with synchronous calls: an awaited `open` here was `history`'s only use of
 * `node:fs/promises`, which starts libuv's thread pool (four threads) for it (session 19).
 */
async function readKey(path: string): Promise<Buffer | undefined> {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    const key = readFileSync(fd)
    return key.length >= 32 ? key : undefined
  } finally {
    closeSync(fd)
  }
}

function digestOf(key: Buffer, value: unknown): string {
  return createHmac('sha256', key).update(stableStringify(value)).digest('hex')
}

/** The seal of a plan (as it will read back from JSON). */
export async function sealPlan(twinDir: string, plan: unknown): Promise<PlanSeal> {
  const key = (await twinKey(twinDir, true)) as Buffer
  return { algorithm: 'hmac-sha256', digest: digestOf(key, JSON.parse(JSON.stringify(plan))) }
}

/** Refuse a plan file whose seal is missing or does not match its content. */
export async function checkPlanSeal(twinDir: string, file: string, value: Record<string, unknown>, remake: string): Promise<Record<string, unknown>> {
  const { seal, ...plan } = value
  const tampered = (why: string) =>
    new TwinSyncError('PLAN_TAMPERED', `${file} was not applied: ${why}`, {
      nextStep: `${remake} A saved plan cannot be edited.`,
      details: { path: file },
    })
  if (typeof seal !== 'object' || seal === null) throw tampered('it carries no seal (it was not written by `plan --out` for this twin)')
  const { algorithm, digest } = seal as Record<string, unknown>
  if (algorithm !== 'hmac-sha256' || typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) throw tampered('its seal is malformed')
  const key = await twinKey(twinDir, false)
  if (key === undefined) throw tampered('this twin has never sealed a plan (the plan was made for another twin)')
  const want = Buffer.from(digestOf(key, plan), 'hex')
  if (!timingSafeEqual(want, Buffer.from(digest, 'hex'))) throw tampered('its content was changed after it was written, or it was made for another twin')
  return plan
}
