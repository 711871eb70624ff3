import { compareStrings, warningDiagnostic, type Diagnostic, type HostPort } from '@twinsync/sdk'
import type { DnfState } from './state.js'

/**
 * Reads the installed packages through dnf's own Python API (names, [epoch:]version-release,
 * architecture), and why each was installed from dnf's history database, opened read-only and
 * immutable. Nothing in the target is written: no log, no cache, not even SQLite's -shm index
 * (the dnf command line writes its logs into the target even for a query).
 *
 * A package counts as installed on purpose the way dnf counts it: its latest history entry says
 * "user" or nothing is known (it came from rpm alone); "dependency", "weak dependency", "clean"
 * and "group" do not.
 */
const QUERY = `
import json, os, sqlite3, sys, urllib.parse
import dnf
root = sys.argv[1]
base = dnf.Base()
base.conf.installroot = root
base.fill_sack(load_system_repo=True, load_available_repos=False)
history = os.path.normpath(root + '/' + base.conf.persistdir + '/history.sqlite')
reasons = {}
if os.path.exists(history):
    db = sqlite3.connect('file:' + urllib.parse.quote(history) + '?immutable=1', uri=True)
    # actions: install, downgrade, obsolete, upgrade, reinstall, reason change; states: done
    for name, arch, reason in db.execute(
        'SELECT r.name, r.arch, ti.reason FROM trans_item ti JOIN trans t ON ti.trans_id = t.id JOIN rpm r USING (item_id) '
        'WHERE t.state = 1 AND ti.state = 1 AND ti.action IN (1, 2, 4, 6, 9, 11) ORDER BY ti.trans_id, ti.id'):
        reasons[(name, arch)] = reason
    db.close()
USER, UNKNOWN = 2, 0
rows = [[p.name, p.evr, p.arch, reasons.get((p.name, p.arch), UNKNOWN) in (USER, UNKNOWN)] for p in base.sack.query().installed()]
print(json.dumps(rows))
`

export interface CollectedDnf {
  state: DnfState
  diagnostics: Diagnostic[]
}

export async function collectDnfState(host: HostPort): Promise<CollectedDnf> {
  const result = await host.query('python3', ['-c', QUERY, host.root], { timeoutMs: 120_000 })
  if (result.exitCode !== 0) {
    throw new Error(`python3 (dnf API) exited with ${result.exitCode}: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`)
  }
  const rows = JSON.parse(result.stdout) as Array<[string, string, string, boolean]>
  rows.sort((a, b) => compareStrings(a[0], b[0]) || compareStrings(a[2], b[2]) || compareStrings(a[1], b[1]))
  const packages: DnfState['packages'] = {}
  const diagnostics: Diagnostic[] = []
  for (const [name, version, arch, userInstalled] of rows) {
    const seen = packages[name]
    if (seen !== undefined) {
      // Several instances of one name (kernels, multilib): the twin keeps the first; say so.
      diagnostics.push(warningDiagnostic('DNF_MULTIPLE_INSTANCES', `${name} is installed more than once (${seen.version}.${seen.arch}, ${version}.${arch}); the twin keeps ${seen.version}.${seen.arch}`, { path: name, provider: 'dnf' }))
      continue
    }
    packages[name] = { version, arch, userInstalled }
  }
  return { state: { packages }, diagnostics }
}
