import { sha256 } from '../sha256.js'
import type { Change } from '@twinsync/sdk'
import { stableStringify } from '@twinsync/sdk/light'

/**
 * A reason an item is still pending ("failed in the apply of …: visudo rejects …") is about what
 * the twin asked for then. Recorded with a digest of that ask (the change's operation and its
 * `after`), it is said as it was only while the twin asks the same: once the person changed what
 * they ask (fixed the sudoers rule), the old failure is history, not the new content's verdict
 * (session 24's tour: "still pending, failed: visudo rejects" was said of the fixed rule).
 * Stored in the intent commit's reasons as `reason` + NUL + digest, and for what an apply did
 * with the item (LastApply, session 44) + NUL + that outcome as JSON (its message is the
 * reason's own words); a reason without a digest (an older twin, a pull's) is said as it is.
 */
const SEPARATOR = '\u0000'

/**
 * What the last apply did with an item still pending: `status --json`'s `lastApply`, the code in
 * its text. Said only while the twin asks what that apply was asked (else the reason says
 * "changed in the twin since").
 */
export interface LastApply {
  /** When that apply started (UTC, to the second: its stamp). */
  at: string
  /** `left out`: with --only, or a change left out in the control panel. */
  outcome: 'failed' | 'skipped' | 'left out'
  /** The step's error code (PROVIDER_FAILED, a checker's…), when it named one. */
  code?: string
  /** The step's message, as in that apply's journal. */
  message?: string
  /** Its provider stopped answering while applying it (providers.applyTimeoutMs): it may be half done on the machine. */
  halfDone?: true
  /** `--only` as given, for an item it left out. */
  only?: string
  /** That apply's journal, a twin path (system/journal/apply-….json). */
  journal?: string
}

function askedDigest(change: Pick<Change, 'operation' | 'after'>): string {
  return sha256(stableStringify({ operation: change.operation, after: change.after ?? null })).slice(0, 16)
}

/** The words of an outcome: "failed in the apply of T: MESSAGE", "left out of the apply of T (--only files)". */
function outcomeHead(o: Pick<LastApply, 'outcome' | 'at' | 'only'>): string {
  return o.outcome === 'left out' ? `left out of the apply of ${o.at}${o.only === undefined ? '' : ` (--only ${o.only})`}` : `${o.outcome} in the apply of ${o.at}`
}

/** An outcome's words as a pending item's reason ("failed in the apply of T: MESSAGE"), as stampOutcome records them. */
export function lastApplyReason(o: LastApply): string {
  return o.message === undefined || o.message === '' ? outcomeHead(o) : `${outcomeHead(o)}: ${o.message}`
}

/** The reason for `change`, stamped with what it asked for. */
export function stampReason(reason: string, change: Pick<Change, 'operation' | 'after'> | undefined): string {
  return change === undefined ? reason : `${reason}${SEPARATOR}${askedDigest(change)}`
}

/** The reason recorded for an item an apply did not make (`change`: what it asked; none for an `otherwise` reason, said whatever the twin asks). */
export function stampOutcome(outcome: LastApply, change: Pick<Change, 'operation' | 'after'> | undefined): string {
  const { message, ...kept } = outcome
  // A provider's message holding a NUL would cut the parts apart.
  const text = lastApplyReason(outcome).replaceAll(SEPARATOR, '')
  return `${text}${SEPARATOR}${change === undefined ? '' : askedDigest(change)}${SEPARATOR}${JSON.stringify(kept)}`
}

function partsOf(stored: string): { text: string; digest?: string; outcome?: string } {
  const [text, digest, outcome] = stored.split(SEPARATOR)
  return { text: text as string, ...(digest === undefined ? {} : { digest }), ...(outcome === undefined ? {} : { outcome }) }
}

/** The reason to say for `change` now: as recorded while the twin asks the same; otherwise said as a change since. */
export function reasonFor(stored: string | undefined, change: Pick<Change, 'operation' | 'after'>): string | undefined {
  if (stored === undefined) return undefined
  const { text, digest } = partsOf(stored)
  return digest === undefined || digest === '' || digest === askedDigest(change) ? text : changedSince(text)
}

/** What the last apply did with `change`, while the twin asks what it was asked (a reason stampOutcome made). */
export function lastApplyFor(stored: string | undefined, change: Pick<Change, 'operation' | 'after'>): LastApply | undefined {
  if (stored === undefined) return undefined
  const { text, digest, outcome } = partsOf(stored)
  if (outcome === undefined || (digest !== '' && digest !== askedDigest(change))) return undefined
  let parsed: LastApply
  try {
    parsed = JSON.parse(outcome) as LastApply
  } catch {
    return undefined
  }
  if (parsed === null || typeof parsed !== 'object' || typeof parsed.at !== 'string' || !['failed', 'skipped', 'left out'].includes(parsed.outcome)) return undefined
  // The intent commit may be a pull's (the twin is untrusted): each optional field kept only with its type.
  const { at, outcome: said, code, halfDone, only, journal } = parsed as unknown as Record<string, unknown>
  const kept: LastApply = {
    at: at as string,
    outcome: said as LastApply['outcome'],
    ...(typeof code === 'string' ? { code } : {}),
    ...(halfDone === true ? { halfDone: true as const } : {}),
    ...(typeof only === 'string' ? { only } : {}),
    ...(typeof journal === 'string' ? { journal } : {}),
  }
  const head = `${outcomeHead(kept)}: `
  return { ...kept, ...(text.startsWith(head) ? { message: text.slice(head.length) } : {}) }
}

/** "failed in the apply of T: …" → "changed in the twin since it failed in the apply of T; not applied yet" (the old words are in that apply's journal). */
function changedSince(text: string): string {
  const step = /^(failed|skipped) in the apply of (\S+?)(?:: |$)/.exec(text)
  if (step !== null) return `changed in the twin since it ${step[1] === 'failed' ? 'failed' : 'was skipped'} in the apply of ${step[2]}; not applied yet`
  return `changed in the twin since it was ${text}; not applied yet`
}
