import type { Change, ChangeResult, ConfigCheck, Diagnostic, HostPort } from '@twinsync/sdk'
import { CHANGED_FILE, checksFor, warningDiagnostic } from '@twinsync/sdk'
import { tail } from './command-runner.js'

/** File changes of any provider: `data` is `{ action, path }` with one of these actions. */
const FILE_ACTIONS = new Set(['write', 'symlink', 'delete', 'chmod', 'chown', 'attributes', 'mkdir'])
/** Services changes that make a service read its configuration again. */
export const RELOADS = new Set(['reload', 'restart'])
/** Beyond this size a previous file is not kept in memory (and cannot be put back). */
const MAX_KEPT = 16 * 1024 * 1024
const CHECK_TIMEOUT_MS = 60_000

/** Extended attributes and capabilities as they were; undefined when getfattr is not installed. */
type Extended = { xattrs: Record<string, string>; capabilities?: string } | undefined

type Previous =
  | { kind: 'absent' }
  | { kind: 'file'; content: Buffer; mode: number; uid: number; gid: number; extended: Extended }
  | { kind: 'symlink'; target: string; uid: number; gid: number }
  | { kind: 'other'; mode: number; uid: number; gid: number; extended: Extended }
  | { kind: 'unkept'; reason: string }

export interface Group {
  check: ConfigCheck
  changes: Change[]
}

export interface CheckRun {
  ok: boolean
  /** What ran, as a person would type it. */
  command: string
  output: string
}

/** The machine path a file change of any provider touches, or undefined. */
export function pathOf(change: Change): string | undefined {
  const data = change.data as { action?: unknown; path?: unknown } | undefined
  return typeof data?.action === 'string' && FILE_ACTIONS.has(data.action) && typeof data.path === 'string' && data.path.startsWith('/') ? data.path : undefined
}

/**
 * Config checked before it is live. For one apply: remembers what each guarded file was before
 * it is written (in memory only: it may be a secret and is never committed), groups a batch's
 * file changes by the service that reads them, runs the service's own checker after the group
 * is written and puts the previous files back when it fails, or when the service's reload does
 * not bring it back.
 */
export class ConfigGuard {
  private readonly previous = new Map<string, Previous>()
  /** Changes whose previous state is worth keeping: checked groups, and what a reload follows. */
  private readonly watched: Set<string>
  private readonly groupOf = new Map<string, Group>()

  constructor(
    private readonly host: HostPort,
    private readonly checks: readonly ConfigCheck[],
    changes: readonly Change[],
    /** Further changes whose previous state is kept (files other changes need: see Applier). */
    keep: Iterable<string> = [],
  ) {
    this.watched = new Set(keep)
    for (const c of changes) {
      if (c.category === 'services' && RELOADS.has(c.operation)) for (const r of c.requires ?? []) this.watched.add(r)
      const path = pathOf(c)
      if (path !== undefined && checksFor(checks, path).length > 0) this.watched.add(c.id)
    }
  }

  /** A batch's file changes by the service that reads them (the first check whose paths match). */
  groupsOf(changes: readonly Change[]): Group[] {
    const groups = new Map<string, Group>()
    for (const c of changes) {
      const path = pathOf(c)
      if (path === undefined) continue
      const check = checksFor(this.checks, path)[0]
      if (check === undefined) continue
      const group = groups.get(check.service) ?? { check, changes: [] }
      group.changes.push(c)
      groups.set(check.service, group)
      this.groupOf.set(c.id, group)
    }
    return [...groups.values()]
  }

  /** Before a batch runs: keep the previous state of its watched paths. */
  async remember(changes: readonly Change[]): Promise<void> {
    for (const c of changes) {
      const path = pathOf(c)
      if (path === undefined || !this.watched.has(c.id) || this.previous.has(c.id)) continue
      this.previous.set(c.id, await this.read(path))
    }
  }

  /**
   * The checker on the live configuration as it is, before the group is written. When it already
   * fails, it cannot judge the change: the group is written without a check and a warning says why.
   */
  async baseline(group: Group): Promise<Diagnostic | undefined> {
    const argv = group.check.argv
    if (argv === undefined) return undefined
    const program = argv[0] as string
    if ((await this.host.which(program, { inTarget: true })) === undefined) {
      return warningDiagnostic('CONFIG_NOT_CHECKED', `${group.check.service}: ${program} is not installed in the target, so the new configuration was not checked`, { provider: 'files' })
    }
    const existing = []
    for (const c of group.changes) if (this.previous.get(c.id)?.kind === 'file') existing.push(pathOf(c) as string)
    const runs = argv.includes(CHANGED_FILE) ? await Promise.all(existing.map((p) => this.run(argv, p))) : [await this.run(argv)]
    const failing = runs.find((r) => !r.ok)
    if (failing === undefined) return undefined
    return warningDiagnostic(
      'CONFIG_NOT_CHECKED',
      `${group.check.service}: \`${failing.command}\` already fails on the live configuration, so it cannot judge the change: ${failing.output.split('\n')[0] ?? ''}`,
      { provider: 'files' },
    )
  }

  /** After the group is written: the checker on the new configuration. */
  async check(group: Group, applied: readonly Change[]): Promise<CheckRun> {
    const argv = group.check.argv as readonly string[]
    if (!argv.includes(CHANGED_FILE)) return this.run(argv)
    const checked: string[] = []
    for (const c of applied) {
      if ((c.data as { action: string }).action === 'delete') continue
      const run = await this.run(argv, pathOf(c))
      if (!run.ok) return run
      checked.push(pathOf(c) as string)
    }
    // What ran, as a person would type it: the changed files in place of the placeholder.
    return { ok: true, command: argv.flatMap((a) => (a === CHANGED_FILE ? checked : [a])).join(' '), output: '' }
  }

  /** The changes of the same groups as these, so a group goes back as a whole. */
  groupMates(ids: readonly string[]): string[] {
    const out = new Set(ids)
    for (const id of ids) for (const c of this.groupOf.get(id)?.changes ?? []) out.add(c.id)
    return [...out]
  }

  hasPrevious(id: string): boolean {
    return this.previous.has(id)
  }

  /**
   * Put the previous state of these changes' paths back, last change first, each atomically
   * (temp file with its final owner and mode, then rename). Returns the problems, as sentences.
   */
  async restore(changes: readonly Change[]): Promise<string[]> {
    const problems: string[] = []
    for (const c of [...changes].reverse()) {
      const path = pathOf(c)
      const before = this.previous.get(c.id)
      if (path === undefined || before === undefined) continue
      try {
        await this.put(path, before)
      } catch (error) {
        problems.push(`${path} could not be put back: ${(error as Error).message}`)
      }
    }
    return problems
  }

  private async put(path: string, before: Previous): Promise<void> {
    const now = await this.host.lstat(path)
    switch (before.kind) {
      case 'unkept':
        throw new Error(before.reason)
      case 'absent':
        if (now !== undefined) await this.host.remove(path)
        return
      case 'file':
        if (now !== undefined && now.type !== 'file') await this.host.remove(path)
        await this.host.writeFileAtomic(path, before.content, { mode: before.mode, uid: before.uid, gid: before.gid, ...extendedOptions(before.extended) })
        return
      case 'symlink':
        if (now !== undefined) await this.host.remove(path)
        await this.host.symlink(before.target, path, { uid: before.uid, gid: before.gid })
        return
      case 'other':
        if (now === undefined) throw new Error('it is gone and was not a file')
        await this.host.setAttributes(path, { uid: before.uid, gid: before.gid, mode: before.mode, ...extendedOptions(before.extended, true) })
    }
  }

  private async read(path: string): Promise<Previous> {
    const stat = await this.host.lstat(path)
    if (stat === undefined) return { kind: 'absent' }
    const owner = { mode: stat.mode, uid: stat.uid, gid: stat.gid }
    if (stat.type === 'symlink') return { kind: 'symlink', target: await this.host.readlink(path), uid: stat.uid, gid: stat.gid }
    const extended = stat.type === 'file' || stat.type === 'directory' ? await this.host.readAttributes(path) : undefined
    if (stat.type !== 'file') return { kind: 'other', ...owner, extended }
    if (stat.size > MAX_KEPT) return { kind: 'unkept', reason: `it is larger than ${MAX_KEPT} bytes and was not kept` }
    return { kind: 'file', content: await this.host.readFile(path), ...owner, extended }
  }

  private async run(argv: readonly string[], file?: string): Promise<CheckRun> {
    const args = argv.map((a) => (a === CHANGED_FILE ? (file as string) : a))
    const command = args.join(' ')
    const [program, ...rest] = args as [string, ...string[]]
    const result = await this.host.exec(program, rest, { inTarget: true, timeoutMs: CHECK_TIMEOUT_MS })
    const output = tail(`${result.stderr}${result.stdout}`.trim())
    return { ok: result.exitCode === 0 && !result.timedOut, command, output: result.timedOut ? `${output}\n(timed out)`.trim() : output }
  }
}

/**
 * The write options that put extended attributes and capabilities back as they were. A new file
 * only needs what it had; an existing entry (`exact`) also loses what was added since.
 */
function extendedOptions(extended: Extended, exact = false): { xattrs?: Record<string, string>; capabilities?: string } {
  if (extended === undefined) return {}
  const some = Object.keys(extended.xattrs).length > 0
  return {
    ...(some || exact ? { xattrs: extended.xattrs } : {}),
    ...(extended.capabilities !== undefined ? { capabilities: extended.capabilities } : exact ? { capabilities: '' } : {}),
  }
}

/** The result of a change whose group's checker rejected the new configuration. */
export function rejected(change: Change, group: Group, run: CheckRun, problems: readonly string[]): ChangeResult {
  const units = group.check.units?.length ? `${group.check.units.join(', ')} left alone` : 'nothing reloaded'
  const back = problems.length === 0 ? 'the previous files are back' : `putting the previous files back failed: ${problems.join('; ')}`
  return {
    id: change.id,
    status: 'failed',
    message: `\`${run.command}\` rejects the new ${group.check.service} configuration; ${back}; ${units}`,
    ...(run.output === '' ? {} : { outputTail: run.output }),
  }
}
