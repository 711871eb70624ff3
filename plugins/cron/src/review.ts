import { twinsyncLines, warningDiagnostic, type Change, type Diagnostic, type FollowUpRequest, type HostPort } from '@twinsync/sdk'
import { parseCrontab } from './crontab-parser.js'
import { cronReadsCronDFile } from './model.js'
import { CRON_D_DIR, SYSTEM_CRONTAB } from './state.js'
import { passwdUserNames } from './user.js'

/** The folders /etc/crontab (or anacron) runs with run-parts. */
const RUN_PARTS_DIR = /^\/etc\/cron\.(hourly|daily|weekly|monthly)\/([^/]+)$/

/**
 * Names that say the file is off on purpose: hidden (Debian's `.placeholder`), a package's or an
 * editor's leftover, or `.disabled`. run-parts skips them as it skips `backup.sh`, and nobody
 * expects them to run.
 */
const MEANT_OFF = /^\.|~$|\.(disabled?|dpkg-(old|dist|new|tmp|bak)|ucf-(old|dist|new)|bak|orig|old|save|swp)$/

interface FileWrite {
  action?: string
  path?: string
  text?: string
  mode?: number
}

/**
 * What cron would silently leave out of what the plan writes (session 19), as warnings with the
 * way out. The plan still applies (the name or the mode may switch a script off on purpose, and a
 * user may come with a package of the same plan), but an admin who adds a job expects it to run:
 *
 * - a file in /etc/cron.{hourly,daily,weekly,monthly} that run-parts skips: a name of anything
 *   but letters, digits, `_` and `-` (`backup.sh`), or a file that is not executable;
 * - a file of /etc/cron.d whose name cron skips (a dot in it);
 * - a line of /etc/crontab or /etc/cron.d for a user the machine does not have (nor the plan's
 *   /etc/passwd): cron skips the line and says so only in its log (`ORPHAN (no passwd entry)`).
 */
export async function reviewCronPlan({ changes, ctx }: Pick<FollowUpRequest, 'changes' | 'ctx'>, provider: string): Promise<Diagnostic[]> {
  const out: Diagnostic[] = []
  let users: Set<string> | undefined
  for (const change of changes) {
    const data = change.data as FileWrite | undefined
    if (change.provider !== 'files' || (data?.action !== 'write' && data?.action !== 'symlink') || typeof data.path !== 'string') continue
    const path = data.path
    const script = RUN_PARTS_DIR.exec(path)
    if (script !== null) {
      const [, period, name] = script as unknown as [string, string, string]
      if (MEANT_OFF.test(name)) continue
      if (!cronReadsCronDFile(name)) {
        out.push(
          warningDiagnostic('CRON_SCRIPT_SKIPPED', `${path}: run-parts never runs it: its name has characters other than letters, digits, "_" and "-"${name.includes('.') ? ` (the "." of "${name}")` : ''}, and /etc/crontab runs /etc/cron.${period} with run-parts`, {
            provider,
            path,
            change: change.id,
            detail: `Rename it in the twin to ${name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_-]/g, '-')} (filesystem${path.slice(0, path.lastIndexOf('/') + 1)}...), then plan again. \`run-parts --test /etc/cron.${period}\` on the machine lists what it runs.`,
          }),
        )
      } else if (data.action === 'write' && typeof data.mode === 'number' && (data.mode & 0o111) === 0) {
        out.push(
          warningDiagnostic('CRON_SCRIPT_SKIPPED', `${path}: run-parts never runs it: it is not executable (mode ${data.mode.toString(8).padStart(4, '0')})`, {
            provider,
            path,
            change: change.id,
            detail: `Give it an executable mode in the twin (its entry in system/files/manifest.json, "mode": "0755"), then plan again; a script left without it is switched off.`,
          }),
        )
      }
      continue
    }
    if (data.action !== 'write' || typeof data.text !== 'string') continue
    if (path.startsWith(`${CRON_D_DIR}/`) && path.lastIndexOf('/') === CRON_D_DIR.length) {
      const name = path.slice(CRON_D_DIR.length + 1)
      if (!cronReadsCronDFile(name)) {
        if (!MEANT_OFF.test(name)) {
          out.push(
            warningDiagnostic('CRON_FILE_SKIPPED', `${path}: cron never reads it: the name of a file in ${CRON_D_DIR} must be letters, digits, "_" and "-" only`, {
              provider,
              path,
              change: change.id,
              detail: `Rename it in the twin to ${name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_-]/g, '-')}, then plan again.`,
            }),
          )
        }
        continue
      }
    } else if (path !== SYSTEM_CRONTAB) continue
    users ??= await knownUsers(ctx.host, changes)
    for (const job of parseCrontab(data.text, { path, format: 'system' }).jobs) {
      if (users.has(job.user)) continue
      out.push(
        warningDiagnostic('CRON_USER_UNKNOWN', `${path} line ${job.line}: cron skips this job: user ${job.user} is not in the machine's /etc/passwd (cron's log only: "ORPHAN (no passwd entry)")`, {
          provider,
          path,
          change: change.id,
          detail: `Name a user the machine has, or create ${job.user} first (useradd on the machine, then \`${twinsyncLines(ctx)(['snapshot'])}\`; or its lines in the twin's /etc/passwd and /etc/shadow), then plan again.`,
        }),
      )
    }
  }
  return out
}

/** The users of the machine's /etc/passwd and of the /etc/passwd the plan writes. */
async function knownUsers(host: Pick<HostPort, 'readTextIfExists'>, changes: readonly Change[]): Promise<Set<string>> {
  const texts = [await host.readTextIfExists('/etc/passwd').catch(() => undefined)]
  for (const c of changes) {
    const data = c.data as FileWrite | undefined
    if (data?.action === 'write' && data.path === '/etc/passwd') texts.push(data.text)
  }
  const users = new Set<string>()
  for (const text of texts) for (const name of passwdUserNames(text ?? '')) users.add(name)
  return users
}
