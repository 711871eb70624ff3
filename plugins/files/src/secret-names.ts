import { posix } from 'node:path'
import { SECRET_RULES_VERSION, secretRuleInName, secretRulesInNames } from '@twinsync/sdk'

/**
 * A secret in a path's name (session 24, found by session 23's red team): a file
 * `/etc/myapp/ghp_…`, a folder `key-AKIA…/`, a symlink's target `/opt/AKIA…`. The files manifest
 * and the mirrored documents' paths carry names into the twin; the core's guard redacted the
 * manifest (`/etc/myapp/<redacted>`) but not the document's path nor the diary line, and the
 * redacted entry then made `status` show drift for ever and `plan` delete the folder. So the
 * collect holds such a path out, with everything below it (a symlink whose target holds one: the
 * link), as it does a name that is not UTF-8, said by FILES_NAME_SECRET (the folder and the rule,
 * never the name); a twin that asks for one has its change left out (scope.ts,
 * FILES_NAME_SECRET_NOT_PLANNED). The rule is the SDK's (secretRuleInName: its detector asked about
 * the name alone), as for every other provider's documents (core/src/snapshot/secret-guard.ts).
 *
 * Speed: the detector asked about a name costs some 11 µs warm on an idle machine (the host's
 * /usr: 37,242 distinct names, 0.41–0.43 s a pass), 30–50 µs on a loaded one (the services root's
 * 591 distinct names of /etc: 19–31 ms of CPU a pass, load average 8); session 23 measured 36–49
 * ms for the services root's 621 paths and ~1 s for the scale root's 74,000 — too much for every
 * snapshot (issue 22 holds the scale root's unchanged snapshot to about 1 s). So a name is asked
 * about only when its folder's listing is read, never when the stat cache gives the listing back
 * (lookupListing): the listing's classes (HELD among them) are what the cache vouches for, under
 * walk rules that carry NAME_SCREEN (the detector's version); a folder listed again because a
 * name in it moved takes the verdicts of the names it had (earlierListing), so only its new names
 * are asked about; and in one collect a name is asked about once (NameScreen's memo: a tree's
 * names repeat). Measured (session 24, files collect in process): a first collect asks about 881
 * names of the services root and 5,914 of the scale root (default include set, 24,935 entries);
 * an unchanged collect asks about none on either (but for names held out, asked again for their
 * rule; secretScanCount stays 0 on a root without them: test/integration/secret-scans.test.ts).
 */

/** What the stat cache's listings of screened names depend on: carried in the walk rules (collect.ts's walkRules). */
export const NAME_SCREEN = `names-1:${SECRET_RULES_VERSION}`

/** A path the collect held out: its name (or a symlink's target) holds a finding of `rule`. */
export interface HeldName {
  path: string
  rule: string
  /** A symlink whose target holds it, not its own name. */
  link?: boolean
}

/** The detector asked about names (and symlinks' targets), each once a collect; what was held out, for the warnings. */
export class NameScreen {
  private readonly seen = new Map<string, Promise<string | undefined>>()
  readonly held: HeldName[] = []

  /** The rule of the first finding in `name` (or a symlink's target), or undefined. */
  ruleIn(name: string): Promise<string | undefined> {
    let rule = this.seen.get(name)
    if (rule === undefined) {
      rule = secretRuleInName(name)
      this.seen.set(name, rule)
    }
    return rule
  }

  /**
   * The names of many paths (each `/`-separated name) and symlinks' targets asked about at once,
   * into the memo, before `inPath` asks about each path: the SDK's rule for many names
   * (secretRulesInNames: one detector call over the names as one text, then each name on a
   * finding's line alone), the verdicts `ruleIn` gives one by one. Session 39: a plan of 30,000
   * folder creates asked about 30,000 new names one by one, 11 µs each on an idle machine (the
   * detector's 139 hand rules tried on each), 30-75 µs at a load of 8, in each of the plan's and
   * the apply's scope checks; as one text, 18 ms for the 30,000.
   */
  async ahead(paths: Iterable<string>, targets: Iterable<string> = []): Promise<void> {
    const names = new Set<string>()
    for (const path of paths) {
      for (const name of path.split('/').slice(1)) if (!this.seen.has(name)) names.add(name)
    }
    for (const target of targets) if (!this.seen.has(target)) names.add(target)
    await this.asOneText(names)
  }

  /** Names (each whole: a folder's listing) asked about at once, as `ahead` asks, into the memo. */
  async aheadNames(names: readonly string[]): Promise<void> {
    const fresh = new Set<string>()
    for (const name of names) if (!this.seen.has(name)) fresh.add(name)
    await this.asOneText(fresh)
  }

  /** A single name is left to `ruleIn` (as one text it would be asked twice when it holds a finding). */
  private async asOneText(names: Set<string>): Promise<void> {
    if (names.size < 2) return
    const held = await secretRulesInNames(names)
    for (const name of names) this.seen.set(name, Promise.resolve(held.get(name)))
  }

  /**
   * The first name of `path` (from the top down) that holds a finding, with its folder; then, for
   * a symlink, its target (`target`) as a whole. Undefined when none does.
   */
  async inPath(path: string, target?: string): Promise<{ folder: string; rule: string; link?: boolean } | undefined> {
    for (let at = 1; at < path.length; ) {
      const end = path.indexOf('/', at)
      const stop = end < 0 ? path.length : end
      const rule = await this.ruleIn(path.slice(at, stop))
      if (rule !== undefined) return { folder: folderOf(path.slice(0, stop)), rule }
      at = stop + 1
    }
    if (target === undefined) return undefined
    const rule = await this.ruleIn(target)
    return rule === undefined ? undefined : { folder: folderOf(path), rule, link: true }
  }
}

/** The folder a path is in. */
export function folderOf(path: string): string {
  return posix.dirname(path)
}
