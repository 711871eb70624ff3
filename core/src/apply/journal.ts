import type { ChangeResult } from '@twinsync/sdk'

export interface JournalStep {
  id: string
  provider: string
  summary: string
  startedAt: string
  endedAt: string
  status: ChangeResult['status']
  message?: string
  outputTail?: string
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
}

export function journalPath(startedAt: string): string {
  return `system/journal/apply-${startedAt.replace(/[:.]/g, '').replace(/\d{3}Z$/, 'Z')}.json`
}
