import { quoteArg } from './command-text.js'
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { constants } from 'node:fs'
import { mkdir, open } from 'node:fs/promises'
import { join } from 'node:path'
import { TwinSyncError, stableStringify } from '@twinsync/sdk'

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
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      const key = await handle.readFile()
      if (key.length >= 32) return key
    } finally {
      await handle.close()
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  if (!create) return undefined
  await mkdir(join(twinDir, '.git', 'twinsync'), { recursive: true, mode: 0o700 })
  const key = randomBytes(32)
  try {
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    try {
      await handle.writeFile(key)
    } finally {
      await handle.close()
    }
    return key
  } catch (error) {
    // Another run created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return twinKey(twinDir, false)
    throw error
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
export async function checkPlanSeal(twinDir: string, file: string, value: Record<string, unknown>, remake?: string): Promise<Record<string, unknown>> {
  const { seal, ...plan } = value
  const tampered = (why: string) =>
    new TwinSyncError('PLAN_TAMPERED', `${file} was not applied: ${why}`, {
      nextStep: `${remake ?? `Make the plan again (\`twinsync plan --out ${quoteArg(file)} --repo ${quoteArg(twinDir)}\`), review it, and apply that file.`} A saved plan cannot be edited.`,
      details: { path: file },
    })
  if (typeof seal !== 'object' || seal === null) throw tampered('it carries no seal (it was not written by `twinsync plan --out` for this twin)')
  const { algorithm, digest } = seal as Record<string, unknown>
  if (algorithm !== 'hmac-sha256' || typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) throw tampered('its seal is malformed')
  const key = await twinKey(twinDir, false)
  if (key === undefined) throw tampered('this twin has never sealed a plan (the plan was made for another twin)')
  const want = Buffer.from(digestOf(key, plan), 'hex')
  if (!timingSafeEqual(want, Buffer.from(digest, 'hex'))) throw tampered('its content was changed after it was written, or it was made for another twin')
  return plan
}
