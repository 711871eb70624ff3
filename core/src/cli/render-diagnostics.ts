import type { Diagnostic } from '@twinsync/sdk'
import { shownDiagnostic } from '../terminal-text.js'

/** Warnings and errors as lines for a person (every field spelled out, shownDiagnostic); info stays in --json. */
export function renderDiagnostics(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics
    .filter((d) => d.severity !== 'info')
    .map(shownDiagnostic)
    .map((d) => `${d.severity}: ${d.provider ? `${d.provider}: ` : ''}${d.summary}${d.detail ? ` (${d.detail})` : ''}`)
}

/**
 * What a provider said about one step of an apply, beneath the step (the CLI and the TUI): with
 * its code, and its detail as the next step, as the plan shows a change it leaves out.
 */
export function stepNoteLines(diagnostic: Diagnostic): string[] {
  const d = shownDiagnostic(diagnostic)
  const head = `${d.severity}: ${d.provider ? `${d.provider}: ` : ''}${d.summary} [${d.code}]`
  return d.detail === undefined ? [head] : [head, `  Next step: ${d.detail}`]
}
