import { errorDiagnostic, NEED_UNUSABLE, type Diagnostic, type ExecResult, type HostPort } from '@twinsync/sdk'

/**
 * Refreshing apt's package lists after a plan changed where apt finds packages.
 *
 * apt reads a sources file only when its lists are refreshed (`apt-get update`), so a plan that
 * adds a repository and a package from it must refresh between the two. The planner orders the
 * sources file first (the install `needs` it); the host tells apply which needed paths it has
 * just changed (`changedNeeds`), and only those are refreshed:
 *
 * - a changed sources file (sources.list, sources.list.d/*.list or *.sources) that is there now:
 *   `apt-get update` of that file alone (`Dir::Etc::sourcelist` = the file, no sourceparts, no
 *   list clean-up). The other repositories are not fetched again, so one unreachable mirror
 *   elsewhere does not fail the plan and their lists stay as they were;
 * - only keys or credentials changed (a rotated key for a repository already there): one whole
 *   `apt-get update`, as they may serve any repository;
 * - preferences (pins) and removed files: nothing, apt reads them whenever it runs.
 */
export interface Refresh {
  /** The sources file refreshed alone, or undefined for a whole `apt-get update`. */
  source: string | undefined
  ok: boolean
  /** apt's own words for a failure (its W:/E: lines), or its output's tail. */
  problem: string
  outputTail: string
}

const SOURCE_FILE = /^\/etc\/apt\/(sources\.list|sources\.list\.d\/[^/]+\.(list|sources))$/
const FETCH_INPUTS = [/^\/etc\/apt\/keyrings\//, /^\/etc\/apt\/trusted\.gpg(\.d\/.*)?$/, /^\/usr\/share\/keyrings\//, /^\/etc\/apt\/auth\.conf(\.d\/.*)?$/]
const UPDATE_TIMEOUT_MS = 10 * 60_000
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' }

/** The `apt-get update` arguments that read one sources file and leave every other list alone. */
export function scopedUpdateArgs(source: string): string[] {
  return ['update', '-q', '-o', `Dir::Etc::sourcelist=${source}`, '-o', 'Dir::Etc::sourceparts=-', '-o', 'APT::Get::List-Cleanup=0']
}

/** What to refresh for these changed paths: the sources files one by one, or everything once. */
export async function refreshesFor(host: HostPort, changed: readonly string[]): Promise<Array<string | undefined>> {
  const sources: string[] = []
  for (const path of [...new Set(changed)].sort()) {
    if (SOURCE_FILE.test(path) && (await host.stat(path))?.type === 'file') sources.push(path)
  }
  if (sources.length > 0) return sources
  return changed.some((p) => FETCH_INPUTS.some((re) => re.test(p))) ? [undefined] : []
}

export async function refresh(host: HostPort, source: string | undefined): Promise<Refresh> {
  const args = source === undefined ? ['update', '-q'] : scopedUpdateArgs(source)
  const result = await host.exec('apt-get', args, { inTarget: true, env: APT_ENV, timeoutMs: UPDATE_TIMEOUT_MS })
  return { source, ...judge(result) }
}

/**
 * apt-get update exits 0 when a repository cannot be reached (a "W: Failed to fetch" warning,
 * old lists kept), so its words count too: any failed fetch or error is a failure.
 */
function judge(result: ExecResult): Omit<Refresh, 'source'> {
  const words = result.stderr
    .split('\n')
    .filter((l) => /^E: /.test(l) || /^W: (Failed to fetch|GPG error|The repository)/.test(l) || /^W: Some index files failed/.test(l))
  const ok = result.exitCode === 0 && !result.timedOut && words.length === 0
  const outputTail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-20).join('\n')
  const problem = words.length > 0 ? words.join(' ') : result.timedOut ? 'apt-get update timed out' : `apt-get update exited with ${result.exitCode}`
  return { ok, problem, outputTail }
}

/** The failure of an install whose refresh failed: apt's words, and for a sources file, NEED_UNUSABLE so the host puts it back. */
export function refreshFailure(refreshed: Refresh, changeId: string): { message: string; outputTail: string; diagnostics: Diagnostic[] } {
  const what = refreshed.source === undefined ? "apt's package lists could not be refreshed" : `apt could not read the repository of ${refreshed.source}`
  const message = `${what} (apt-get update: ${refreshed.problem}); nothing was installed for it`
  return {
    message,
    outputTail: refreshed.outputTail,
    diagnostics:
      refreshed.source === undefined
        ? []
        : [errorDiagnostic(NEED_UNUSABLE, `apt could not read the repository of ${refreshed.source}: ${refreshed.problem}`, { path: refreshed.source, provider: 'apt', change: changeId })],
  }
}
