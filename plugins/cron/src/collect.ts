import { readTextOrReport, sortBy, warningDiagnostic, type Diagnostic, type HostPort, type ProviderContext } from '@twinsync/sdk'
import { stripCronHeader } from './crontab-header.js'
import { buildCronState, cronReadsCronDFile, type SystemCronFile } from './model.js'
import { CRON_D_DIR, CRONTAB_DIR, crontabPath, SYSTEM_CRONTAB, type CronState, type IgnoredCronFile, type UserCrontab } from './state.js'
import { isValidUserName } from './user.js'

export interface CollectedCron {
  state: CronState
  diagnostics: Diagnostic[]
}

export async function collectCron(ctx: ProviderContext, provider: string): Promise<CollectedCron> {
  const ignored: IgnoredCronFile[] = []
  const crontabs = await readUserCrontabs(ctx, provider, ignored)
  const systemFiles = await readSystemFiles(ctx.host, ignored)
  const state = buildCronState(crontabs, systemFiles, ignored)
  const diagnostics = state.problems.map((p) =>
    warningDiagnostic('CRON_LINE_INVALID', `${p.source} line ${p.line}: ${p.reason}`, { path: p.source, provider, detail: p.text }),
  )
  return { state, diagnostics }
}

async function readUserCrontabs(ctx: ProviderContext, provider: string, ignored: IgnoredCronFile[]): Promise<UserCrontab[]> {
  const crontabs: UserCrontab[] = []
  for (const entry of await readdirIfExists(ctx.host, CRONTAB_DIR)) {
    const path = crontabPath(entry.name)
    // `crontab -e` leaves tmp.XXXXXX files while a user edits; they are not crontabs.
    if (entry.name.startsWith('.') || entry.name.startsWith('tmp.')) continue
    if (ctx.claims.ownerOf(path) !== provider) continue
    if (entry.type !== 'file') {
      ignored.push({ path, reason: `a ${entry.type}, not a crontab file` })
      continue
    }
    if (!isValidUserName(entry.name)) {
      ignored.push({ path, reason: 'the file name is not a user name' })
      continue
    }
    // A user's crontab swapped for a link (or a FIFO) since the listing: reported, never read through (READ_REFUSED).
    const content = await readTextOrReport(ctx.host, path, (reason) => ignored.push({ path, reason }))
    if (content !== undefined) crontabs.push({ user: entry.name, path, content: stripCronHeader(content) })
  }
  return crontabs
}

async function readSystemFiles(host: HostPort, ignored: IgnoredCronFile[]): Promise<SystemCronFile[]> {
  const files: SystemCronFile[] = []
  const main = await host.readTextIfExists(SYSTEM_CRONTAB)
  if (main !== undefined) files.push({ path: SYSTEM_CRONTAB, content: main })
  for (const entry of sortBy(await readdirIfExists(host, CRON_D_DIR), (e) => e.name)) {
    const path = `${CRON_D_DIR}/${entry.name}`
    if (!cronReadsCronDFile(entry.name)) {
      // Debian ships /etc/cron.d/.placeholder; a dot file is not worth a line in the twin.
      if (!entry.name.startsWith('.')) ignored.push({ path, reason: 'cron skips /etc/cron.d files whose names are not letters, digits, "_" and "-"' })
      continue
    }
    if (entry.type !== 'file' && entry.type !== 'symlink') continue
    // cron reads a link in /etc/cron.d (root's folder): followed, as cron does, where only root can place links.
    const content = await host.readTextIfExists(path, { follow: 'root-owned' })
    if (content !== undefined) files.push({ path, content })
  }
  return files
}

async function readdirIfExists(host: HostPort, dir: string) {
  const st = await host.stat(dir)
  return st?.type === 'directory' ? sortBy(await host.readdir(dir), (e) => e.name) : []
}
