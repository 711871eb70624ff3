import type { Diagnostic } from '@twinsync/sdk'
import { ERROR_CODES, codeOwner, codePrefix, warningDiagnostic } from '@twinsync/sdk/light'

/**
 * The codes each loaded provider may give beyond TwinSync's own (ERROR_CODES), as its registry
 * judged them (ProviderRegistry: judgeCodes): its listed table (`own`), or, for a provider that
 * declares none (`own` undefined), the codes named for it by its prefix among the loaded
 * providers (`names`, codeOwner). Keyed by the provider object; a provider no registry loaded (a
 * test's fake) is not judged.
 */
const judged = new WeakMap<object, { source: string; own: ReadonlySet<string> | undefined; names: readonly string[] }>()

/**
 * "provider code" pairs already said in this process: one warning each per run, and once in a TUI
 * session. Decision (session 51, session 50's review): kept per process. The warning is of the
 * provider (a fault its update mends), not of the run's data: the diagnostic itself is kept as
 * given in every answer. No run reaches callProvider (26 calls in 11 files), and the TUI keeps one
 * container, so one load of the providers, for its session; a run's own set would thread a run
 * through all of them to repeat what the session already said. Calls given up on are per process
 * the same way (provider-call.ts, givenUp).
 */
const said = new Set<string>()

/** What the registry judged of a loaded provider's codes (see `judged`). */
export function knowCodes(provider: object, source: string, own: Iterable<string> | undefined, names: readonly string[]): void {
  judged.set(provider, { source, own: own === undefined ? undefined : new Set(own), names })
}

/**
 * A provider's answer (callProvider, once its shape is checked) with one PROVIDER_FAILED warning
 * added for each code its diagnostics carry that is neither TwinSync's nor its own (session 49's
 * review, C1: a code it never declared, or FILES_NOT_MIRRORED from a dnf provider, passed as given
 * and was listed nowhere, so nobody could look it up, and it could pass for another provider's),
 * once per run for each provider and code. The diagnostic itself is kept as given. Looked at: the
 * answer's `diagnostics`, an apply's results' diagnostics, and an answer that is a list of
 * diagnostics (reviewPlan, outOfScope, overLimit); the warning goes where they are.
 */
export function withUndeclaredCodes<T>(provider: { readonly name: string }, value: T): T {
  const known = judged.get(provider)
  if (known === undefined || value === null || typeof value !== 'object') return value
  const list = Array.isArray(value) ? (value as unknown[]) : (value as { diagnostics?: unknown }).diagnostics
  const results = Array.isArray(value) ? [] : (value as { results?: unknown }).results
  const carried = [...(Array.isArray(list) ? list : []), ...(Array.isArray(results) ? results.flatMap((r) => (Array.isArray((r as { diagnostics?: unknown })?.diagnostics) ? (r as { diagnostics: unknown[] }).diagnostics : [])) : [])]
  const warnings: Diagnostic[] = []
  for (const d of carried) {
    const code = (d as { code?: unknown })?.code
    if (typeof code !== 'string' || Object.hasOwn(ERROR_CODES, code)) continue
    if (known.own !== undefined ? known.own.has(code) : codeOwner(code, known.names) === provider.name) continue
    const key = `${provider.name} ${code}`
    if (said.has(key)) continue
    said.add(key)
    warnings.push(undeclared(provider.name, known.source, code, known.own === undefined, codeOwner(code, known.names)))
  }
  if (warnings.length === 0) return value
  if (Array.isArray(value)) return [...value, ...warnings] as T
  // A detect() or apply() may answer without a list (read as none): the warning makes one.
  if (list === undefined || Array.isArray(list)) return { ...value, diagnostics: [...((list as unknown[] | undefined) ?? []), ...warnings] }
  return value
}

function undeclared(name: string, source: string, code: string, noTable: boolean, owner: string | undefined): Diagnostic {
  const whose = owner !== undefined && owner !== name ? ` (it is named for the ${owner} provider)` : ''
  const rule = noTable ? `it declares no codes, so its own are those that start with ${codePrefix(name)}` : 'its codes are those of its table (its `codes`)'
  return warningDiagnostic('PROVIDER_FAILED', `The ${name} provider of ${source} gave a diagnostic with code ${code}, which is neither TwinSync's nor its own${whose}`, {
    provider: name,
    detail: `A fault in the ${name} provider, not in TwinSync: a provider's diagnostics carry TwinSync's codes (the describe command lists them) or its own, and ${rule}, so a person who meets one can look it up (describe, providers --codes). Its diagnostic is shown as it gave it. Update the provider, or report it to its authors.`,
  })
}
