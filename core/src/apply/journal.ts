import type { ChangeResult, Diagnostic } from '@twinsync/sdk'

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
}

/** Every diagnostic of an apply: those of the steps (naming their change), then the general ones. */
export function journalDiagnostics(journal: Pick<ApplyJournal, 'steps' | 'diagnostics'>): Diagnostic[] {
  return [...journal.steps.flatMap((s) => s.diagnostics ?? []), ...(journal.diagnostics ?? [])]
}

export function journalPath(startedAt: string): string {
  return `system/journal/apply-${startedAt.replace(/[:.]/g, '').replace(/\d{3}Z$/, 'Z')}.json`
}
