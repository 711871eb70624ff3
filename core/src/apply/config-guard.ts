import { dirname } from 'node:path'
import type { Change, ChangeResult, ConfigCheck, Diagnostic, HostPort, HostReader } from '@twinsync/sdk'
import { CHANGED_FILE, CHANGED_UNIT, CHECKER_PATH, checkerEnv, checksReading, filePathOf, findChecker, errorDiagnostic, isTempNameOf, redactSecrets, runsPerFile, unitOfPath, warningDiagnostic } from '@twinsync/sdk'
import { tail } from './command-runner.js'
import { compiledFiles } from './compiled-config.js'
import { appendTo } from '../append-to.js'
import { sha256 } from '../sha256.js'
import { leftOutWith } from '../plan/exclude-changes.js'
import type { LineFor } from '../plan/command-text.js'

/** Services changes that make a service read its configuration again. */
export const RELOADS = new Set(['reload', 'restart'])
/** Beyond this size a previous file is not kept in memory (and cannot be put back). */
const MAX_KEPT = 16 * 1024 * 1024
const CHECK_TIMEOUT_MS = 60_000

/** Extended attributes and capabilities as they were; undefined when getfattr is not installed. */
type Extended = { xattrs: Record<string, string>; capabilities?: string } | undefined

type FilePrevious = { kind: 'file'; content: Buffer; mode: number; uid: number; gid: number; extended: Extended; mtimeMs?: number }
/**
 * A folder a change deletes whole, with everything below it (by path, folders before what is in
 * them; a folder below has its own entries here, none of its own), so a rejected delete can be put
 * back. Session 45: a folder delete kept only the folder's mode ('other'), and the put-back of a
 * rejected one failed ("it is gone and was not a file"): nginx -t rejected the delete of
 * /etc/nginx/snippets, whose file a site includes, and the snippets stayed gone.
 */
type TreePrevious = { kind: 'tree'; mode: number; uid: number; gid: number; extended: Extended; mtimeMs?: number; entries: Array<{ path: string; previous: Previous }> }
type Previous =
  | { kind: 'absent' }
  | FilePrevious
  | { kind: 'symlink'; target: string; uid: number; gid: number; mtimeMs?: number }
  | { kind: 'other'; mode: number; uid: number; gid: number; extended: Extended }
  | TreePrevious
  | { kind: 'unkept'; reason: string }

/** What a path was, as data that can be written down: a file's content (and a kept folder's files') in base64. */
type StoredPrevious =
  | Exclude<Previous, FilePrevious | TreePrevious>
  | (Omit<FilePrevious, 'content'> & { content: string })
  | (Omit<TreePrevious, 'entries'> & { entries: Array<{ path: string; previous: StoredPrevious }> })

/** A path and what it was before the apply, content in base64: what PendingChecks writes down. */
export interface StoredFile {
  path: string
  previous: StoredPrevious
  /**
   * What the path was when its group was marked to go back (PendingChecks' goBack, rollingBack):
   * what the apply wrote there (`liveState`). The next apply puts back only a path still so, or
   * one of its own put-back half done; one changed since (a person's hand fix) is left alone
   * (session 46; session 45's review, M1). Absent in records of session 45's code.
   */
  written?: string
}

/** Beyond this many entries below a folder a delete of it is not kept (and cannot be put back). */
const MAX_KEPT_ENTRIES = 10_000

/**
 * What a put-back (ConfigGuard.restore) did not do: `problems`, paths it could not put back (as
 * sentences); `kept`, paths it left as they are because they hold what it does not remove (a
 * folder the apply made, in which a person has made files since: session 46's review, G6).
 */
export interface Restored {
  problems: string[]
  kept: KeptInPlace[]
}

/** A path a put-back left as it is (Restored.kept): a folder, and the names in it that are not the put-back's to remove. */
export interface KeptInPlace {
  path: string
  holds: string[]
}

/** Restored.kept, for a message. */
export function keptText(kept: readonly KeptInPlace[]): string {
  return kept.map((k) => `${k.path} holds ${k.holds.slice(0, 5).join(', ')}${k.holds.length > 5 ? `, … (${k.holds.length})` : ''}, which the put-back does not remove, so it stays`).join('; ')
}

/** A put-back's Restored.kept added to what a message says of it (`said`). */
export function withKept(said: string, restored: Restored): string {
  return restored.kept.length === 0 ? said : `${said}; ${keptText(restored.kept)}`
}

/** Thrown by ConfigGuard.put for a path it leaves as it is (Restored.kept). */
class Kept extends Error {
  constructor(readonly kept: KeptInPlace) {
    super(keptText([kept]))
  }
}

export interface Group {
  check: ConfigCheck
  changes: Change[]
  /**
   * What the checker already said about the live configuration, by command, when it failed
   * there (see baseline): a new failure that says nothing else is not the change's doing.
   */
  failingBefore?: Map<string, string>
}

export interface CheckRun {
  ok: boolean
  /** What ran, as a person would type it. */
  command: string
  output: string
  /** It did not finish within its time limit (it was killed). */
  timedOut?: boolean
  /** It failed, but only as it already failed on the live configuration (see baseline). */
  unjudged?: Diagnostic
  /** CONFIG_CHECK_UNSANDBOXED: it ran without the sandbox, which cannot be made here. */
  unsandboxed?: Diagnostic
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
  /** The groups of each change, by its id: one for each service that reads it (checksReading). */
  private readonly groupOf = new Map<string, Group[]>()
  /** The reloads (and restarts) of the plan that follow each change, by the change's id. */
  private readonly followers = new Map<string, Change[]>()
  /** The folders of watched paths: their modification time before the apply wrote in them. */
  private readonly folderTimes = new Map<string, number>()
  /** Every change of the plan with a path, by the path's folder. */
  private readonly inFolder = new Map<string, Set<string>>()
  /** Compiled files this apply built, by their source's path: each with what it was before (see build). */
  private readonly builtFrom = new Map<string, Array<{ path: string; previous: Previous }>>()
  /** The paths of the changes this guard was made with: their temporary files are TwinSync's (removeOwn). */
  private readonly paths = new Set<string>()

  constructor(
    private readonly host: HostPort,
    private readonly checks: readonly ConfigCheck[],
    changes: readonly Change[],
    /** Further changes whose previous state is kept (files other changes need: see Applier). */
    keep: Iterable<string> = [],
  ) {
    this.watched = new Set(keep)
    for (const c of changes) {
      if (c.category === 'services' && RELOADS.has(c.operation)) {
        for (const r of c.requires ?? []) {
          this.watched.add(r)
          appendTo(this.followers, r, c)
        }
      }
      const path = filePathOf(c)
      if (path === undefined) continue
      this.paths.add(path)
      if (checksReading(checks, c).length > 0) this.watched.add(c.id)
      const folder = dirname(path)
      this.inFolder.set(folder, (this.inFolder.get(folder) ?? new Set()).add(c.id))
    }
  }

  /**
   * A batch's file changes by the services that read them: a change is in the group of every
   * check whose paths match what it touches (checksReading), so each such service's checker judges
   * it. Before session 47 only the first's: a plugin's `myapp` reading /etc/nginx/conf.d/myapp.conf
   * beside nginx's `/etc/nginx/**` never ran `myapp check` on it, and the plan reloaded both.
   */
  groupsOf(changes: readonly Change[]): Group[] {
    const groups = new Map<string, Group>()
    for (const c of changes) this.groupOf.delete(c.id)
    for (const c of changes) {
      for (const check of checksReading(this.checks, c)) {
        const group = groups.get(check.service) ?? { check, changes: [] }
        if (group.changes.includes(c)) continue
        group.changes.push(c)
        groups.set(check.service, group)
        appendTo(this.groupOf, c.id, group)
      }
    }
    return [...groups.values()]
  }

  /** Before a batch runs: keep the previous state of its watched paths. */
  async remember(changes: readonly Change[]): Promise<void> {
    for (const c of changes) {
      const path = filePathOf(c)
      if (path === undefined || !this.watched.has(c.id) || this.previous.has(c.id)) continue
      this.previous.set(c.id, await this.read(path, (c.data as { action: string }).action === 'delete'))
      const folder = dirname(path)
      if (this.folderTimes.has(folder)) continue
      const stat = await this.host.lstat(folder)
      if (stat?.type === 'directory') this.folderTimes.set(folder, stat.mtimeMs)
    }
  }

  /**
   * The checker on the live configuration as it is, before the group is written. When it already
   * fails there, its complaint is kept: after the write, a failure that says nothing new cannot
   * be blamed on the change (sshd -t without /run/sshd in an unbooted root, a live file someone
   * broke by hand that the plan repairs elsewhere), while one that adds a complaint is. Returns
   * the warning for a checker that is not installed in the target: the group goes live unchecked.
   */
  async baseline(group: Group): Promise<Diagnostic | undefined> {
    const argv = group.check.argv
    if (argv === undefined) return undefined
    const program = argv[0] as string
    // The service's own checker: from the distribution's folders, never one planted in /usr/local (CHECKER_PATH).
    if ((await findChecker(this.host, program)) === undefined) {
      return warningDiagnostic('CONFIG_NOT_CHECKED', `${group.check.service}: ${program} is not installed in the target (${CHECKER_PATH.split(':').join(', ')}), so the new configuration was not checked`, { provider: 'files' })
    }
    const existing = []
    for (const c of group.changes) if (this.previous.get(c.id)?.kind === 'file') existing.push(filePathOf(c) as string)
    const runs = runsPerFile(argv) ? await Promise.all(existing.map((p) => this.run(group.check, p))) : [await this.run(group.check)]
    // A checker that hangs on the live configuration has said nothing: the new one must pass.
    const failing = runs.filter((r) => !r.ok && r.timedOut !== true)
    if (failing.length > 0) group.failingBefore = new Map(failing.map((r) => [r.command, r.output]))
    return undefined
  }

  /** After the group is written: the checker on the new configuration. */
  async check(group: Group, applied: readonly Change[]): Promise<CheckRun> {
    const argv = group.check.argv as readonly string[]
    if (!runsPerFile(argv)) return this.judged(group, await this.run(group.check))
    const runs = new Map<string, CheckRun>()
    for (const c of applied) {
      const path = filePathOf(c) as string
      const action = (c.data as { action: string }).action
      if (action === 'mkdir' || (action === 'delete' && !judgesRemoval(group.check, path))) continue
      const command = this.commandOf(group.check, path)
      // Drop-ins of one unit are one run.
      if (!runs.has(command)) runs.set(command, this.judged(group, await this.run(group.check, path)))
    }
    // What ran, as a person would type it: the changed files in place of the placeholder; every
    // failing file is named, so one apply tells all that is wrong.
    const failing = [...runs.values()].filter((r) => !r.ok)
    const unsandboxed = [...runs.values()].find((r) => r.unsandboxed !== undefined)?.unsandboxed
    const said = unsandboxed === undefined ? {} : { unsandboxed }
    if (failing.length > 0) {
      return { ok: false, command: failing.map((r) => r.command).join('; '), output: failing.map((r) => r.output).join('\n'), ...(failing.some((r) => r.timedOut === true) ? { timedOut: true } : {}), ...said }
    }
    const unjudged = [...runs.values()].find((r) => r.unjudged !== undefined)?.unjudged
    return { ok: true, command: [...runs.keys()].join('; '), output: '', ...(unjudged === undefined ? {} : { unjudged }), ...said }
  }

  /**
   * After the group is written, before its checker: build the compiled files of the sources it
   * wrote (postmap of a changed /etc/postfix/virtual; ConfigCheck.compiled), and those the new
   * configuration names whose compiled file is missing (a table newly named, or its type changed
   * to lmdb). What each compiled file was is kept, and goes back with its source (restore).
   * Returns what ran (undefined when nothing was built), failed when a build failed: that rejects
   * the group as a failed check does.
   */
  async build(group: Group, applied: readonly Change[], beforeBuild: (kept: StoredFile) => Promise<void> = async () => undefined): Promise<CheckRun | undefined> {
    if (group.check.compiled === undefined) return undefined
    const written = new Set(applied.filter((c) => (c.data as { action: string }).action !== 'delete').map((c) => filePathOf(c) as string))
    const runs: CheckRun[] = []
    for (const file of await compiledFiles(this.host, group.check)) {
      if (this.builtFrom.has(file.source) || (await this.host.lstat(file.source))?.type !== 'file') continue
      if (!written.has(file.source) && (await this.host.lstat(file.built)) !== undefined) continue
      // Its builder from the distribution's folders, as a checker (CHECKER_PATH).
      const [tool, ...args] = file.argv as [string, ...string[]]
      if ((await findChecker(this.host, tool)) === undefined) {
        runs.push({ ok: false, command: file.argv.join(' '), output: `${tool} is not installed in the target (${CHECKER_PATH.split(':').join(', ')}): ${file.built} cannot be built from ${file.source}` })
        continue
      }
      const previous = await this.read(file.built)
      this.builtFrom.set(file.source, [{ path: file.built, previous }])
      await beforeBuild(stored(file.built, previous))
      const result = await this.host.exec(tool, args, { inTarget: true, timeoutMs: CHECK_TIMEOUT_MS, env: checkerEnv() })
      const output = await redactSecrets(tail(`${result.stderr}${result.stdout}`.trim()))
      runs.push({ ok: result.exitCode === 0 && !result.timedOut, command: file.argv.join(' '), output, ...(result.timedOut ? { timedOut: true } : {}) })
    }
    if (runs.length === 0) return undefined
    const failing = runs.filter((r) => !r.ok)
    const shown = (list: CheckRun[]) => list.map((r) => r.command).join('; ')
    if (failing.length > 0) return { ok: false, command: shown(failing), output: failing.map((r) => r.output).filter(Boolean).join('\n'), ...(failing.some((r) => r.timedOut === true) ? { timedOut: true } : {}) }
    return { ok: true, command: shown(runs), output: '' }
  }

  /** The compiled files built for these changes' paths, as data that can be written down (see PendingChecks). */
  storedBuilt(changes: readonly Change[]): StoredFile[] {
    return changes.flatMap((c) => this.builtFrom.get(filePathOf(c) ?? '') ?? []).map(({ path, previous }) => stored(path, previous))
  }

  /**
   * A failed run that only repeats what the checker said about the live configuration passes,
   * with a CONFIG_NOT_CHECKED warning; one that times out never does (CONFIG_CHECK_TIMEOUT).
   */
  private judged(group: Group, run: CheckRun): CheckRun {
    if (run.ok || run.timedOut === true) return run
    const before = group.failingBefore?.get(run.command)
    if (before === undefined || !saysNothingNew(run.output, before)) return run
    return {
      ...run,
      ok: true,
      unjudged: warningDiagnostic(
        'CONFIG_NOT_CHECKED',
        `${group.check.service}: \`${run.command}\` already fails on the live configuration, and says nothing new about the change, so it cannot judge it: ${run.output.split('\n')[0] ?? ''}`,
        { provider: 'files' },
      ),
    }
  }

  /** The changes of the same groups as these, so a group goes back as a whole. */
  groupMates(ids: readonly string[]): string[] {
    const out = new Set(ids)
    for (const id of ids) for (const group of this.groupOf.get(id) ?? []) for (const c of group.changes) out.add(c.id)
    return [...out]
  }

  /** The reloads (and restarts) of the plan that follow any of these changes. */
  reloadsFollowing(changes: readonly Change[]): Change[] {
    return [...new Set(changes.flatMap((c) => this.followers.get(c.id) ?? []))]
  }

  /** The first service of the table that reads this change's path, if any (a name for its reload window). */
  serviceOf(change: Change): string | undefined {
    return checksReading(this.checks, change)[0]?.service
  }

  hasPrevious(id: string): boolean {
    return this.previous.has(id)
  }

  /**
   * How many of these changes' previous states were not kept (too large): each is one problem of
   * every restore, which no later one can put right. More problems than these: a put-back worth
   * trying again (PendingChecks' goBack); only these: trying again would fail for ever.
   */
  unkept(changes: readonly Change[]): number {
    return changes.filter((c) => filePathOf(c) !== undefined && this.previous.get(c.id)?.kind === 'unkept').length
  }

  /** Why this change's previous state was not kept (keepProblem), or undefined (kept, or not asked). */
  unkeptReason(id: string): string | undefined {
    const before = this.previous.get(id)
    return before?.kind === 'unkept' ? before.reason : undefined
  }

  /** What these changes' paths were before, as data that can be written down (see PendingChecks). */
  storedPrevious(changes: readonly Change[]): StoredFile[] {
    const out: StoredFile[] = []
    for (const c of changes) {
      const before = this.previous.get(c.id)
      const path = filePathOf(c)
      if (before === undefined || path === undefined) continue
      out.push(stored(path, before))
    }
    return out
  }

  /** Takes previous states written down by an earlier run (as changes of these ids), so restore can put them back. */
  adopt(id: string, stored: StoredFile): void {
    this.previous.set(id, fromStored(stored.previous))
  }

  /**
   * Put the previous state of these changes' paths back, last change first, each atomically
   * (temp file with its final owner, mode and modification time, then rename). Returns the
   * problems, as sentences.
   *
   * Exactly as it was, times included: a running service's configuration counts as newer than
   * the service when a file it reads, or a folder of them, was modified after it started (the
   * systemd provider's config drift); a put-back file with a new mtime, or its folder's mtime
   * moved by the temp file and the renames, had `status` say the service runs an older
   * configuration (session 18: nginx after `nginx -t` rejected a change). A folder's time goes
   * back only when every change of the plan in it is among those put back.
   *
   * A folder where the previous state has none (the apply made it, or made a folder of a file) is
   * removed only once nothing is left in it but TwinSync's temporary files: what a person made in
   * it since stays, and so does the folder (Restored.kept). Session 46's review (G6): it was
   * removed whole, with a file fixed by hand and another added below it, and CONFIG_RESTORE_SKIPPED
   * said the fixed one was left as it was.
   */
  async restore(changes: readonly Change[]): Promise<Restored> {
    const problems: string[] = []
    const kept: KeptInPlace[] = []
    const failed: string[] = []
    const folders = new Set<string>()
    for (const c of [...changes].reverse()) {
      const path = filePathOf(c)
      const before = this.previous.get(c.id)
      if (path === undefined || before === undefined) continue
      try {
        await this.put(path, before)
        folders.add(dirname(path))
      } catch (error) {
        // What is below it and could not be put back keeps it too: a problem, tried again; only a person's alone is kept for good.
        if (error instanceof Kept && !failed.some((f) => f.startsWith(`${path}/`))) kept.push(error.kept)
        else {
          failed.push(path)
          problems.push(`${path} could not be put back: ${(error as Error).message}`)
        }
      }
      // Its compiled file as it was (a source put back with a table built from the new text would
      // have postfix go on reading the new one).
      for (const built of this.builtFrom.get(path) ?? []) {
        try {
          await this.put(built.path, built.previous)
        } catch (error) {
          problems.push(`${built.path} could not be put back: ${(error as Error).message}`)
        }
      }
      this.builtFrom.delete(path)
    }
    const back = new Set(changes.map((c) => c.id))
    for (const folder of folders) {
      const mtimeMs = this.folderTimes.get(folder)
      if (mtimeMs === undefined || [...(this.inFolder.get(folder) ?? [])].some((id) => !back.has(id))) continue
      // Only the time: a folder that is no longer a folder (or gone) is left as it is.
      if ((await this.host.lstat(folder))?.type === 'directory') await this.host.setAttributes(folder, { mtimeMs }).catch(() => undefined)
    }
    return { problems, kept }
  }

  /**
   * Remove what is at `path` (`now`) for the put-back: a folder only once its own temporary files
   * are gone and nothing else is in it (rmdir, so what arrives meanwhile stays too); else it stays,
   * thrown as Kept. Never `rm -rf` of a folder: what is left in it is not the put-back's.
   */
  private async removeOwn(path: string, now: { type: string }): Promise<void> {
    if (now.type !== 'directory') {
      await this.host.remove(path)
      return
    }
    await this.sweepOwnTemps(path, this.paths)
    if ((await this.host.rmdir(path)) !== 'not-empty') return
    throw new Kept({ path, holds: (await this.host.readdir(path)).map((e) => e.name).sort() })
  }

  /**
   * Remove the temporary files in `dir` that a write of one of `paths` left (a run killed while it
   * put them back), by their exact name (isTempNameOf); nothing else that looks like one.
   */
  private async sweepOwnTemps(dir: string, paths: ReadonlySet<string>): Promise<void> {
    for (const e of await this.host.readdir(dir)) if (e.type === 'file' && isOwnTemp(dir, e.name, paths)) await this.host.remove(`${dir}/${e.name}`)
  }

  /** `kept`: the paths of the folder kept whole this entry is part of (a tree's entries: their temporary files are the put-back's). */
  private async put(path: string, before: Previous, kept?: ReadonlySet<string>): Promise<void> {
    const now = await this.host.lstat(path)
    switch (before.kind) {
      case 'unkept':
        throw new Error(before.reason)
      case 'absent':
        if (now !== undefined) await this.removeOwn(path, now)
        return
      case 'file':
        if (now !== undefined && now.type !== 'file') await this.removeOwn(path, now)
        await this.host.writeFileAtomic(path, before.content, { mode: before.mode, uid: before.uid, gid: before.gid, ...extendedOptions(before.extended), ...timeOf(before) })
        return
      case 'symlink':
        if (now !== undefined) await this.removeOwn(path, now)
        await this.host.symlink(before.target, path, { uid: before.uid, gid: before.gid })
        if (before.mtimeMs !== undefined) await this.host.setAttributes(path, { mtimeMs: before.mtimeMs })
        return
      case 'other':
        if (now === undefined) throw new Error('it is gone and was not a file')
        await this.host.setAttributes(path, { uid: before.uid, gid: before.gid, mode: before.mode, ...extendedOptions(before.extended, true) })
        return
      case 'tree': {
        if (now !== undefined && now.type !== 'directory') await this.host.remove(path)
        const owner = { mode: before.mode, uid: before.uid, gid: before.gid, ...extendedOptions(before.extended, true) }
        // The folder's own entries, those of a folder below it among them (its own `entries` are empty).
        const own = kept ?? new Set(before.entries.map((e) => e.path))
        if (now?.type === 'directory') {
          await this.host.setAttributes(path, owner)
          // A run killed while it put this folder back may have left a temporary file of one of
          // its entries' writes here: that file is no kept entry, so it goes; nothing else does.
          await this.sweepOwnTemps(path, own)
        } else await this.host.mkdir(path, owner)
        for (const entry of before.entries) await this.put(entry.path, entry.previous, own)
        // The folders' times last, deepest first: what was written in them moved them.
        for (const entry of [...before.entries].reverse()) if (entry.previous.kind === 'tree') await this.host.setAttributes(entry.path, timeOf(entry.previous))
        if (before.mtimeMs !== undefined) await this.host.setAttributes(path, timeOf(before))
      }
    }
  }

  /** What `path` is now; `deleting`: a folder is kept whole, with what is below it (TreePrevious). */
  private async read(path: string, deleting = false): Promise<Previous> {
    const stat = await this.host.lstat(path)
    if (stat === undefined) return { kind: 'absent' }
    const owner = { mode: stat.mode, uid: stat.uid, gid: stat.gid }
    if (stat.type === 'symlink') return { kind: 'symlink', target: await this.host.readlink(path), uid: stat.uid, gid: stat.gid, mtimeMs: stat.mtimeMs }
    const extended = stat.type === 'file' || stat.type === 'directory' ? await this.host.readAttributes(path) : undefined
    if (stat.type === 'directory' && deleting) {
      const why = await keepProblem(this.host, path, true)
      return why === undefined ? this.readTree(path, { ...owner, extended, mtimeMs: stat.mtimeMs }) : { kind: 'unkept', reason: why }
    }
    if (stat.type !== 'file') return { kind: 'other', ...owner, extended }
    const why = await keepProblem(this.host, path)
    if (why !== undefined) return { kind: 'unkept', reason: why }
    return { kind: 'file', content: await this.host.readFile(path), ...owner, extended, mtimeMs: stat.mtimeMs }
  }

  /**
   * A folder and everything below it (keepProblem has found it within the limits), held to the same
   * limits as it is read: it may have grown since that walk, and all of it is held in memory and in
   * the pending record (session 46's review, G3).
   */
  private async readTree(path: string, folder: Omit<TreePrevious, 'kind' | 'entries'>): Promise<Previous> {
    const entries: TreePrevious['entries'] = []
    let bytes = 0
    const walk = async (dir: string): Promise<void> => {
      for (const e of [...(await this.host.readdir(dir))].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const at = `${dir}/${e.name}`
        if (entries.length >= MAX_KEPT_ENTRIES) throw new Error(`what is below it grew past ${MAX_KEPT_ENTRIES} entries while it was kept, and was not kept`)
        const previous = await this.read(at)
        if (previous.kind === 'unkept') throw new Error(`${at} changed while it was kept: ${previous.reason}`)
        if (previous.kind === 'file') bytes += previous.content.length
        if (bytes > MAX_KEPT) throw new Error(`what is below it grew past ${MAX_KEPT} bytes while it was kept, and was not kept`)
        if (previous.kind === 'other') {
          const stat = await this.host.lstat(at)
          if (stat?.type !== 'directory') throw new Error(`${at} is neither a file, a symlink nor a folder`)
          entries.push({ path: at, previous: { ...previous, kind: 'tree', mtimeMs: stat.mtimeMs, entries: [] } })
          await walk(at)
        } else entries.push({ path: at, previous })
      }
    }
    try {
      await walk(path)
    } catch (error) {
      return { kind: 'unkept', reason: (error as Error).message }
    }
    return { kind: 'tree', ...folder, entries }
  }

  /**
   * Where a path a put-back would write stands (PendingChecks.finish): as the apply left it
   * (`written`, its liveState when the group was marked to go back); as it was before the apply,
   * or a folder half put back by a run killed meanwhile (`ours`); or `changed` since (a person's
   * hand fix). `unknown`: a record of session 45's code, which did not say what was written, and
   * the path is not as it was before.
   */
  async standing(change: Change, written: string | undefined): Promise<'written' | 'ours' | 'half' | 'changed' | 'unknown'> {
    const path = filePathOf(change) as string
    const now = await liveState(this.host, path)
    if (written !== undefined && now === written) return 'written'
    const before = this.previous.get(change.id)
    const part = before === undefined ? false : await this.isPartOf(path, now, before)
    if (part !== false) return part
    return written === undefined ? 'unknown' : 'changed'
  }

  /**
   * Is `path` (whose liveState is `now`) what it was before (`ours`), or a folder kept whole put
   * back in part, its own temporary files aside (`half`: a kept entry is still missing)? False when neither.
   */
  private async isPartOf(path: string, now: string, before: Previous): Promise<'ours' | 'half' | false> {
    if (before.kind !== 'tree') return now === stateOf(before) && 'ours'
    if (now !== stateOf(before)) return false
    const kept = new Map(before.entries.map((e) => [e.path, e.previous]))
    const own = new Set(kept.keys())
    let found = 0
    const walk = async (dir: string): Promise<boolean> => {
      for (const e of await this.host.readdir(dir)) {
        const at = `${dir}/${e.name}`
        if (e.type === 'file' && isOwnTemp(dir, e.name, own)) continue
        const previous = kept.get(at)
        if (previous === undefined) return false
        found++
        const state = await liveState(this.host, at)
        if (previous.kind === 'tree' ? state !== stateOf(previous) || !(await walk(at)) : state !== stateOf(previous)) return false
      }
      return true
    }
    if (!(await walk(path))) return false
    return found === kept.size ? 'ours' : 'half'
  }

  /** What a check runs, as a person would type it, for one changed file (per-file checkers). */
  private commandOf(check: ConfigCheck, file?: string): string {
    if (check.shown !== undefined) return check.shown.split(CHANGED_FILE).join(file ?? '')
    return this.argsOf(check.argv as readonly string[], file).join(' ')
  }

  private argsOf(argv: readonly string[], file?: string): string[] {
    return argv.map((a) => (a === CHANGED_FILE ? (file as string) : a === CHANGED_UNIT ? unitOfPath(file as string) : a))
  }

  private async run(check: ConfigCheck, file?: string): Promise<CheckRun> {
    const [program, ...rest] = this.argsOf(check.argv as readonly string[], file) as [string, ...string[]]
    const command = this.commandOf(check, file)
    const timeoutMs = check.timeoutMs ?? CHECK_TIMEOUT_MS
    // The checker reads what the twin brings (maybe pulled), as root: sandboxed (checker-sandbox.ts).
    const result = await this.host.exec(program, rest, { inTarget: true, sandbox: true, timeoutMs, env: checkerEnv(check) })
    // A checker quotes the configuration it read, secrets included (postconf's `unused parameter:
    // NAME=VALUE`, postfix's `missing '='` with the line): redacted before anyone sees the output,
    // so no secret reaches the terminal, the journal or a commit.
    const output = await redactSecrets(tail(`${result.stderr}${result.stdout}`.trim()))
    const unsandboxed =
      result.unsandboxed === undefined
        ? {}
        : {
            unsandboxed: warningDiagnostic('CONFIG_CHECK_UNSANDBOXED', `${check.service}: \`${command}\` ran without a sandbox (${result.unsandboxed}): what the configuration makes it load or run ran as root, with the network`, {
              provider: 'files',
              detail: 'Checkers run in new namespaces (unshare) over an overlay of the target, with setpriv; run TwinSync as root on a kernel with overlayfs and util-linux installed.',
            }),
          }
    if (result.timedOut) return { ok: false, command, timedOut: true, output: `${output}\n(no answer within ${timeoutMs / 1000} s: killed)`.trim(), ...unsandboxed }
    return { ok: result.exitCode === 0 && check.rejectsOutput?.test(output) !== true, command, output, ...unsandboxed }
  }
}

/**
 * Why what `path` is now could not be kept to be put back (a file over MAX_KEPT bytes; for a
 * folder deleted whole, `deleting`, more than MAX_KEPT bytes or MAX_KEPT_ENTRIES entries below
 * it, or an entry that is neither a file, a symlink nor a folder), or undefined. One rule for the
 * plan (leaveOutUnkept) and the apply (ConfigGuard.read): lstat only, no content read.
 */
export async function keepProblem(host: HostReader, path: string, deleting = false): Promise<string | undefined> {
  const stat = await host.lstat(path)
  if (stat?.type === 'file') return stat.size > MAX_KEPT ? `it is larger than ${MAX_KEPT} bytes and was not kept` : undefined
  if (stat?.type !== 'directory' || !deleting) return undefined
  let bytes = 0
  let entries = 0
  const walk = async (dir: string): Promise<string | undefined> => {
    for (const e of await host.readdir(dir)) {
      const at = `${dir}/${e.name}`
      const info = await host.lstat(at)
      if (info === undefined) continue
      entries++
      if (info.type === 'file') bytes += info.size
      else if (info.type === 'directory') {
        const why = await walk(at)
        if (why !== undefined) return why
      } else if (info.type !== 'symlink') return `${at} is neither a file, a symlink nor a folder`
      if (bytes > MAX_KEPT || entries > MAX_KEPT_ENTRIES) return `what is below it is larger than ${MAX_KEPT} bytes or ${MAX_KEPT_ENTRIES} entries and was not kept`
    }
    return undefined
  }
  return walk(path)
}

/**
 * A plan's checked changes whose previous state could not be kept (keepProblem), left out of the
 * plan: one CONFIG_CANNOT_PUT_BACK warning each (`change`: its id, so both front ends head the plan
 * with it and show its next step), and the rest of the plan planned without them. Session 45's
 * review (M2): such a change went ahead, and when its checker rejected it nothing could put the
 * previous state back; the broken configuration stayed live. Session 46 refused the whole plan
 * for it (an error), so one 17 MiB map pending in the twin stopped every other approved change,
 * even in the control panel with the change left out, and its next step did not name `discard`
 * (session 46's review, G5). Left out here before the follow-ups are planned, so the reload of its
 * service follows the other files only; a change that needs one left out (`requires`, as
 * excludeChanges follows it) is left out with it, said so. The twin still asks for it: status
 * and the next plan show it pending. A group whose checker is not installed in the target goes
 * live unchecked, and is planned.
 */
export async function leaveOutUnkept(host: HostReader, checks: readonly ConfigCheck[], changes: readonly Change[], line: LineFor): Promise<{ left: Set<string>; diagnostics: Diagnostic[] }> {
  const unkept = new Map<string, string>()
  const installed = new Map<string, boolean>()
  for (const c of changes) {
    const path = filePathOf(c)
    // Every checker that judges it (checksReading: each service that reads it).
    const programs = path === undefined ? [] : checksReading(checks, c).flatMap((k) => (k.argv === undefined ? [] : [k.argv[0] as string]))
    if (path === undefined || programs.length === 0) continue
    const action = (c.data as { action: string }).action
    const why = await keepProblem(host, path, action === 'delete')
    if (why === undefined) continue
    for (const program of programs) if (!installed.has(program)) installed.set(program, (await findChecker(host, program)) !== undefined)
    if (programs.some((program) => installed.get(program) === true)) unkept.set(c.id, why)
  }
  if (unkept.size === 0) return { left: new Set(), diagnostics: [] }
  const { alsoExcluded } = leftOutWith(changes, unkept.keys())
  const byId = new Map(changes.map((c) => [c.id, c]))
  const diagnostics = [...unkept].map(([id, why]) => unkeptWarning(byId.get(id) as Change, why, line))
  for (const id of alsoExcluded) {
    const c = byId.get(id) as Change
    const needs = (c.requires ?? []).filter((r) => unkept.has(r) || alsoExcluded.includes(r))
    diagnostics.push(
      warningDiagnostic('CONFIG_CANNOT_PUT_BACK', `${c.summary}: left out: it needs ${needs.join(', ') || 'a change'} of this plan, which is left out (its previous state cannot be kept to be put back)`, {
        provider: c.provider,
        change: c.id,
        ...(filePathOf(c) === undefined ? {} : { path: filePathOf(c) as string }),
        detail: `It goes with the change it needs (that change's next step says how). To drop it from the twin: \`${line(['discard', c.id])}\`.`,
      }),
    )
  }
  return { left: new Set([...unkept.keys(), ...alsoExcluded]), diagnostics }
}

/** The plan's CONFIG_CANNOT_PUT_BACK for a checked change it leaves out (leaveOutUnkept): what it is, and the ways out. */
function unkeptWarning(change: Change, why: string, line: LineFor): Diagnostic {
  const path = filePathOf(change) as string
  return warningDiagnostic('CONFIG_CANNOT_PUT_BACK', `${path}: left out: its service's checker judges it before it is live, and what it is now cannot be kept to be put back if the check fails (${why})`, {
    provider: change.provider,
    path,
    change: change.id,
    detail: `The rest of the plan runs without it, and the twin still asks for it. Split it in the twin (delete the large files below a folder first, in a plan of their own, then the folder), or make it on the machine by hand, check it with the service's checker and take a snapshot; to drop it from the twin: \`${line(['discard', change.id])}\`.`,
  })
}

/**
 * CONFIG_CANNOT_PUT_BACK for a checked change the apply does not write: its previous state could
 * not be kept (keepProblem's `why`): it grew past the limits after its plan was made.
 */
export function notKept(change: Change, why: string): Diagnostic {
  const path = filePathOf(change) as string
  return errorDiagnostic('CONFIG_CANNOT_PUT_BACK', `${path}: its service's checker judges it before it is live, and what it is now cannot be kept to be put back if the check fails (${why})`, {
    provider: change.provider,
    path,
    detail:
      "Make this change on the machine by hand, check it with the service's checker, and take a snapshot; or make it smaller in the twin (delete the large files below a folder first, in a plan of their own), then apply; or drop it from the twin with discard.",
  })
}

/** Is `name` in `dir` a temporary file a write of one of `paths` made (isTempNameOf)? */
function isOwnTemp(dir: string, name: string, paths: ReadonlySet<string>): boolean {
  if (!name.startsWith('.') || !name.includes('.twinsync-')) return false
  for (const p of paths) if (dirname(p) === dir && isTempNameOf(name, p.slice(dir.length + 1))) return true
  return false
}

/**
 * What an entry is now, in a few words that tell a change apart: its kind, a file's content hash,
 * a link's target, mode and owner (not times: a touch is no fix). Compared with stateOf.
 */
export async function liveState(host: HostReader, path: string): Promise<string> {
  const stat = await host.lstat(path)
  if (stat === undefined) return 'absent'
  const owner = `${stat.mode.toString(8)}:${stat.uid}:${stat.gid}`
  if (stat.type === 'symlink') return `symlink:${await host.readlink(path)}:${stat.uid}:${stat.gid}`
  if (stat.type !== 'file') return `${stat.type}:${owner}`
  // Never kept: told apart by size and time only.
  if (stat.size > MAX_KEPT) return `file:${stat.size}@${stat.mtimeMs}:${owner}`
  return `file:${sha256(await host.readFile(path))}:${owner}`
}

/** What a kept previous state is, as liveState says it. */
function stateOf(previous: Previous): string {
  switch (previous.kind) {
    case 'absent':
      return 'absent'
    case 'file':
      return `file:${sha256(previous.content)}:${previous.mode.toString(8)}:${previous.uid}:${previous.gid}`
    case 'symlink':
      return `symlink:${previous.target}:${previous.uid}:${previous.gid}`
    case 'other':
    case 'tree':
      return `directory:${previous.mode.toString(8)}:${previous.uid}:${previous.gid}`
    case 'unkept':
      return 'unkept'
  }
}

/**
 * What a kept previous state of a record is, as liveState says it, for a file, a link or nothing
 * there; undefined for a folder (its state says nothing of what is in it) or what was never kept.
 */
export function storedState(previous: StoredPrevious | undefined): string | undefined {
  return previous === undefined || (previous.kind !== 'file' && previous.kind !== 'symlink' && previous.kind !== 'absent') ? undefined : stateOf(fromStored(previous))
}

/** A path and what it was, as data that can be written down. */
function stored(path: string, previous: Previous): StoredFile {
  return { path, previous: toStored(previous) }
}

function toStored(previous: Previous): StoredPrevious {
  if (previous.kind === 'file') return { ...previous, content: previous.content.toString('base64') }
  if (previous.kind === 'tree') return { ...previous, entries: previous.entries.map((e) => ({ path: e.path, previous: toStored(e.previous) })) }
  return previous
}

function fromStored(previous: StoredPrevious): Previous {
  if (previous.kind === 'file') return { ...previous, content: Buffer.from(previous.content, 'base64') }
  if (previous.kind === 'tree') return { ...previous, entries: previous.entries.map((e) => ({ path: e.path, previous: fromStored(e.previous) })) }
  return previous
}

/** A kept entry's modification time as write options (none for one an older run wrote down without it). */
function timeOf(before: { mtimeMs?: number }): { mtimeMs?: number } {
  return before.mtimeMs === undefined ? {} : { mtimeMs: before.mtimeMs }
}

/**
 * Does a per-file checker judge the removal of `path`? A drop-in's unit is still there to verify
 * without it; a check that says so (ConfigCheck.checksRemoval) judges what the file was part of.
 * Before session 18 no removal was: a plan removing pg_hba.conf, or the drop-in that gave a unit
 * its ExecStart, went live "checked" by no run at all.
 */
function judgesRemoval(check: ConfigCheck, path: string): boolean {
  const argv = check.argv ?? []
  return check.checksRemoval === true || (argv.includes(CHANGED_UNIT) && unitOfPath(path) !== path)
}

/**
 * Does a checker's complaint about the new configuration only repeat its complaint about the
 * live one? Line by line, digits aside (timestamps, process ids and line numbers move when a
 * line is added above).
 */
function saysNothingNew(output: string, before: string): boolean {
  const norm = (line: string) => line.replace(/\d+/g, '#').trim()
  const known = new Set(before.split('\n').map(norm))
  return output.split('\n').map(norm).every((line) => line === '' || known.has(line))
}

/**
 * The write options that put extended attributes and capabilities back as they were. A new file
 * only needs what it had; an existing entry (`exact`) also loses what was added since.
 */
function extendedOptions(extended: Extended, exact = false): { xattrs?: Record<string, string>; capabilities?: string; keepAttributes?: boolean } {
  // Unknown (getfattr installed nowhere): the file put back keeps what the one it replaces carries.
  if (extended === undefined) return exact ? {} : { keepAttributes: true }
  const some = Object.keys(extended.xattrs).length > 0
  return {
    ...(some || exact ? { xattrs: extended.xattrs } : {}),
    ...(extended.capabilities !== undefined ? { capabilities: extended.capabilities } : exact ? { capabilities: '' } : {}),
  }
}

/**
 * A checker's words for a name it could not resolve (nginx's `host not found in upstream`,
 * haproxy's `could not resolve address`, glibc's `Name or service not known` and `Temporary failure in name resolution`, getaddrinfo's
 * errors as programs quote them).
 */
const UNRESOLVED = /host not found|could not (?:be )?resolve|cannot resolve|can't resolve|unable to resolve|Name or service not known|Temporary failure in name resolution|No address associated with hostname|getaddrinfo|EAI_(?:AGAIN|NONAME)/i

/**
 * Why a sandboxed checker may have rejected a configuration that is fine on the machine: its
 * sandbox has no network (checker-sandbox.ts), so a name the configuration uses resolves only
 * from the target's /etc/hosts there. Said as an error with what to do, never by running the
 * checker again with the network: a configuration could name an unresolvable host just to be
 * checked with it.
 */
function offline(group: Group, run: CheckRun): Diagnostic | undefined {
  if (run.unsandboxed !== undefined || !UNRESOLVED.test(run.output)) return undefined
  return errorDiagnostic('CONFIG_CHECK_OFFLINE', `${group.check.service}: \`${run.command}\` could not resolve a name the new configuration uses: checkers run in TwinSync's sandbox, which has no network`, {
    detail:
      'In the sandbox names resolve only from the machine\'s /etc/hosts. Add the name to /etc/hosts in the twin, with the change (apply makes the machine\'s /etc/hosts the twin\'s), or have the service resolve it when it runs (nginx: a `resolver` and the name in a variable), then apply again.',
    provider: 'files',
  })
}

/** The result of a change whose group's checker rejected the new configuration. */
export function rejected(change: Change, group: Group, run: CheckRun, restored: Restored, again = restored.problems.length > 0): ChangeResult {
  const units = group.check.units?.length ? `${group.check.units.join(', ')} left alone` : 'nothing reloaded'
  const { problems } = restored
  const back = withKept(problems.length === 0 ? 'the previous files are back' : `putting the previous files back failed: ${problems.join('; ')}${again ? '; the next apply puts them back before anything else' : ''}`, restored)
  const verdict = run.timedOut === true ? `\`${run.command}\` did not finish on the new ${group.check.service} configuration` : `\`${run.command}\` rejects the new ${group.check.service} configuration`
  return {
    id: change.id,
    status: 'failed',
    message: `${verdict}; ${back}; ${units}`,
    ...(run.output === '' ? {} : { outputTail: run.output }),
    ...(run.timedOut === true
      ? {
          diagnostics: [
            ...(run.unsandboxed === undefined ? [] : [run.unsandboxed]),
            errorDiagnostic('CONFIG_CHECK_TIMEOUT', `${group.check.service}: \`${run.command}\` gave no answer on the new configuration, so it was not made live`, {
              detail: 'Look for what the new configuration makes the checker wait on (an include of a pipe or a device, a name to resolve), then apply again.',
              provider: 'files',
            }),
          ],
        }
      : withDiagnostics([run.unsandboxed, offline(group, run)])),
  }
}

function withDiagnostics(found: ReadonlyArray<Diagnostic | undefined>): { diagnostics?: Diagnostic[] } {
  const diagnostics = found.filter((d): d is Diagnostic => d !== undefined)
  return diagnostics.length === 0 ? {} : { diagnostics }
}
