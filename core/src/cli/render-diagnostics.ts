import type { Diagnostic } from '@twinsync/sdk'

/** Warnings and errors as lines for a person; info stays in --json. */
export function renderDiagnostics(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics
    .filter((d) => d.severity !== 'info')
    .map((d) => `${d.severity}: ${d.provider ? `${d.provider}: ` : ''}${d.summary}${d.detail ? ` (${d.detail})` : ''}`)
}
