import { createHash } from 'node:crypto'
import { machineRefusal, ownHomesOnly, readUtf8OrReport, SECRET_RULES_VERSION, secretRulesInNames, sortBy, twinsyncLines, warningDiagnostic, type Diagnostic, type HostPort, type ProviderContext, type TwinReader } from '@twinsync/sdk'
import { loadCron } from './load.js'
import { stripCronHeader } from './crontab-header.js'
import { buildCronState, cronReadsCronDFile, type SystemCronFile } from './model.js'
import { CRON_D_DIR, CRONTAB_DIR, crontabPath, SYSTEM_CRONTAB, type CronState, type IgnoredCronFile, type UserCrontab } from './state.js'
import { isValidUserName } from './user.js'

export interface CollectedCron {
  state: CronState
  diagnostics: Diagnostic[]
}

export async function collectCron(ctx: ProviderContext, provider: string, previous?: TwinReader): Promise<CollectedCron> {
  const ignored: IgnoredCronFile[] = []
  const kept: Diagnostic[] = []
  const held: Diagnostic[] = []
  const spool = await readUserCrontabs(ctx, provider, ignored, held)
  let crontabs: UserCrontab[]
  if ('unread' in spool) {
    // The spool is root's (1730 on Debian): a run as another user, or a root-squashed mount, cannot
    // list it. Unknown, not gone: users' crontabs stay as the last snapshot recorded them (the SDK's
    // CollectRequest.previous contract), said once; before, the whole cron part failed with EACCES.
    crontabs = previous === undefined ? [] : ((await loadCron(previous, { uncapped: true }))?.crontabs ?? []).map((c) => ({ ...c }))
    const who = ownHomesOnly() === undefined ? 'Check the folder\'s permissions and the file system (`ls -ld`), then snapshot again.' : `Users' crontabs are root's to read: run TwinSync as root (\`${twinsyncLines(ctx, { sudo: true })(['snapshot'])}\`) to record and compare them.`
    kept.push(
      warningDiagnostic('CRON_UNREADABLE_KEPT', `${CRONTAB_DIR} could not be read (${spool.unread}): users' crontabs are ${previous === undefined ? 'not recorded' : `kept as the last snapshot recorded them (${crontabs.length})`}`, {
        path: CRONTAB_DIR,
        provider,
        detail: who,
      }),
    )
  } else {
    crontabs = spool.crontabs
  }
  const systemFiles = await readSystemFiles(ctx, ignored, held, provider)
  const state = buildCronState(crontabs, systemFiles, ignored)
  const diagnostics = state.problems.map((p) =>
    warningDiagnostic('CRON_LINE_INVALID', `${p.source} line ${p.line}: ${p.reason}`, { path: p.source, provider, detail: p.text }),
  )
  return { state, diagnostics: [...held, ...kept, ...diagnostics] }
}

/**
 * A cron.d file or a spool crontab whose name holds a secret (`/etc/cron.d/ghp_…`, a crontab
 * named like a user, `tk_…`) is held out whole, as the files provider holds the path out and
 * autostart the entry: its name would be a job's `source` and an `ignored` path in cron.json,
 * which the core's guard could only redact, and a spool crontab's name is also its document's
 * name (left out by the snapshot, then planned for delete: the twin had no crontab for that
 * user). Neither read nor recorded nor compared nor planned; cron runs it on as it is. Said each
 * collect by its folder and rule, never by the name. The rule is the SDK's one
 * (secretRulesInNames: a folder's names as one text); asked of the two folders when their names
 * change (namesHeld).
 */
/**
 * A folder's names' verdicts (secretRulesInNames), kept in the provider's cache while the folder
 * lists the same names under the same rules, so an unchanged collect asks the detector nothing
 * (test/integration/secret-scans.test.ts counts its calls: 2 a snapshot before). The cache keeps a
 * digest of the listing and the held names' places in it, never a name.
 */
async function namesHeld(ctx: ProviderContext, folder: 'spool' | 'cron.d', names: readonly string[]): Promise<Map<string, string>> {
  const key = `held-names-${folder}-r${SECRET_RULES_VERSION}`
  const listing = createHash('sha256').update(names.join('\0')).digest('hex')
  const cached = await ctx.cache.read(key).catch(() => undefined)
  if (cached !== undefined) {
    try {
      const parsed = JSON.parse(cached) as { listing?: unknown; held?: unknown }
      if (parsed.listing === listing && Array.isArray(parsed.held)) {
        const held = new Map<string, string>()
        for (const [at, rule] of parsed.held as Array<[number, string]>) {
          const name = names[at]
          if (name !== undefined && typeof rule === 'string') held.set(name, rule)
        }
        return held
      }
    } catch {
      // a damaged cache only costs a detector call
    }
  }
  const held = await secretRulesInNames(names)
  const places = [...held].map(([name, rule]) => [names.indexOf(name), rule] as const)
  await ctx.cache.write(key, JSON.stringify({ listing, held: places })).catch(() => undefined)
  return held
}

function heldName(rule: string | undefined, folder: string, provider: string, held: Diagnostic[]): boolean {
  if (rule === undefined) return false
  held.push(
    warningDiagnostic('CRON_NAME_SECRET', `A cron file in ${folder} has a name that holds a secret (${rule}); the twin leaves it and its jobs out`, {
      path: folder,
      provider,
      detail: `A name reaches the twin's documents, its file names and the diary line. Nothing is planned for it, and it is no drift; cron runs it on as it is. Rename it (\`ls -la ${folder}\` shows it${folder === CRONTAB_DIR ? '; a crontab there is named after its user' : ''}), then snapshot again.`,
    }),
  )
  return true
}

async function readUserCrontabs(ctx: ProviderContext, provider: string, ignored: IgnoredCronFile[], held: Diagnostic[]): Promise<{ crontabs: UserCrontab[] } | { unread: string }> {
  const crontabs: UserCrontab[] = []
  let entries: Awaited<ReturnType<typeof readdirIfExists>>
  try {
    entries = await readdirIfExists(ctx.host, CRONTAB_DIR)
  } catch (error) {
    // The machine's refusal (machineRefusal, the core's rule too) is kept; anything else is a fault.
    const refused = machineRefusal(error)
    if (refused === undefined) throw error
    return { unread: refused.code }
  }
  const rules = await namesHeld(ctx, 'spool', entries.map((e) => e.name))
  for (const entry of entries) {
    const path = crontabPath(entry.name)
    // `crontab -e` leaves tmp.XXXXXX files while a user edits; they are not crontabs.
    if (entry.name.startsWith('.') || entry.name.startsWith('tmp.')) continue
    if (ctx.claims.ownerOf(path) !== provider) continue
    if (heldName(rules.get(entry.name), CRONTAB_DIR, provider, held)) continue
    if (entry.type !== 'file') {
      ignored.push({ path, reason: `a ${entry.type}, not a crontab file` })
      continue
    }
    if (!isValidUserName(entry.name)) {
      ignored.push({ path, reason: 'the file name is not a user name' })
      continue
    }
    // A user's crontab swapped for a link (or a FIFO) since the listing: reported, never read through (READ_REFUSED).
    // One that is not UTF-8 is reported too, never decoded lossily: an apply installs the text back whole.
    const content = await readUtf8OrReport(ctx.host, path, (reason) => ignored.push({ path, reason }))
    if (content !== undefined) crontabs.push({ user: entry.name, path, content: stripCronHeader(content) })
  }
  return { crontabs }
}

async function readSystemFiles(ctx: ProviderContext, ignored: IgnoredCronFile[], held: Diagnostic[], provider: string): Promise<SystemCronFile[]> {
  const host = ctx.host
  const files: SystemCronFile[] = []
  const main = await host.readTextIfExists(SYSTEM_CRONTAB)
  if (main !== undefined) files.push({ path: SYSTEM_CRONTAB, content: main })
  const entries = sortBy(await readdirIfExists(host, CRON_D_DIR), (e) => e.name)
  const rules = await namesHeld(ctx, 'cron.d', entries.map((e) => e.name))
  for (const entry of entries) {
    const path = `${CRON_D_DIR}/${entry.name}`
    if (!entry.name.startsWith('.') && heldName(rules.get(entry.name), CRON_D_DIR, provider, held)) continue
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
