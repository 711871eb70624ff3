import type { Diagnostic } from '@twinsync/sdk'

/** Warnings and errors as lines for a person; info stays in --json. */
export function renderDiagnostics(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics
    .filter((d) => d.severity !== 'info')
    .map((d) => `${d.severity}: ${d.provider ? `${d.provider}: ` : ''}${d.summary}${d.detail ? ` (${d.detail})` : ''}`)
}

/**
 * What a provider said about one step of an apply, beneath the step (the CLI and the TUI): with
 * its code, and its detail as the next step, as the plan shows a change it leaves out.
 */
export function stepNoteLines(d: Diagnostic): string[] {
  const head = `${d.severity}: ${d.provider ? `${d.provider}: ` : ''}${d.summary} [${d.code}]`
  return d.detail === undefined ? [head] : [head, `  Next step: ${d.detail}`]
}
