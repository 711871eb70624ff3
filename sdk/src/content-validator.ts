import type { Provider } from './provider.js'

/**
 * An optional capability: a provider that understands the content of files another provider
 * writes (cron knows what a valid /etc/cron.d entry is, the files provider writes it). The
 * planner asks it about every file a plan would write at those paths, and a problem becomes an
 * error in the plan, so nothing is written.
 */
export interface ContentValidator {
  /** Machine path patterns (PathClaims syntax) whose content this provider can check. */
  readonly validatesPaths: readonly string[]
  /** Problems with the new content, as sentences; empty when it is fine. */
  validateContent(path: string, content: string): string[]
}

export function isContentValidator(provider: Provider): provider is Provider & ContentValidator {
  const p = provider as Partial<ContentValidator>
  return Array.isArray(p.validatesPaths) && typeof p.validateContent === 'function'
}
