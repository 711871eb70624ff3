import { createHmac, timingSafeEqual } from 'node:crypto'
import type { ChangeResult, Diagnostic } from '@twinsync/sdk'
import { stableStringify } from '@twinsync/sdk/light'

export interface JournalStep {
  id: string
  provider: string
  summary: string
  startedAt: string
  endedAt: string
  status: ChangeResult['status']
  message?: string
  outputTail?: string
  /** What the provider said about this change (each names it in `change`). */
  diagnostics?: Diagnostic[]
  /** Its provider's apply did not answer in time (providers.applyTimeoutMs) before it reported this change: it may be half done on the machine. */
  halfDone?: true
}

/** What an apply did, step by step; committed to the twin with the snapshot after the apply. */
export interface ApplyJournal {
  startedAt: string
  endedAt: string
  root: string
  planBasis: string | null
  checkpoint: string | null
  interrupted: boolean
  counts: Record<ChangeResult['status'], number>
  steps: JournalStep[]
  /** What providers said about their apply as a whole, not about one change. */
  diagnostics: Diagnostic[]
  /**
   * The commands of plans/ a person left out of this apply (the control panel's choice): `status`
   * says each "left out of the apply of T" while it stays pending (planned-commands.ts). A
   * provider's item left out keeps its reason in the intent commit; a command has no twin file
   * there, so its reason is here, as its failed or skipped step's is.
   */
  leftOut?: Array<{ id: string; provider: string; summary: string }>
  /** This twin's signature (sealJournalText); written as the snapshot commits the journal. */
  sig?: string
}

/** Every diagnostic of an apply: those of the steps (naming their change), then the general ones. */
export function journalDiagnostics(journal: Pick<ApplyJournal, 'steps' | 'diagnostics'>): Diagnostic[] {
  return [...journal.steps.flatMap((s) => s.diagnostics ?? []), ...(journal.diagnostics ?? [])]
}

export function journalPath(startedAt: string): string {
  return `system/journal/apply-${startedAt.replace(/[:.]/g, '').replace(/\d{3}Z$/, 'Z')}.json`
}

/**
 * An apply's journal is this machine's report of what that apply did, and it travels with the
 * twin to a mirror anyone with the token can push to. Like the record of run-once commands
 * (run-record-seal.ts), it is signed by the twin that wrote it (session 19): `sig`, an HMAC of
 * its path and of its content as committed (stableStringify, without `sig`), under the twin's
 * own key (`twinKey`, never pushed). `pull` takes a journal that is new or changed only when this
 * twin signed it (refuseForgedJournals in remote/incoming-tree.ts), and refuses a mirror that
 * takes out one the common history holds. Signed over the text as committed, after the snapshot
 * screened it for secrets (a redaction changes the bytes), so the sign step runs there
 * (`sealJournalText`, as the snapshot's `seal` of the extra document).
 */
const JOURNAL_SIG_CHARS = 32

function journalSignature(key: Buffer, path: string, unsigned: string): string {
  return createHmac('sha256', key).update(`TwinSync-Journal\n${path}\n${unsigned}`).digest('hex').slice(0, JOURNAL_SIG_CHARS)
}

function withoutSig(text: string): { value: Record<string, unknown>; sig: unknown } | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const { sig, ...rest } = value as Record<string, unknown>
  return { value: rest, sig }
}

/** The journal's text (as the snapshot screened it) with this twin's `sig`; a text that is not a JSON object stays as it is, unsigned. */
export function sealJournalText(key: Buffer, path: string, text: string): string {
  const parsed = withoutSig(text)
  if (parsed === undefined) return text
  return stableStringify({ ...parsed.value, sig: journalSignature(key, path, stableStringify(parsed.value)) })
}

/** Whether the journal text at `path` (untrusted: from a mirror) carries this twin's signature for that path and that content. */
export function journalSignedHere(text: string, path: string, key: Buffer | undefined): boolean {
  if (key === undefined) return false
  const parsed = withoutSig(text)
  if (parsed === undefined || typeof parsed.sig !== 'string' || parsed.sig.length !== JOURNAL_SIG_CHARS) return false
  return timingSafeEqual(Buffer.from(parsed.sig), Buffer.from(journalSignature(key, path, stableStringify(parsed.value))))
}
