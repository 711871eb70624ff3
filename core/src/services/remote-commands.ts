import type { DependencyContainer } from '../di.js'
import { readTokenFromStdin } from '../remote/credentials.js'
import { RemoteService, type PushOutcome, type RemoteStatus } from '../remote/remote-service.js'

export function remoteService(container: DependencyContainer): RemoteService {
  return container.resolve(RemoteService)
}

export async function tokenFromFlags(flags: { 'token-stdin': boolean }): Promise<string | undefined> {
  return flags['token-stdin'] ? readTokenFromStdin() : undefined
}

export function renderRemoteStatus(s: RemoteStatus): string {
  if (!s.configured) return 'No mirror linked. Link one with `twinsync github link OWNER/REPO`, `twinsync github create` or `twinsync remote set URL`.'
  const what = s.kind === 'github' ? `GitHub ${s.repository}` : 'git remote'
  return `Mirror: ${what} (${s.url})\n${s.pending === 0 ? 'Every snapshot is mirrored.' : `${s.pending} snapshot(s) not yet pushed.`}`
}

/** One line for a push after a snapshot or an apply; a failure is a warning, not an error. */
export function renderPush(p: PushOutcome | undefined): string[] {
  if (p === undefined || p.status === 'not-configured') return []
  if (p.status === 'pushed') return [`Pushed ${p.pushed} snapshot(s) to ${p.url}.`]
  if (p.status === 'up-to-date') return [`The mirror ${p.url} is up to date.`]
  return [`warning: not pushed to ${p.url}: [${p.error?.code}] ${p.error?.message}`, `  The snapshot is safe in the local twin. ${p.error?.nextStep ?? 'Run `twinsync push --retry` later.'}`]
}
