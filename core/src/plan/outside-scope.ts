import type { ApplicableProvider, Change, Diagnostic, FileStat, ProviderContext } from '@twinsync/sdk'
import { linkedFolderOn, secretRulesInNames, throughSymlinkError, warningDiagnostic } from '@twinsync/sdk/light'
import { forgottenDeletes } from '../history/forgotten-paths.js'
import { callProvider } from '../providers/provider-call.js'
import { secretInPathNames } from '../snapshot/secret-guard.js'
import type { LineFor } from './command-text.js'
import { hiddenChangeId, SECRET_NAME_CODES } from './hidden-names.js'

/**
 * The one rule of a provider's scope (ApplicableProvider.outOfScope), for the planner and for
 * apply (ApplyService) and status's pending items (IntentService): which of its changes act outside what it manages now. No changes, or a
 * provider without the capability: none, and nothing asked. A failure is the provider's,
 * named (not ok): nothing of it is planned or applied.
 * Besides the provider's own answer, for every provider: a change that names a machine path
 * below a symlinked folder (throughLinks), which the host port would refuse anyway, one at
 * TwinSync's own configuration or state (twinSyncOwn), one at a name holding a secret, and the
 * delete of a path `forget` took out of history since the last snapshot (forgottenDeletes).
 */
export async function outsideScope(
  provider: ApplicableProvider,
  changes: readonly Change[],
  ctx: ProviderContext,
  /** This run's `twinsync ARGS` (RunTarget.line), for the discard a left-out change names. */
  line: LineFor,
  /** TwinSync's own files and folders at other places than the default ones (ProviderContexts.ownPaths). */
  ownPaths: readonly string[] = [],
  /** Machine paths `twinsync forget` took out of history since the last snapshot (ProviderContexts.forgottenPaths). */
  forgotten: readonly string[] = [],
): Promise<{ ok: true; ids: Set<string>; diagnostics: Diagnostic[]; byChange: Map<string, Diagnostic> } | { ok: false; diagnostic: Diagnostic }> {
  if (changes.length === 0) return { ok: true, ids: new Set(), diagnostics: [], byChange: new Map() }
  let own: Diagnostic[] = []
  if (provider.outOfScope !== undefined) {
    const check = provider.outOfScope.bind(provider)
    const result = await callProvider(provider, 'outOfScope', () => check({ changes, ctx }), `Nothing is planned or applied for ${provider.name}.`)
    if (!result.ok) return result
    own = result.value
  }
  // Only changes it was asked about, each named: a diagnostic without a known change leaves nothing out silently.
  const asked = new Set(changes.map((c) => c.id))
  const flagged = new Set(own.flatMap((d) => (d.change !== undefined && asked.has(d.change) ? [d.change] : [])))
  const ownFiles = twinSyncOwn(provider.name, changes.filter((c) => !flagged.has(c.id)), ownPaths, line)
  const mine = new Set(ownFiles.map((d) => d.change))
  const linked = await throughLinks(provider.name, changes.filter((c) => !flagged.has(c.id) && !mine.has(c.id)), ctx)
  const through = new Set(linked.map((d) => d.change))
  const named = await secretNamed(provider.name, changes.filter((c) => !flagged.has(c.id) && !mine.has(c.id) && !through.has(c.id)), line)
  const secret = new Set(named.map((d) => d.change))
  const kept = forgottenDeletes(provider.name, changes.filter((c) => !flagged.has(c.id) && !mine.has(c.id) && !through.has(c.id) && !secret.has(c.id)), forgotten, line)
  const diagnostics = [...own, ...ownFiles, ...linked, ...named, ...kept].map((d) => ({ ...d, provider: d.provider ?? provider.name }))
  const ids = new Set(diagnostics.flatMap((d) => (d.change !== undefined && asked.has(d.change) ? [d.change] : [])))
  const shown = withHiddenNames(diagnostics, changes)
  return { ok: true, ids, diagnostics: shown.diagnostics, byChange: shown.byChange }
}

/**
 * The diagnostics as they are shown: a secret-named change's `change` replaced (hiddenChangeId),
 * and each left-out change's diagnostic by its real id (`byChange`, for status's items: never shown).
 * Session 43: `plan --json`, a saved plan and `status` (text and --json) spelled the token the
 * diagnostic was there to keep unsaid, through `change` and the pending item's id and summary.
 */
function withHiddenNames(diagnostics: readonly Diagnostic[], changes: readonly Change[]): { diagnostics: Diagnostic[]; byChange: Map<string, Diagnostic> } {
  const byChange = new Map<string, Diagnostic>()
  let n = 0
  const byId = new Map(changes.map((c) => [c.id, c]))
  const shown = diagnostics.map((d) => {
    const change = d.change === undefined ? undefined : byId.get(d.change)
    if (change === undefined) return d
    const out = SECRET_NAME_CODES.has(d.code) ? { ...d, change: hiddenChangeId(change, ++n) } : d
    if (!byChange.has(change.id)) byChange.set(change.id, out)
    return out
  })
  return { diagnostics: shown, byChange }
}

/**
 * A change whose resource holds a secret in one of its names (a unit, a cron job, an autostart
 * entry, a package or a plugin's resource named with a token): no snapshot takes such a name into
 * the twin (the files provider holds the path out, the snapshot's guard a document so named), so
 * only a hand edit or a forged twin asks for it. Left out for every provider, named by the rule
 * and never by the name (the change's summary would spell it); the files provider says it in its
 * own words first (FILES_NAME_SECRET_NOT_PLANNED). The rule is the SDK's (secretRuleInName).
 */
async function secretNamed(provider: string, changes: readonly Change[], line: LineFor): Promise<Diagnostic[]> {
  const out: Diagnostic[] = []
  // Each name asked once, and all at once (session 39): secretRulesInNames, the SDK's rule for
  // many names (one detector call over them as one text, then each name on a finding's line
  // alone). One by one, 30,000 new names of a plan took 11 µs each on an idle machine, 30-75 µs
  // at a load of 8 (session 24, load 6: 20,000 file creates under 200 folders, 264-500 ms); as
  // one text, 18 ms for the 30,000.
  const held = await secretRulesInNames(changes.flatMap((c) => c.resource.split('/')))
  const ruleOf = (name: string): Promise<string | undefined> => Promise.resolve(held.get(name))
  for (const change of changes) {
    const rule = (await secretInPathNames(change.resource, ruleOf))?.rule
    if (rule === undefined) continue
    out.push(
      warningDiagnostic('SECRET_IN_NAME_NOT_PLANNED', `A ${provider} change (${change.operation}) is left out: the name it acts on holds a secret (${rule}), which no snapshot takes into the twin`, {
        provider,
        change: change.id,
        // Never the change's id: it spells the name (its item is shown as hidden-names.ts says).
        detail: `Rename it on the machine (a name is never redacted), or drop the twin's ${change.category} edits with \`${line(['discard', change.category])}\` (every pending one of them).`,
      }),
    )
  }
  return out
}

/**
 * TwinSync's own configuration and state on a machine: root's configuration (`/etc/twinsync/`)
 * and credentials (`/var/lib/twinsync/`), and any user's (`~/.config/twinsync/`,
 * `~/.local/share/twinsync/`: the configuration, the credentials and the plugins oclif loads).
 */
const OWN_FOLDERS = /^\/(?:etc|var\/lib)\/twinsync(?:\/|$)|\/\.config\/twinsync(?:\/|$)|\/\.local\/share\/twinsync(?:\/|$)/

/** Whether `path` (a machine path) is TwinSync's own configuration or state, or a folder on the way to it made something else. */
export function isTwinSyncOwn(path: string): boolean {
  return OWN_FOLDERS.test(path)
}

/**
 * TWINSYNC_OWN_FILE for each change whose machine path (its resource, or `data.path`) is TwinSync's
 * own configuration or state (isTwinSyncOwn), whoever's provider asks. The twin is untrusted (a
 * mirror anyone with the token can push to): its configuration chooses what TwinSync mirrors,
 * pushes and holds out as secret, and its credentials and plugins who it talks to and what it
 * runs. Before session 18 a pulled twin's `filesystem/etc/twinsync/config.yaml` was planned like
 * any file of /etc (a low-risk create), and once applied chose what the next snapshots took and
 * the pushes sent (`files.secrets.allow`, `detectContent: false`, an include of `/root`). The
 * snapshot still mirrors them as a record; the planner leaves the change out with this warning,
 * and apply refuses a plan that holds one (PLAN_OUTSIDE_SCOPE). Session 19: also at the places
 * this run uses (`own`: a `--config FILE` elsewhere, XDG_CONFIG_HOME's, the twin's own
 * repository), which a pulled twin could otherwise set through /etc or a home's .config.
 */
function twinSyncOwn(provider: string, changes: readonly Change[], own: readonly string[], line: LineFor): Diagnostic[] {
  const isOwn = (p: string) => isTwinSyncOwn(p) || own.some((o) => p === o || p.startsWith(`${o}/`))
  const out: Diagnostic[] = []
  for (const change of changes) {
    const data = change.data as { path?: unknown; below?: unknown } | undefined
    // A folder's delete names what it removes below it (the files provider's data.below).
    const below = Array.isArray(data?.below) ? data.below.map((b: { path?: unknown } | null) => (typeof b?.path === 'string' ? b.path : undefined)) : []
    const path = [change.resource, typeof data?.path === 'string' ? data.path : undefined, ...below].find((p) => p !== undefined && isOwn(p))
    if (path === undefined) continue
    out.push(
      warningDiagnostic('TWINSYNC_OWN_FILE', `${change.summary}: left out, ${path} is TwinSync's own configuration or state, which a twin never sets (it would choose what TwinSync mirrors, pushes and holds out as secret)`, {
        provider,
        path,
        change: change.id,
        detail: `Change it on the machine itself (\`${line(['config'])}\` shows what is in effect), then snapshot; or drop the twin's change with \`${line(['discard', 'ITEM'])}\`.`,
      }),
    )
  }
  return out
}

/**
 * PATH_THROUGH_SYMLINK for each change whose machine path (its resource, or `data.path`) is below
 * a symlinked folder on the machine now (linked-folder.ts, the host port's own rule), so a plan
 * never holds one and apply refuses a plan that does (PLAN_OUTSIDE_SCOPE, exit 2) before anything
 * runs. A link that a change of the same plan acts on itself (the files provider making it a real
 * folder first) is left to the port, which judges it when the earlier changes are in place.
 */
async function throughLinks(provider: string, changes: readonly Change[], ctx: ProviderContext): Promise<Diagnostic[]> {
  const pathsOf = (change: Change): string[] => {
    const data = change.data as { path?: unknown } | undefined
    return [...new Set([change.resource, typeof data?.path === 'string' ? data.path : undefined].filter((p): p is string => p !== undefined && p.startsWith('/')))]
  }
  const touched = new Set(changes.flatMap(pathsOf))
  // Each folder looked at once, however many changes lie below it (a first plan has thousands).
  const seen = new Map<string, Promise<FileStat | undefined>>()
  const host = {
    lstat: (p: string) => seen.get(p) ?? seen.set(p, ctx.host.lstat(p)).get(p) as Promise<FileStat | undefined>,
    readlink: (p: string) => ctx.host.readlink(p),
  }
  const out: Diagnostic[] = []
  for (const change of changes) {
    for (const path of pathsOf(change)) {
      let found
      try {
        found = await linkedFolderOn(host, path)
      } catch {
        continue // not a valid target path: the provider's own checks say so
      }
      if (found === undefined || touched.has(found.folder)) continue
      const error = throughSymlinkError(path, found)
      out.push(warningDiagnostic('PATH_THROUGH_SYMLINK', `${change.summary}: left out, ${error.message}`, { provider, path, change: change.id, ...(error.nextStep === undefined ? {} : { detail: error.nextStep }) }))
      break
    }
  }
  return out
}
