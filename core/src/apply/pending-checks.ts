import { mkdir, readFile, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Change, ConfigCheck, Diagnostic, HostPort } from '@twinsync/sdk'
import { TwinSyncError, errorDiagnostic, warningDiagnostic, writeFileAtomic } from '@twinsync/sdk'
import { inject, injectable } from '../di.js'
import { Tokens } from '../tokens.js'
import type { TwinLocation } from '../twin/twin-location.js'
import { ConfigGuard, type StoredFile } from './config-guard.js'

/** One service's files written (or about to be) whose checker has not yet decided. */
export interface PendingCheck {
  service: string
  root: string
  files: StoredFile[]
}

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
  diagnostic: Diagnostic
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

  constructor(@inject(Tokens.TwinLocation) location: TwinLocation) {
    this.path = join(location.dir, PENDING_CHECKS)
  }

  async read(): Promise<PendingCheck[]> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
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
      nextStep: `Check the configuration files it names by hand (\`nginx -t\`, \`sshd -t\`, ...), then remove it (\`rm ${this.path}\`) and run \`twinsync plan\`.`,
      details: { path: this.path },
    })
  }

  /** On disk before the group's first file is written. */
  add(entry: PendingCheck): Promise<void> {
    return this.update((pending) => [...pending.filter((p) => p.service !== entry.service || p.root !== entry.root), entry])
  }

  /** The checker decided and the files are live or back. */
  remove(service: string, root: string): Promise<void> {
    return this.update((pending) => pending.filter((p) => p.service !== service || p.root !== root))
  }

  private update(change: (pending: PendingCheck[]) => PendingCheck[]): Promise<void> {
    const next = this.writing.then(async () => {
      const pending = change(await this.read())
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
   * its service is no longer known) the previous files are put back. Each entry goes once done.
   */
  async finish(host: HostPort, checks: readonly ConfigCheck[]): Promise<FinishedCheck[]> {
    const out: FinishedCheck[] = []
    for (const entry of await this.read()) {
      if (entry.root !== host.root) continue
      const changes: Change[] = entry.files.map((f, i) => ({
        id: `pending:${i}:${f.path}`,
        provider: 'files',
        category: 'files',
        operation: 'replace',
        resource: f.path,
        summary: '',
        risk: 'medium',
        data: { action: 'write', path: f.path },
      }))
      const check = checks.find((c) => c.service === entry.service && c.argv !== undefined)
      const guard = new ConfigGuard(host, check === undefined ? [] : [check], changes)
      changes.forEach((c, i) => guard.adopt(c.id, entry.files[i] as StoredFile))
      const live: Change[] = []
      for (const c of changes) if ((await host.lstat(c.resource)) !== undefined) live.push(c)
      const [group] = guard.groupsOf(changes)
      const run = group === undefined || (await host.which(group.check.argv?.[0] as string, { inTarget: true })) === undefined ? undefined : await guard.check(group, live)
      if (run?.ok === true) {
        out.push({
          service: entry.service,
          command: run.command,
          restored: [],
          diagnostic: warningDiagnostic('CONFIG_CHECK_FINISHED', `${entry.service}: an interrupted apply wrote ${entry.files.map((f) => f.path).join(', ')} and was killed before its check ended; \`${run.command}\` now passes on the live configuration, so the files stay`, { provider: 'files' }),
        })
      } else {
        const problems = await guard.restore(changes)
        const why = run === undefined ? 'its checker cannot run here' : `\`${run.command}\` rejects the live configuration${run.output === '' ? '' : `: ${run.output.split('\n')[0]}`}`
        const back = problems.length === 0 ? 'the previous files are back' : `putting the previous files back failed: ${problems.join('; ')}`
        out.push({
          service: entry.service,
          ...(run === undefined ? {} : { command: run.command }),
          restored: entry.files.map((f) => f.path),
          diagnostic: errorDiagnostic('CONFIG_RESTORED', `${entry.service}: an interrupted apply wrote ${entry.files.map((f) => f.path).join(', ')} and was killed before its check ended; ${why}, so ${back}`, {
            provider: 'files',
            detail: 'The twin still asks for the new files: the next plan shows them again. Fix them in the twin, then apply.',
          }),
        })
      }
      await this.remove(entry.service, entry.root)
    }
    return out
  }
}
