import { CATEGORIES } from '@twinsync/sdk/light'
import { COMMANDS } from './plan/commands-domain.js'
import { visibleName } from './plan/command-text.js'

/**
 * The words TwinSync says about changes, in one place (the glossary in docs/user-guide.md).
 *
 * - **Observed** (history, show, diff, a snapshot's commit subject): what happened on the
 *   machine, in its past tense — "/etc/motd changed", "hello installed", "nginx.service enabled".
 * - **Drift** (status): how the machine differs from the last snapshot, also observed words,
 *   said from the machine's side — "tree installed on the machine, not in the twin".
 * - **Planned** (plan, apply, revert, the control panel's plan): what will be done, as an
 *   action — "install hello", "replace /etc/motd".
 * - **Pending** (status): intent not applied yet — "the twin asks to install hello".
 * - **Counts**: items, never the twin documents that hold them — "1 file", "2 packages".
 *
 * Providers name their changes by operation (`install`, `replace`, `enable`…); this module turns
 * an operation into the words for each direction. An operation it does not know (a third-party
 * plugin's) is put in the past tense by rule ("purge" → "purged").
 */

/** What the words are made from: a plan change, a history change or a pending item. */
export interface Wordable {
  operation: string
  resource: string
  /** The provider's own sentence (a planned action), e.g. "Replace /etc/motd (…)". */
  summary?: string
  /** The older (observed) or live (drift, planned) value, and the newer or wanted one. */
  before?: string
  after?: string
  category?: string
  provider?: string
  /** The change is a twin file, not an item a provider named (a domain that appeared or failed to load). */
  twinFile?: boolean
}

/** What the machine did: "added" and "removed" things also say which side lacks them in drift. */
type Kind = 'added' | 'removed' | 'changed'

interface Word {
  /** The past tense, after the resource: "installed", "mode changed". */
  past: (c: Wordable) => string
  kind: Kind
  /** The operation that undoes this one (a plan's operation read from the machine's side). */
  inverse?: string
}

const plain = (past: string, kind: Kind, inverse?: string): Word => ({ past: () => past, kind, ...(inverse === undefined ? {} : { inverse }) })

const WORDS: Record<string, Word> = {
  // files, cron, autostart
  create: plain('added', 'added', 'delete'),
  mkdir: plain('added (a directory)', 'added', 'delete'),
  delete: plain('removed', 'removed', 'create'),
  replace: plain('changed', 'changed', 'replace'),
  chmod: { past: (c) => `mode changed${fromTo(c)}`, kind: 'changed', inverse: 'chmod' },
  chown: { past: (c) => `owner changed${fromTo(c)}`, kind: 'changed', inverse: 'chown' },
  // One change for a path's metadata: mode and owner, or (the summary says so) its extended attributes and capabilities too.
  attributes: { past: (c) => (c.summary?.startsWith('Change extended attributes') === true ? 'extended attributes or capabilities changed' : 'mode and owner changed'), kind: 'changed', inverse: 'attributes' },
  'symlink-retarget': plain('points elsewhere', 'changed', 'symlink-retarget'),
  // a twin file described as a file (fileLevel in semantic-diff)
  added: plain('added', 'added', 'removed'),
  removed: plain('removed', 'removed', 'added'),
  changed: plain('changed', 'changed', 'changed'),
  // packages
  install: { past: (c) => (c.before === undefined || c.after === undefined ? 'installed' : `version changed${fromTo(c)}`), kind: 'added', inverse: 'remove' },
  remove: plain('removed', 'removed', 'install'),
  upgrade: { past: (c) => `upgraded${fromTo(c)}`, kind: 'changed', inverse: 'downgrade' },
  downgrade: { past: (c) => `downgraded${fromTo(c)}`, kind: 'changed', inverse: 'upgrade' },
  hold: plain('held', 'changed', 'unhold'),
  unhold: plain('no longer held', 'changed', 'hold'),
  'mark-manual': plain('marked as manually installed', 'changed', 'mark-auto'),
  'mark-auto': plain('marked as automatically installed', 'changed', 'mark-manual'),
  // services, autostart entries
  enable: plain('enabled', 'changed', 'disable'),
  disable: plain('disabled', 'changed', 'enable'),
  // A mask until reboot (systemd's "masked-runtime", in /run) says so.
  mask: { past: (c) => (c.after === 'masked-runtime' ? 'masked until reboot' : c.before === 'masked-runtime' ? 'masked for good (was masked until reboot)' : 'masked'), kind: 'changed', inverse: 'unmask' },
  unmask: { past: (c) => (c.after === 'masked-runtime' ? 'masked only until reboot (was masked for good)' : c.before === 'masked-runtime' ? 'unmasked (was masked until reboot)' : 'unmasked'), kind: 'changed', inverse: 'mask' },
  start: plain('started', 'changed', 'stop'),
  stop: plain('stopped', 'changed', 'start'),
  // A due reload or restart names the files the service has not read yet (issue 13 item 4):
  // "nginx.service runs an older configuration than /etc/nginx/nginx.conf".
  restart: { past: (c) => olderConfiguration(c) ?? 'unit file changed', kind: 'changed', inverse: 'restart' },
  reload: { past: (c) => olderConfiguration(c) ?? 'configuration changed after it started', kind: 'changed', inverse: 'reload' },
  'daemon-reload': { past: (c) => `unit files changed${parenthesis(c.summary)}`, kind: 'changed', inverse: 'daemon-reload' },
  // notes of the semantic diff
  untrack: plain('no longer tracked (still on the machine)', 'changed', 'untrack'),
  // Not "a secret: the …": the detector reads `secret: the` as a credential, and a snapshot's commit
  // subject carries it (its push was refused; SECRETLESS_OWN_WORDS passes the earlier commits').
  'secret-changed': plain('changed (a secret; the twin holds only its keyed hash)', 'changed', 'secret-changed'),
  // A file whose content the twin does not hold (a binary, one too large, a secret that came or went): UNHELD_DIFFERS.
  'unheld-added': plain('added (its content is not in the twin)', 'added', 'unheld-removed'),
  'unheld-changed': plain('changed (its content is not in the twin)', 'changed', 'unheld-changed'),
  'unheld-removed': plain('removed (its content was not in the twin)', 'removed', 'unheld-added'),
}

/**
 * TwinSync's own words that the secret detector takes for a credential, as earlier versions wrote
 * them into snapshot commit subjects ("/etc/shadow changed (a secret: the twin holds only its keyed
 * hash)", until session 16): the push scan passes them in a commit message (secret-scan.ts), or no
 * twin whose secret file ever changed could be pushed. Fixed text: nothing of the machine's in it.
 */
export const SECRETLESS_OWN_WORDS: readonly string[] = ['(a secret: the twin holds only its keyed hash)']

function fromTo(c: Wordable): string {
  return c.before !== undefined && c.after !== undefined && c.before.length <= 40 && c.after.length <= 40 ? ` (${c.before} → ${c.after})` : ''
}

/** The systemd provider's "X runs an older configuration than FILE (and N more): reload it", without the action. */
function olderConfiguration(c: Wordable): string | undefined {
  const m = c.summary === undefined ? null : /runs an older configuration than (.+?): (?:reload|restart) it$/.exec(c.summary)
  return m === null ? undefined : `runs an older configuration than ${m[1]}`
}

function parenthesis(summary: string | undefined): string {
  const m = summary === undefined ? null : /\(([^()]*)\)\s*$/.exec(summary)
  return m === null ? '' : ` (${m[1]})`
}

/** "purge" → "purged", "apply" → "applied", "reset" → "reset". */
export function pastTense(verb: string): string {
  const v = verb.replace(/-/g, ' ')
  if (/(set|put|cut|run)$/.test(v)) return v === 'run' ? 'ran' : v
  if (v.endsWith('e')) return `${v}d`
  if (/[^aeiou]y$/.test(v)) return `${v.slice(0, -1)}ied`
  return `${v}ed`
}

function wordOf(operation: string): Word {
  return WORDS[operation] ?? { past: () => pastTense(operation), kind: 'changed' }
}

/** How a resource is named: the machine path for a twin file under filesystem/, the resource otherwise. */
export function resourceName(c: Pick<Wordable, 'resource' | 'twinFile' | 'operation' | 'provider'>, options: { short?: boolean } = {}): string {
  let name = c.resource
  if (c.twinFile === true && name.startsWith('filesystem/')) name = name.slice('filesystem'.length)
  if (name === 'manager' && c.operation === 'daemon-reload') return 'systemd'
  if (options.short === true && name.includes('/')) name = name.slice(name.replace(/\/+$/, '').lastIndexOf('/') + 1) || name
  return name
}

/** Observed: what happened between two snapshots — "hello installed", "/etc/motd changed". */
export function observedPhrase(c: Wordable, options: { short?: boolean } = {}): string {
  return `${resourceName(c, options)} ${wordOf(c.operation).past(c)}`
}

/**
 * Drift: a change a plan from the last snapshot would make, said as what the machine did since —
 * a plan's "remove tree" is "tree installed on the machine, not in the twin".
 */
export function driftPhrase(c: Wordable): string {
  const word = wordOf(c.operation)
  // Installing another version of an installed package undoes a version change, not an install.
  const inverseOp = c.operation === 'install' && c.before !== undefined ? 'install' : word.inverse
  if (inverseOp === undefined) return `${resourceName(c)} differs on the machine (a plan would ${plannedPhrase(c)})`
  const done: Wordable = { ...c, operation: inverseOp, ...(c.after === undefined ? {} : { before: c.after }), ...(c.before === undefined ? {} : { after: c.before }) }
  if (c.before === undefined) delete done.after
  if (c.after === undefined) delete done.before
  const inverse = wordOf(inverseOp)
  const where = inverse.kind === 'added' && done.before === undefined ? ' on the machine, not in the twin' : inverse.kind === 'removed' ? ' from the machine, still in the twin' : ' on the machine'
  return `${observedPhrase(done)}${where}`
}

/**
 * Planned: the action, as the provider words it, starting in lower case — "install hello",
 * "replace /etc/motd". A command's summary is its exact argument list and is never touched.
 */
export function plannedPhrase(c: Wordable): string {
  const s = c.summary ?? `${c.operation} ${c.resource}`
  // A command's summary is its quoted argument list already (command-text.ts).
  if (c.category === COMMANDS) return s
  // Names from the twin are untrusted: two that differ are never shown alike (visibleName).
  return visibleName(/^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s)
}

/** What applying now does about drift a plan leaves alone (a dependency, an unpinned upgrade): status's `planned`. */
export const UNPLANNED = 'nothing: a plan leaves it as it is (the next snapshot records it, or adopt its domain)'

/** Pending intent: "the twin asks to install hello". */
export function pendingPhrase(c: Wordable): string {
  return `the twin asks to ${plannedPhrase(c)}`
}

const NOUNS: Record<string, [string, string]> = {
  files: ['file', 'files'],
  packages: ['package', 'packages'],
  services: ['unit', 'units'],
  startup: ['startup entry', 'startup entries'],
  commands: ['command', 'commands'],
  facts: ['fact file', 'fact files'],
  twin: ['twin file', 'twin files'],
}

/**
 * "1 file", "2 packages", "3 units"; a domain counted by its twin files (its provider did not
 * name the items: the first snapshot, a provider that failed) says so: "1 twin file (packages)".
 */
export function countPhrase(domain: string, n: number, options: { twinFiles?: boolean } = {}): string {
  if (options.twinFiles === true && domain !== 'files' && domain !== 'facts' && domain !== 'twin') return `${n} twin file${n === 1 ? '' : 's'} (${domain})`
  const [one, many] = NOUNS[domain] ?? [`${domain} item`, `${domain} items`]
  return `${n} ${n === 1 ? one : many}`
}

/** The count of one domain's changes in words. */
export function domainCountPhrase(domain: string, changes: readonly Wordable[]): string {
  return countPhrase(domain, countItems(changes), { twinFiles: changes.length > 0 && changes.every((c) => c.twinFile === true) })
}

/** The order domains are listed in, everywhere (the SDK's categories, then the twin's own files). */
export const DOMAIN_ORDER: readonly string[] = [...CATEGORIES, 'twin']

export function byDomainOrder<T>(entries: Array<[string, T]>): Array<[string, T]> {
  const rank = (d: string) => {
    const i = DOMAIN_ORDER.indexOf(d)
    return i < 0 ? DOMAIN_ORDER.length : i
  }
  return [...entries].sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
}

/** How many items changed: distinct resources (a package installed and held is one package). */
export function countItems(changes: readonly Pick<Wordable, 'resource'>[]): number {
  return new Set(changes.map((c) => c.resource)).size
}

/** "1 file, 2 packages" for changes grouped by domain; "no changes" when there are none. */
export function countsPhrase(domains: Partial<Record<string, readonly Wordable[]>>): string {
  const parts = byDomainOrder(Object.entries(domains).filter((e): e is [string, Wordable[]] => e[1] !== undefined && e[1].length > 0)).map(([d, list]) => domainCountPhrase(d, list))
  return parts.length === 0 ? 'no changes' : parts.join(', ')
}

/** "1 file, 2 packages" from counts of items per domain (counted by `countItems`); `twinFiles`: domains counted in twin files. */
export function countsPhraseOf(counts: Partial<Record<string, number>>, twinFiles: readonly string[] = []): string {
  const parts = byDomainOrder(Object.entries(counts).filter((e): e is [string, number] => e[1] !== undefined && e[1] > 0)).map(([d, n]) => countPhrase(d, n, { twinFiles: twinFiles.includes(d) }))
  return parts.length === 0 ? 'no changes' : parts.join(', ')
}

/** Bounded lists: "a, b, c +12 more". */
export function boundedList(items: readonly string[], maxLength: number): string {
  let out = ''
  for (let i = 0; i < items.length; i++) {
    const rest = items.length - i - 1
    const next = `${out === '' ? '' : `${out}, `}${items[i] as string}`
    const tail = rest > 0 ? ` +${rest} more` : ''
    if (out !== '' && next.length + tail.length > maxLength) return `${out} +${items.length - i} more`
    out = next
  }
  return out
}

/** The group a change is listed under in a commit subject: the provider ("files", "apt", "systemd"). */
export interface SubjectGroup {
  name: string
  changes: Wordable[]
}

/**
 * A snapshot's commit subject: per provider, what changed, in observed words with short names —
 * "files: nginx.conf changed · apt: hello installed, nano removed" — at most `max` characters
 * ("+12 more" for the rest), so `git log --oneline` reads like the machine's diary.
 */
export function snapshotSubject(groups: readonly SubjectGroup[], max = 120): string {
  const shown = groups.filter((g) => g.changes.length > 0)
  if (shown.length === 0) return ''
  const budget = Math.max(30, Math.floor((max - 3 * (shown.length - 1)) / shown.length))
  // Generous groups first give their unused room to the others.
  let spare = 0
  const parts = shown.map((g) => {
    // Names are spelled (visibleName): a name with a newline split the commit subject, and one with
    // an escape sequence put it raw in the message `git log` prints (session 23).
    const names = [...new Set(g.changes.map((c) => visibleName(observedPhrase(c, { short: true }))))]
    const room = budget + spare - g.name.length - 2
    const list = boundedList(names, Math.max(12, room))
    spare = Math.max(0, room - list.length)
    return `${g.name}: ${list}`
  })
  const subject = parts.join(' · ')
  return subject.length <= max ? subject : `${subject.slice(0, max - 1)}…`
}
