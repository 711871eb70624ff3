import { readFileSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Change, ChangeResult, ConfigCheck, Diagnostic, HostPort, HostReader } from '@twinsync/sdk'
import { TwinSyncError, errorDiagnostic, warningDiagnostic, writeFileAtomic } from '@twinsync/sdk/light'
import { inject, injectable } from '../di.js'
import { Tokens } from '../tokens.js'
import type { TwinLocation } from '../twin/twin-location.js'
import { twinsyncLine, type CommandTarget } from '../plan/command-text.js'
import { RunTarget } from '../plan/run-target.js'
import { ConfigGuard, keptText, liveState, storedState, type CheckRun, type Restored, type StoredFile } from './config-guard.js'

/**
 * One service's files written (or about to be) that are not yet known to work: their checker has
 * not decided, or (`reloads`) it passed, or there is none, and the reloads that follow them have
 * not given their verdict.
 */
export interface PendingCheck {
  service: string
  root: string
  files: StoredFile[]
  /**
   * The reloads (or restarts) of the plan that follow these files, as the plan has them, once the
   * files have passed their checker (or have none): until each has its verdict, the files are in
   * the reload window. Absent while the checker has not decided.
   */
  reloads?: Change[]
  /**
   * For a reload of `reloads` that began: what its provider measured before it ran
   * (ApplyRequest.onVerdictBasis), so a rerun judges it against the state before the kill.
   */
  bases?: { [id: string]: unknown }
  /** A reload failed and its files were being put back when the run was killed: the rerun finishes that. */
  rollingBack?: true
  /**
   * The verdict is in and the files must go back: the checker rejected them (marked before they
   * are put back), or a reload that follows them failed and putting them back failed (a full
   * disk, a file system gone read-only). The next apply puts them back before anything else,
   * asking no checker, then runs the reloads again as a rollback does. Session 45: the entry went
   * with a failed put-back, so a rejected nginx site stayed live and `status` said in sync; and a
   * kill while a rejected group went back left a mix that the next apply's checker could pass
   * ("the files stay", one of them the rejected group's).
   */
  goBack?: true
}

/**
 * Runs approved reloads once more, as the applier does: with the files live, judged against the
 * bases the killed run wrote down (`verdictBases`), or after the files were put back (`restoring`).
 */
export type RunAgain = (changes: readonly Change[], how: { restoring: true } | { verdictBases: { [id: string]: unknown } }) => Promise<ChangeResult[]>

interface Record {
  version: 1
  pending: PendingCheck[]
}

/** What the next apply did with a check an earlier one did not finish. */
export interface FinishedCheck {
  service: string
  /** The checker as it ran on the live configuration, or undefined when it could not run. */
  command?: string
  /** The files put back (the check failed or could not run); empty when it passed. */
  restored: string[]
  /**
   * Files of a group marked to go back that were not put back: changed since the apply left them
   * (a person's hand fix), or not known to be the apply's (a record of session 45's code), while
   * the checker passes on the live configuration (CONFIG_RESTORE_SKIPPED).
   */
  skipped?: string[]
  diagnostic: Diagnostic
  /**
   * Files an earlier apply's checker rejected and did not put back, put back now (goBack),
   * as file changes: the apply makes them intent again (ApplyService), so the twin asks for them
   * as after any rejection. The earlier apply's snapshot saw them live, and took them as the machine's.
   */
  askedAgain?: Change[]
  /**
   * CONFIG_CHECK_FAILED: the checker passed (on a person's hand fix, or on the files a killed apply
   * left), then a folder a killed put-back left half done was finished (whatGoesBack) or another
   * record of its group put files back, and the checker, run once more on the group's final state
   * (recheckSettled), rejects it. Nothing is undone (the folder's entries were live before the
   * apply; the fix is the person's): said, with the checker's output and a next step.
   */
  recheck?: Diagnostic
}

export const PENDING_CHECKS = join('.git', 'twinsync', 'config-checks-pending.json')

/**
 * Config checked before it is live, across a crash. Before the first file of a checked group is
 * written, what each of its paths was goes to disk (atomically, 0600, in the twin's .git: never
 * committed nor pushed, as a previous file may hold a secret); once the checker has decided and
 * the files are live or back, the entry goes. A run killed in between (after the write, during the
 * check, between a failed check and the restore) leaves the entry, and the next apply finishes it
 * before anything else (`finish`): the checker runs on the live configuration, and unless it passes
 * the previous files are put back. So a broken configuration never stays live because TwinSync
 * was killed; the twin still asks for it, and the next plan shows it again.
 */
@injectable()
export class PendingChecks {
  private writing: Promise<void> = Promise.resolve()
  private readonly path: string

  constructor(
    @inject(Tokens.TwinLocation) location: TwinLocation,
    @inject(RunTarget) private readonly target: Pick<RunTarget, 'line'>,
  ) {
    this.path = join(location.dir, PENDING_CHECKS)
  }

  /**
   * Speed (issue 22, session 16): read with a synchronous call. `plan` and `status` ask on every
   * run, and on a twin no apply was cut short the file is not there: the awaited `readFile` was
   * their only use of `node:fs/promises`, and it started libuv's thread pool (four threads) for
   * one `open` that fails. With `twinBranches`' read of HEAD (intent-git.ts), `plan` and `status`
   * on the services root start no thread pool; see architecture.md's Speed table for the figures.
   */
  async read(): Promise<PendingCheck[]> {
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    try {
      const value = JSON.parse(text) as Record
      if (value.version === 1 && Array.isArray(value.pending)) return value.pending
    } catch {
      // fall through
    }
    throw new TwinSyncError('REPO_INVALID', `The record of configuration checks an interrupted apply left (${this.path}) cannot be read`, {
      nextStep: `Check the configuration files it names by hand (\`nginx -t\`, \`sshd -t\`, ...), then remove it (\`rm ${this.path}\`) and run \`${this.target.line(['plan'])}\`.`,
      details: { path: this.path },
    })
  }

  /** On disk before the group's first file is written. */
  add(entry: PendingCheck): Promise<void> {
    return this.update((pending) => [...pending.filter((p) => p.service !== entry.service || p.root !== entry.root), entry])
  }

  /**
   * Files in the reload window from the start (no checker judges them, so none decides), on disk
   * before they are written: added to the service's entry (a path already there keeps what it
   * was first), with the reloads that follow them.
   */
  addReloadWindow(entry: PendingCheck & { reloads: Change[] }): Promise<void> {
    return this.update((pending) => {
      const known = pending.find((p) => p.service === entry.service && p.root === entry.root)
      if (known === undefined) return [...pending, entry]
      const paths = new Set(known.files.map((f) => f.path))
      const ids = new Set((known.reloads ?? []).map((r) => r.id))
      const merged = { ...known, files: [...known.files, ...entry.files.filter((f) => !paths.has(f.path))], reloads: [...(known.reloads ?? []), ...entry.reloads.filter((r) => !ids.has(r.id))] }
      return pending.map((p) => (p === known ? merged : p))
    })
  }

  /**
   * More files of a service whose check is under way (a compiled table about to be built, with
   * what it was): added to its entry, a path already there keeping what it was first.
   */
  addFiles(service: string, root: string, files: readonly StoredFile[]): Promise<void> {
    return this.update((pending) =>
      pending.map((p) => {
        if (p.service !== service || p.root !== root) return p
        const paths = new Set(p.files.map((f) => f.path))
        return { ...p, files: [...p.files, ...files.filter((f) => !paths.has(f.path))] }
      }),
    )
  }

  /** The checker passed and these reloads follow the files: the entry stays until their verdicts. */
  awaitReloads(service: string, root: string, reloads: readonly Change[]): Promise<void> {
    return this.update((pending) => pending.map((p) => (p.service === service && p.root === root ? { ...p, reloads: [...reloads] } : p)))
  }

  /**
   * A reload has its verdict, and the files are live or back (a failed one is rolled back before
   * its result is recorded): an entry no reload is left to judge goes.
   */
  reloadDone(id: string, root: string): Promise<void> {
    return this.update((pending) =>
      pending.flatMap((p) => {
        // Its files are not back: the entry stays whole, reloads and all (see goBack).
        if (p.goBack === true) return [p]
        if (p.root !== root || p.reloads === undefined || !p.reloads.some((r) => r.id === id)) return [p]
        const reloads = p.reloads.filter((r) => r.id !== id)
        return reloads.length === 0 ? [] : [{ ...p, reloads }]
      }),
    )
  }

  /** What a reload's provider measured before it ran (ApplyRequest.onVerdictBasis), kept with the files it follows. */
  recordBasis(id: string, root: string, basis: unknown): Promise<void> {
    return this.patch(followedBy(id, root), (p) => ({ ...p, bases: { ...p.bases, [id]: basis } }))
  }

  /** A reload failed: the files it follows are about to be put back. A kill from here on is finished by putting them back. */
  rollingBack(id: string, root: string, host: HostReader): Promise<void> {
    return this.markGoingBack(followedBy(id, root), { rollingBack: true }, host)
  }

  /** The checker rejected this service's files: on disk before they are put back, so a kill or a failed put-back is finished by the next apply (see goBack). */
  rejected(service: string, root: string, host: HostReader): Promise<void> {
    return this.markGoingBack((p) => p.service === service && p.root === root, { goBack: true }, host)
  }

  /**
   * The entries `which` picks marked to go back, with what each of their paths is now (what the
   * apply wrote: StoredFile.written; a path noted before keeps its note), so the apply that puts
   * them back later leaves alone a path changed since (finish).
   */
  private markGoingBack(which: (p: PendingCheck) => boolean, mark: { goBack: true } | { rollingBack: true }, host: HostReader): Promise<void> {
    return this.update(async (pending) => {
      if (!pending.some(which)) return pending
      const out: PendingCheck[] = []
      for (const p of pending) {
        if (!which(p)) out.push(p)
        else {
          const files: StoredFile[] = []
          // One that cannot be read (a folder on the way made a link) is not noted: not known to be the apply's.
          for (const f of p.files) files.push(f.written !== undefined ? f : { ...f, ...(await liveState(host, f.path).then((written) => ({ written }), () => ({}))) })
          out.push({ ...p, files, ...mark })
        }
      }
      return out
    })
  }

  /** A failed reload's files could not all be put back: the next apply does it, and reloads again (see goBack). */
  rollbackFailed(id: string, root: string): Promise<void> {
    return this.patch(followedBy(id, root), (p) => ({ ...p, goBack: true }))
  }

  /** The entries `which` picks, made `into` them; none picked: nothing written (a reload no window follows, the common case). */
  private patch(which: (p: PendingCheck) => boolean, into: (p: PendingCheck) => PendingCheck): Promise<void> {
    return this.update((pending) => (pending.some(which) ? pending.map((p) => (which(p) ? into(p) : p)) : pending))
  }

  /** The checker decided and the files are live or back. */
  remove(service: string, root: string): Promise<void> {
    return this.update((pending) => pending.filter((p) => p.service !== service || p.root !== root))
  }

  private update(change: (pending: PendingCheck[]) => PendingCheck[] | Promise<PendingCheck[]>): Promise<void> {
    const next = this.writing.then(async () => {
      const before = await this.read()
      const pending = await change(before)
      if (pending === before || (pending.length === 0 && before.length === 0)) return
      if (pending.length === 0) {
        await rm(this.path, { force: true })
        return
      }
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 })
      await writeFileAtomic(this.path, JSON.stringify({ version: 1, pending } satisfies Record) + '\n', { mode: 0o600 })
    })
    this.writing = next.catch(() => undefined)
    return next
  }

  /**
   * Finish the checks an interrupted apply left on this root: run each service's checker on the
   * live configuration; when it passes, the files stay; otherwise (it fails, gives no answer, or
   * its service is no longer known) the previous files are put back. Files in the reload window
   * (their checker passed, a reload that follows them had no verdict) are judged again: their
   * checker runs on them once more, then the reloads run again with them live (`runAgain`),
   * judged against what the killed run measured before its reload began (`bases`: was the unit
   * active, where did it listen; the state now when the reload had not begun). The files stay
   * when every reload passes; otherwise they go back and the reloads run again on the previous
   * files, as a failed reload's rollback does. Session 29; before, a reload window's files always
   * went back, so a kill inside an approved unit file's restart reversed it. Each entry goes once done.
   * Entries that share a path (a file two services read) are decided together (decideTogether).
   * `putBack` is given each path put back (a file, a link or nothing there) with what it is now,
   * as liveState says it (ExecuteOptions.putBack).
   */
  async finish(host: HostPort, checks: readonly ConfigCheck[], runAgain?: RunAgain, putBack?: Map<string, string>): Promise<FinishedCheck[]> {
    const out: FinishedCheck[] = []
    for (const sharing of sharingAPath((await this.read()).filter((e) => e.root === host.root))) {
      const { entries, given } = await this.decideTogether(host, sharing, checks)
      // Marked records none of whose files changed since go back first (no checker is asked);
      // then every marked record with a hand change has its checker judge what they left, all on
      // that one state, before any of them puts anything back (judgeMarked). Session 48's putback3:
      // settled in record order, nginx's checker passed on its hand fix before geo's put-back of
      // the shared file (CONFIG_CHECK_FAILED said after) or judged after it (CONFIG_RESTORE_SKIPPED
      // alone), as the records came: now the same is done and said in any order.
      const whole = new Set<PendingCheck>()
      // A marked record's guard, built once: goesBackWhole, then judgeMarked, settleCheck and recheckSettled (Marked).
      const guards = new Map<PendingCheck, Guarded>()
      for (const entry of entries) {
        if (entry.goBack !== true || entry.reloads !== undefined) continue
        const guarded = guardOf(host, entry, checks)
        if (await goesBackWhole(guarded, entry)) whole.add(entry)
        else guards.set(entry, guarded)
      }
      const order = [...entries.filter((e) => whole.has(e)), ...entries.filter((e) => !whole.has(e))]
      const settled: Settled[] = []
      const marked = new Map<PendingCheck, Marked>()
      for (const [i, entry] of order.entries()) {
        if (i === whole.size) for (const e of order.slice(i)) if (e.goBack === true && e.reloads === undefined) marked.set(e, await judgeMarked(host, e, guards.get(e) as Guarded, settled))
        const { finished, retry, passed, reword } = entry.reloads !== undefined ? await this.settleReloadWindow(host, entry, checks, runAgain) : await settleCheck(host, entry, checks, () => this.rejected(entry.service, entry.root, host), given.get(entry), marked.get(entry))
        out.push(finished)
        const judgedBy = marked.get(entry)
        settled.push({ entry, finished, ...(passed === undefined ? {} : { passed }), ...(reword === undefined ? {} : { reword }), ...(judgedBy === undefined ? {} : { marked: judgedBy }), judged: judgedBy !== undefined ? whole.size : given.has(entry) ? 0 : i })
        for (const path of finished.restored) {
          const state = storedState(entry.files.find((f) => f.path === path)?.previous)
          if (state !== undefined) putBack?.set(path, state)
        }
        // Files that could not be put back (and were kept) stay in the record: the apply after this one tries again.
        if (!retry) await this.remove(entry.service, entry.root)
        else await this.patch((p) => p.service === entry.service && p.root === entry.root, (p) => ({ ...p, goBack: true }))
      }
      await recheckSettled(host, checks, settled)
    }
    return out
  }

  /**
   * Entries of a killed apply that share a path, checked groups (no `reloads`): a change two
   * services read was in both groups, which the apply decides together (CheckedGroups.settle: one
   * rejection puts back what all of them wrote, all must pass to keep), so they are settled so too.
   * Undecided: each checker runs on the live files, until one does not pass; then all are marked
   * to go back before any file goes back, and each is put back with that verdict (`given`). One
   * already marked (the apply was killed while it marked them one by one, or put them back): the
   * others are marked too, and all go back as marked records do (whatGoesBack). Session 47's review:
   * they were settled one at a time, so nginx's checker kept its files with the shared file that
   * the other service's rejection then put back, a mix no checker judged. A reload window's entry
   * is settled alone, as before (its checker passed with the others'; its reload judges it).
   */
  private async decideTogether(host: HostPort, sharing: PendingCheck[], checks: readonly ConfigCheck[]): Promise<{ entries: PendingCheck[]; given: Map<PendingCheck, Verdict> }> {
    const checked = sharing.filter((e) => e.reloads === undefined)
    const alone = { entries: sharing, given: new Map<PendingCheck, Verdict>() }
    if (checked.length < 2) return alone
    const among = (p: PendingCheck) => p.root === host.root && p.reloads === undefined && checked.some((e) => e.service === p.service)
    if (checked.some((e) => e.goBack === true)) {
      if (checked.every((e) => e.goBack === true)) return alone
      await this.markGoingBack((p) => among(p) && p.goBack !== true, { goBack: true }, host).catch(() => undefined)
      const now = await this.read()
      return { ...alone, entries: sharing.map((e) => now.find((p) => among(p) && p.service === e.service) ?? e) }
    }
    const runs = new Map<PendingCheck, CheckRun | undefined>()
    let rejecting: PendingCheck | undefined
    for (const entry of checked) {
      const { changes, guard } = guardOf(host, entry, checks)
      const run = await checkLive(host, guard, changes)
      runs.set(entry, run)
      if (run?.ok !== true) {
        rejecting = entry
        break
      }
    }
    if (rejecting === undefined) return { ...alone, given: new Map(checked.map((e) => [e, { run: runs.get(e) }])) }
    // On disk before any file goes back, as the applier marks a rejection: a kill half way is finished by putting back.
    await this.markGoingBack(among, { goBack: true }, host).catch(() => undefined)
    const by = rejecting
    const run = runs.get(by)
    return { ...alone, given: new Map(checked.map((e) => [e, e === by ? { run } : { run, by: by.service, shared: sharedPaths(e, by) }])) }
  }

  /**
   * Files in the reload window of a killed run: checked again and reloaded again with them live,
   * judged against the basis measured before the killed reload; put back, and reloaded on the
   * previous files, when that fails (or the killed run was already putting them back).
   */
  private async settleReloadWindow(host: HostPort, entry: PendingCheck, checks: readonly ConfigCheck[], runAgain: RunAgain | undefined): Promise<{ finished: FinishedCheck; retry: boolean; passed?: undefined; reword?: undefined }> {
    const { changes, guard } = guardOf(host, entry, checks)
    const reloads = entry.reloads ?? []
    const units = reloads.map((r) => r.resource).join(', ') || 'its service'
    const verbs = [...new Set(reloads.map((r) => r.operation))].join(' or ') || 'reload'
    const files = entry.files.map((f) => f.path).join(', ')
    const killed =
      entry.goBack === true
        ? `${entry.service}: the ${verbs} of ${units} failed after an earlier apply wrote ${files}, and putting the previous files back failed then`
        : `${entry.service}: an interrupted apply wrote ${files} and was killed before the ${verbs} of ${units} gave its verdict`
    let why = 'it was putting them back after a failed reload'
    let command: string | undefined
    const goingBack = entry.rollingBack === true || entry.goBack === true
    if (!goingBack && runAgain !== undefined && reloads.length > 0) {
      // Checked again: the files are on disk since the killed run, and may have been edited since.
      const run = await checkLive(host, guard, changes)
      command = run?.command
      if (run === undefined || run.ok) {
        const results = await runAgain(reloads, { verdictBases: entry.bases ?? {} })
        const failed = reloads.map((r) => results.find((x) => x.id === r.id) ?? { id: r.id, status: 'failed' as const, message: 'it could not run again' }).filter((x) => x.status !== 'applied' && x.status !== 'unchanged')
        const checked = run === undefined ? '' : `\`${run.command}\` passes on them again, `
        if (failed.length === 0) {
          return {
            retry: false,
            finished: {
              service: entry.service,
              ...(command === undefined ? {} : { command }),
              restored: [],
              diagnostic: warningDiagnostic('CONFIG_RELOAD_FINISHED', `${killed}; ${checked}the ${verbs} ran again with them live and ${units} ${reloads.length === 1 ? 'is' : 'are'} back as before it: the files stay`, { provider: 'files' }),
            },
          }
        }
        why = `the ${verbs} ran again with them live and failed: ${failed.map((x) => x.message ?? x.status).join('; ')}`
      } else {
        why = `\`${run.command}\` rejects them now${run.output === '' ? '' : `: ${run.output.split('\n')[0]}`}`
      }
    }
    // A kill from here on: the next apply finishes putting them back, never reloads a mix of old and new live.
    if (!goingBack && reloads.length > 0) await this.markGoingBack((p) => p.service === entry.service && p.root === entry.root, { rollingBack: true }, host)
    // Marked before this apply: only what is still as the apply left it goes back (whatGoesBack).
    const sorted = goingBack ? await whatGoesBack(host, guard, entry, changes) : { back: changes, left: [] }
    if (sorted.run !== undefined) command = sorted.run.command
    const restored = await guard.restore(sorted.back)
    const { problems } = restored
    const retry = problems.length > guard.unkept(sorted.back)
    let again = ''
    if (reloads.length > 0) {
      const results = runAgain === undefined ? [] : await runAgain(reloads, { restoring: true })
      const said = reloads.map((r) => {
        const result = results.find((x) => x.id === r.id)
        return result?.status === 'applied' ? `${r.resource} runs again` : `${r.resource}: ${result?.message ?? 'it could not run again'}`
      })
      again = `; ${verbs} ran again: ${said.join('; ')}`
    }
    const detail = 'The twin still asks for the new files: the next plan shows them again, with their reload. Fix them in the twin, or apply again to have them checked, reloaded and verified.'
    const lead = entry.goBack === true ? 'now' : `${why}, so`
    return {
      retry,
      finished: {
        service: entry.service,
        ...(command === undefined ? {} : { command }),
        ...outcome(sorted, restored),
        ...askedAgain(entry, problems),
        diagnostic:
          sorted.left.length + restored.kept.length === 0
            ? errorDiagnostic('CONFIG_RESTORED', `${killed}; ${lead} ${putBack(problems, retry)}${again}`, { provider: 'files', detail })
            : skippedDiagnostic(`${killed}; ${sorted.left.length === 0 ? `${lead} ${putBack(problems, retry)}; ${keptText(restored.kept)}` : leftAlone(sorted, restored, retry)}${again}`, detail),
      },
    }
  }
}

/**
 * A verdict on an entry given by decideTogether: the checker's run (undefined: it cannot run here),
 * and when it is another service's (`by`), the paths the two share.
 */
interface Verdict {
  run: CheckRun | undefined
  by?: string
  shared?: string[]
}

/** The entries in groups that share a path, each group in the order of its first entry, its entries in theirs. */
function sharingAPath(entries: readonly PendingCheck[]): PendingCheck[][] {
  let groups: PendingCheck[][] = []
  for (const entry of entries) {
    const paths = new Set(entry.files.map((f) => f.path))
    const joined = groups.filter((g) => g.some((e) => e.files.some((f) => paths.has(f.path))))
    groups = [...groups.filter((g) => !joined.includes(g)), [...joined.flat(), entry]]
  }
  const at = (e: PendingCheck | undefined) => entries.indexOf(e as PendingCheck)
  return groups.map((g) => g.sort((a, b) => at(a) - at(b))).sort((a, b) => at(a[0]) - at(b[0]))
}

/** The paths of `entry` that `other` names too. */
function sharedPaths(entry: PendingCheck, other: PendingCheck): string[] {
  const theirs = new Set(other.files.map((f) => f.path))
  return entry.files.map((f) => f.path).filter((p) => theirs.has(p))
}

/** FinishedCheck's restored and skipped: a path the put-back left as it is (Restored.kept) is skipped, not restored. */
function outcome(sorted: { back: readonly Change[]; left: readonly string[] }, restored: Restored): Pick<FinishedCheck, 'restored' | 'skipped'> {
  const kept = new Set(restored.kept.map((k) => k.path))
  const skipped = [...sorted.left, ...kept]
  return { restored: sorted.back.map((c) => c.resource).filter((p) => !kept.has(p)), ...(skipped.length === 0 ? {} : { skipped }) }
}

/** FinishedCheck.askedAgain: an entry whose files were rejected earlier and are back now. */
function askedAgain(entry: PendingCheck, problems: readonly string[]): { askedAgain?: Change[] } {
  return entry.goBack === true && problems.length === 0 ? { askedAgain: asChanges(entry) } : {}
}

/** What became of putting the previous files back, for a message. */
function putBack(problems: readonly string[], retry: boolean): string {
  return problems.length === 0 ? 'the previous files are back' : `putting the previous files back failed: ${problems.join('; ')}${retry ? '; the next apply tries again before anything else' : ''}`
}

/**
 * A checked group an earlier apply left (PendingChecks.finish): killed before its checker decided,
 * the checker runs on the live files, which stay if it passes and go back if not; rejected with
 * not all put back (goBack: killed, or the put-back failed), they go back, no checker asked.
 */
async function settleCheck(host: HostPort, entry: PendingCheck, checks: readonly ConfigCheck[], markRejected: () => Promise<void>, given?: Verdict, marked?: Marked): Promise<{ finished: FinishedCheck; retry: boolean; passed?: Passed; reword?: Reword }> {
  const { changes, guard } = marked ?? guardOf(host, entry, checks)
  const files = entry.files.map((f) => f.path).join(', ')
  const run = entry.goBack === true ? undefined : given !== undefined ? given.run : await checkLive(host, guard, changes)
  if (run?.ok === true) {
    return {
      retry: false,
      passed: { back: [], left: [] },
      finished: {
        service: entry.service,
        command: run.command,
        restored: [],
        diagnostic: warningDiagnostic('CONFIG_CHECK_FINISHED', `${entry.service}: an interrupted apply wrote ${files} and was killed before its check ended; \`${run.command}\` now passes on the live configuration, so the files stay`, { provider: 'files' }),
      },
    }
  }
  // Rejected (or no checker here), on disk before any file goes back, as the applier marks its own
  // rejection: a kill half way or a put-back that fails leaves a record the next apply finishes by
  // putting them back, never one whose checker judges a mix of old and new (session 45's review:
  // only the applier's path marked it). A mark that cannot be written stops no put-back.
  if (entry.goBack !== true) await markRejected().catch(() => undefined)
  // Marked before this apply: only what is still as the apply left it goes back (whatGoesBack).
  const sorted: Sorted = marked?.sorted ?? (entry.goBack === true ? await whatGoesBack(host, guard, entry, changes) : { back: changes, left: [] })
  const judged = run ?? sorted.run
  const restored = await guard.restore(sorted.back)
  const { problems } = restored
  const retry = problems.length > guard.unkept(sorted.back)
  const what =
    entry.goBack === true
      ? `${entry.service}: its checker rejected ${files} in an earlier apply, which did not put all the previous files back`
      : `${entry.service}: an interrupted apply wrote ${files} and was killed before its check ended; ${run === undefined ? `${given?.by === undefined ? 'its' : `${given.by}'s`} checker cannot run here` : `\`${run.command}\` rejects the live configuration${run.output === '' ? '' : `: ${run.output.split('\n')[0]}`}`}${given?.by === undefined ? '' : ` (${given.shared?.length ? `${given.by} reads ${given.shared.join(', ')} too, and the two are decided together` : `decided together with ${given.by}, through files both share with another service`})`}`
  const detail = 'The twin still asks for the new files: the next plan shows them again. Fix them in the twin, then apply.'
  const lead = entry.goBack === true ? '; now' : ', so'
  return {
    retry,
    // Passed: a half-done folder finished (`back`) is judged once more with the group (recheckSettled).
    ...(sorted.run?.ok === true ? { passed: { back: sorted.back.map((c) => c.resource), left: sorted.left } } : {}),
    // Rejected with a hand change left: its words again, should the group's final state pass (recheckSettled).
    ...(sorted.run?.ok === false && sorted.left.length > 0 ? { reword: (then: string) => skippedDiagnostic(`${what}; ${leftAlone(sorted, restored, retry, then)}`, detail) } : {}),
    finished: {
      service: entry.service,
      ...(judged === undefined ? {} : { command: judged.command }),
      ...outcome(sorted, restored),
      ...askedAgain(entry, problems),
      diagnostic:
        sorted.left.length + restored.kept.length === 0
          ? errorDiagnostic('CONFIG_RESTORED', `${what}${lead} ${putBack(problems, retry)}`, { provider: 'files', detail })
          : skippedDiagnostic(sorted.left.length === 0 ? `${what}${lead} ${putBack(problems, retry)}; ${keptText(restored.kept)}` : `${what}; ${leftAlone(sorted, restored, retry)}`, detail),
    },
  }
}

/** What whatGoesBack decided for an entry, and, once others went back first (judgeMarked), their names for its message (`first`). */
type Sorted = { back: Change[]; left: string[]; run?: CheckRun; unknown?: true; reloadFailed?: true; first?: string }

/** An entry's files that stayed because its checker passed: a half-done folder finished since (`back`), and paths changed by hand it judged (`left`). */
interface Passed {
  back: string[]
  left: string[]
}

/**
 * An entry of a sharing group as settled; `passed`: its files stayed because its checker passed
 * (settleCheck); `judged`: how many of the group's entries were settled before its checker's verdict.
 */
interface Settled {
  entry: PendingCheck
  finished: FinishedCheck
  passed?: Passed
  /** Its checker rejected what was live at its verdict and a hand change stays: its CONFIG_RESTORE_SKIPPED should the final state pass (settleCheck). */
  reword?: Reword
  /** A marked entry's verdict and guard (judgeMarked): its recheck uses that guard. */
  marked?: Marked
  judged: number
}

/** A rejected entry's CONFIG_RESTORE_SKIPPED said again with the checker's word on the group's final state (`then`). */
type Reword = (then: string) => Diagnostic

/** An entry's files as changes, with the guard that knows what each was (guardOf). */
interface Guarded {
  changes: Change[]
  guard: ConfigGuard
}

/** A marked entry's verdict, taken before its group's put-backs (judgeMarked), with the guard that judged it. */
interface Marked extends Guarded {
  sorted: Sorted
}

/** A record marked to go back (goBack, no reloads) none of whose files changed since: it goes back whole, no checker asked (whatGoesBack). */
async function goesBackWhole({ changes, guard }: Guarded, entry: PendingCheck): Promise<boolean> {
  for (const [i, c] of changes.entries()) if (['changed', 'unknown'].includes(await guard.standing(c, entry.files[i]?.written))) return false
  return true
}

/**
 * A marked record's verdict (whatGoesBack) on what the group's records that go back whole left
 * (`before`, settled first), taken for every such record before any of them puts anything back.
 */
async function judgeMarked(host: HostPort, entry: PendingCheck, { changes, guard }: Guarded, before: readonly Settled[]): Promise<Marked> {
  const sorted: Sorted = await whatGoesBack(host, guard, entry, changes)
  const by = before.filter((o) => o.finished.restored.length > 0)
  if (sorted.run === undefined || by.length === 0) return { changes, guard, sorted }
  const each = by.map((o) => {
    const shared = sharedPaths(entry, o.entry)
    return shared.length > 0 ? `${o.entry.service} reads ${shared.join(', ')} too` : `${o.entry.service} is decided with it through files both share with another service`
  })
  const theirs = by.length === 1 ? 'none of its files changed since, so all go back' : 'none of their files changed since, so all go back'
  return { changes, guard, sorted: { ...sorted, first: ` with ${by.map((o) => `${o.entry.service}'s`).join(' and ')} files back first (${each.join('; ')}; ${theirs})` } }
}

/**
 * Once a group is settled: each entry whose checker passed (its files stay), when anything went
 * back after its verdict (a half-done folder of its own finished, F6, or another entry's
 * put-back), has its checker run once more on what is live now, and a rejection is said
 * (CONFIG_CHECK_FAILED, FinishedCheck.recheck); nothing is undone. Session 48's review, F5:
 * records all marked to go back were settled one at a time; nginx's checker passed on a hand fix
 * with the new shared file, then geo's put-back put the old one back under it, unsaid. Run on the
 * group's final state, once: session 48's putback3 left a rejection after the entry's own folder
 * said when another entry's put-back then made the configuration pass. A path the entry's service
 * reads but its record does not name counts as well (its checker reads the whole configuration).
 * Likewise an entry whose checker rejected what was live at its verdict, a hand change left
 * (CONFIG_RESTORE_SKIPPED: `reword`): when others put files back after that verdict and the
 * checker passes on the final state, its words say so (session 49's review, U1: "rejects the
 * live configuration" stayed said of a configuration that passes); a rejection still said as it was.
 */
async function recheckSettled(host: HostPort, checks: readonly ConfigCheck[], settled: readonly Settled[]): Promise<void> {
  for (const s of settled) {
    const by = settled.slice(s.judged).filter((o) => o !== s && o.finished.restored.length > 0)
    if (s.reword !== undefined && by.length > 0) {
      const { changes, guard } = s.marked ?? guardOf(host, s.entry, checks)
      const again = await checkLive(host, guard, changes)
      if (again?.ok === true) s.finished.diagnostic = s.reword(`then \`${again.command}\` passes on what is live at the end, once ${putBackBy(by)}`)
      continue
    }
    if (s.passed === undefined) continue
    if (s.passed.back.length === 0 && by.length === 0) continue
    const { changes, guard } = s.marked ?? guardOf(host, s.entry, checks)
    const again = await checkLive(host, guard, changes)
    if (again === undefined || again.ok) continue
    s.finished.recheck = rejectedOnceMore(s.entry, s.passed, by, again)
    if (s.passed.back.length > 0) s.finished.diagnostic = { ...s.finished.diagnostic, summary: `${s.finished.diagnostic.summary}; then \`${again.command}\` rejects the configuration so finished (CONFIG_CHECK_FAILED)` }
  }
}

/**
 * CONFIG_CHECK_FAILED of a checker that passed (`passed`) run once more after a put-back
 * (`again`, not passing): what it passed on and what went back since (its own half-done folder,
 * others' put-back: `by`), what is live now, its output and the next step; nothing is undone.
 * Session 47's review, F6: the rest of the folder was written and nothing checked the result.
 */
function rejectedOnceMore(entry: PendingCheck, passed: Passed, by: readonly Settled[], again: CheckRun): Diagnostic {
  const service = entry.service
  const is = (paths: readonly string[]) => (paths.length === 1 ? 'is' : 'are')
  const since: string[] = []
  const state: string[] = []
  if (passed.back.length > 0) {
    since.push(`the put-back an earlier run left half done was finished (${passed.back.join(', ')})`)
    state.push(`${passed.back.join(', ')} ${is(passed.back)} as before that apply`)
  }
  if (by.length > 0) {
    const back = [...new Set(by.flatMap((o) => o.finished.restored))]
    since.push(putBackBy(by))
    state.push(`${back.join(', ')} ${is(back)} as before the earlier apply (put back for ${by.map((o) => o.entry.service).join(' and ')})`)
  }
  const fixed = passed.left.join(', ')
  const summary = `${passed.left.length === 0 ? 'passed and its files stayed' : `passed on ${fixed} as changed by hand`}, but rejects the configuration once ${since.join(' and ')}`
  const live = `${state.join(', ')}, and ${passed.left.length === 0 ? `${service}'s other files as they are live` : `${fixed} as changed by hand`}; together ${service} rejects them.`
  const said = again.output === '' ? '' : ` \`${again.command}\` said:\n${again.output}\n`
  return errorDiagnostic('CONFIG_CHECK_FAILED', `${service}: \`${again.command}\` ${summary}${again.output === '' ? '' : `: ${again.output.split('\n')[0]}`}; nothing is undone`, {
    provider: 'files',
    detail: `${live} Nothing reloaded ${service}: it runs on what it loaded before, and a reload or restart would read them.${said} Fix what it names by hand until \`${again.command}\` passes (the next plan then shows what the twin asks for in place of the fix), or fix the twin and apply.`,
  })
}

/** What others' put-backs (`by`) put back, for a message: "geo's put-back put /etc/nginx/nginx.conf back". */
function putBackBy(by: readonly Settled[]): string {
  const back = [...new Set(by.flatMap((o) => o.finished.restored))]
  return `${by.map((o) => o.entry.service).join(' and ')}'s put-back put ${back.join(', ')} back`
}

/**
 * A group an earlier apply marked to go back (goBack, rollingBack), put back now: a path still as
 * that apply left it (StoredFile.written), or as it was before (a put-back cut short), goes back
 * asking no checker. A path changed since is a person's (a hand fix: session 45's review, M1,
 * an nginx site fixed by hand after a full disk stopped its put-back had the old file written over
 * the fix, and the checkpoint recorded it); the person has taken the group over, so the checker
 * judges the live configuration as it stands: it passes, nothing goes back (the group's other
 * files make a configuration that works with the fix); it fails or cannot run, what is still the
 * apply's goes back and the changed paths are left as they are. A record of session 45's code says
 * nothing of what was written (`unknown`): judged the same way, and put back when the checker
 * does not pass, as that code did.
 *
 * Not so a reload window's (`reloads`: rollingBack, and goBack too once putting its files back
 * failed): the checker passed on those very files and the reload failed, so its passing now says
 * nothing (session 46's review, G1: a hand edit of one file then kept the files that broke the
 * reload live, and a record of session 45's code was never put back; session 47: a rollback whose
 * put-back failed, G1's own first scenario, is goBack as well, and still went to the checker).
 * There the changed paths are left, everything else goes back (`unknown` too, as that code did),
 * and no checker is asked.
 */
async function whatGoesBack(host: HostPort, guard: ConfigGuard, entry: PendingCheck, changes: readonly Change[]): Promise<Sorted> {
  const standing: Array<Awaited<ReturnType<ConfigGuard['standing']>>> = []
  for (const [i, c] of changes.entries()) standing.push(await guard.standing(c, entry.files[i]?.written))
  if (!standing.some((s) => s === 'changed' || s === 'unknown')) return { back: [...changes], left: [] }
  if (entry.reloads !== undefined) return { back: changes.filter((_, i) => standing[i] !== 'changed'), left: changes.filter((_, i) => standing[i] === 'changed').map((c) => c.resource), reloadFailed: true }
  const unknown = standing.includes('unknown') ? { unknown: true as const } : {}
  const run = await checkLive(host, guard, changes)
  const ran = run === undefined ? {} : { run }
  // Passes: nothing of the apply's goes back, but a folder TwinSync was putting back itself is finished (G2).
  if (run?.ok === true) return { back: changes.filter((_, i) => standing[i] === 'half'), left: changes.filter((_, i) => standing[i] === 'changed' || standing[i] === 'unknown').map((c) => c.resource), ...ran, ...unknown }
  return { back: changes.filter((_, i) => standing[i] !== 'changed'), left: changes.filter((_, i) => standing[i] === 'changed').map((c) => c.resource), ...ran, ...unknown }
}

/**
 * What whatGoesBack left alone and why, and what became of the rest, for a message; `then`: the
 * checker's word on the group's final state, after a rejection others' put-backs made untrue (recheckSettled).
 */
function leftAlone(sorted: Sorted, restored: Restored, retry: boolean, then?: string): string {
  const { problems } = restored
  const kept = restored.kept.length === 0 ? '' : `; ${keptText(restored.kept)}`
  const one = sorted.left.length === 1
  const since = `${sorted.left.join(', ')} ${one ? 'is' : 'are'} not as that apply left ${one ? 'it' : 'them'}${sorted.unknown === true ? ' (changed since, or the record, an older TwinSync\'s, does not say what it wrote)' : ' (changed since)'}, so ${one ? 'it is' : 'they are'} left as ${one ? 'it is' : 'they are'}`
  const judged = sorted.reloadFailed === true ? 'the reload failed with the files that apply wrote, so no checker is asked' : sorted.run === undefined ? 'its checker cannot run here' : sorted.run.ok ? `\`${sorted.run.command}\` passes on the live configuration${sorted.first ?? ''}` : `\`${sorted.run.command}\` ${then === undefined ? 'rejects' : 'rejected'} the live configuration${sorted.first ?? ''}${sorted.run.output === '' ? '' : `: ${sorted.run.output.split('\n')[0]}`}`
  const last = then === undefined ? '' : `; ${then}`
  if (sorted.back.length === 0) return `${since}; ${judged}, so nothing was put back${last}`
  // A path the put-back left as it is (Restored.kept) is not said to be back.
  const stays = new Set(restored.kept.map((k) => k.path))
  const back = sorted.back.map((c) => c.resource).filter((p) => !stays.has(p))
  const which = sorted.run?.ok === true ? 'only the put-back an earlier run left half done is finished' : 'only what is still as that apply left it goes back'
  return `${since}; ${judged}, so ${which}${back.length === 0 ? '' : ` (${back.join(', ')}): ${problems.length === 0 ? 'it is back' : putBack(problems, retry)}`}${kept}${last}`
}

/** CONFIG_RESTORE_SKIPPED: files of a group marked to go back left as a person made them. */
function skippedDiagnostic(summary: string, detail: string): Diagnostic {
  return warningDiagnostic('CONFIG_RESTORE_SKIPPED', summary, { provider: 'files', detail: `${detail} A file left as it is is the machine's from now on; the next plan shows what the twin asks for in its place.` })
}

/** The entries of `root` whose reload window the reload `id` closes. */
function followedBy(id: string, root: string): (p: PendingCheck) => boolean {
  return (p) => p.root === root && p.reloads?.some((r) => r.id === id) === true
}

/** An entry's files as changes, with a guard that knows what each path was and the service's checker (if known). */
function guardOf(host: HostPort, entry: PendingCheck, checks: readonly ConfigCheck[]): Guarded {
  const changes = asChanges(entry)
  const check = checks.find((c) => c.service === entry.service && c.argv !== undefined)
  const guard = new ConfigGuard(host, check === undefined ? [] : [check], changes)
  changes.forEach((c, i) => guard.adopt(c.id, entry.files[i] as StoredFile))
  return { changes, guard }
}

/** The service's checker run on the entry's files that are on disk now; undefined when it has none or it is not installed here. */
async function checkLive(host: HostPort, guard: ConfigGuard, changes: readonly Change[]): Promise<Awaited<ReturnType<ConfigGuard['check']>> | undefined> {
  const live: Change[] = []
  for (const c of changes) if ((await host.lstat(c.resource)) !== undefined) live.push(c)
  const [group] = guard.groupsOf(changes)
  return group === undefined || (await host.which(group.check.argv?.[0] as string, { inTarget: true })) === undefined ? undefined : guard.check(group, live)
}

/** An entry's files as file changes, so a ConfigGuard can check and restore them. */
function asChanges(entry: PendingCheck): Change[] {
  return entry.files.map((f, i) => ({
    id: `pending:${i}:${f.path}`,
    provider: 'files',
    category: 'files',
    operation: 'replace',
    resource: f.path,
    summary: '',
    risk: 'medium',
    data: { action: 'write', path: f.path },
  }))
}

/**
 * What `status` says about configuration an interrupted apply left unjudged on this root (its
 * checker had not decided, or the reload that follows it had no verdict), or undefined.
 */
export function pendingNotice(entries: readonly PendingCheck[], target: CommandTarget): string | undefined {
  const here = entries.filter((e) => e.root === target.root)
  if (here.length === 0) return undefined
  const each = here.map((e) => {
    const files = e.files.map((f) => f.path).join(', ')
    if (e.goBack === true) return `${e.service} (${files}: ${e.reloads === undefined ? 'rejected by its checker' : `the ${e.reloads.map((r) => `${r.operation} of ${r.resource}`).join(', ')} failed`}, not all put back)`
    return e.reloads === undefined ? `${e.service} (${files}: its check had not ended)` : `${e.service} (${files}: the ${e.reloads.map((r) => `${r.operation} of ${r.resource}`).join(', ')} had given no verdict)`
  })
  // What the next apply does (finish), said per service: a plan's changes do not show it (the
  // files are live, so no write is planned; the reload run again is no change of the plan).
  // Session 29: a reload window's files are checked and reloaded again with them live (before,
  // they always went back); only a rollback cut short still puts them back.
  const does = here.map((e) => {
    // Decided with the other services' that read one of its files (PendingChecks.decideTogether).
    const others = here.filter((o) => o !== e && o.reloads === undefined && sharedPaths(e, o).length > 0)
    const sharing = others.map((o) => `${o.service}'s, which reads ${sharedPaths(e, o).join(', ')} too`)
    if (e.reloads === undefined) return e.goBack === true || others.some((o) => o.goBack === true) ? `${e.service}'s previous files go back, save any changed since (the next plan asks for the files again)` : `${e.service}'s check runs on the live files, which stay if it passes${sharing.length === 0 ? '' : ` and so does ${sharing.join(' and ')},`} and go back if not`
    const verbs = [...new Set(e.reloads.map((r) => r.operation))].join(' or ') || 'reload'
    const units = e.reloads.map((r) => r.resource).join(', ') || 'its service'
    if (e.rollingBack === true || e.goBack === true) return `${e.service}'s previous files go back, save any changed since, and the ${verbs} of ${units} runs again (the next plan asks for the files again)`
    return `${e.service}'s files are checked again and the ${verbs} of ${units} runs again with them live: they stay if ${units} comes back as before, and go back if not`
  })
  const lead = here.some((e) => e.goBack === true) ? 'Configuration an earlier apply wrote is not settled' : 'Configuration it wrote is not yet judged'
  return `${lead}: ${each.join('; ')}. \`${twinsyncLine(['apply'], target)}\` settles it before anything else, before the plan's changes: ${does.join('; ')}.`
}

