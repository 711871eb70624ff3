import { errorDiagnostic, machinePathOf, mirrorPath, startupTextNotUtf8, strictUtf8, type Diagnostic, type TwinReader, type TwinsyncLine } from '@twinsync/sdk'
import { buildCronState, cronReadsCronDFile, type SystemCronFile } from './model.js'
import { CRON_D_DIR, CRON_JSON, CRONTAB_DIR, SYSTEM_CRONTAB, type CronState, type UserCrontab } from './state.js'

/**
 * The desired cron state from the twin: the mirrored user crontabs are what apply installs; the
 * system files (mirrored by the files provider) are parsed too when the twin has them, so the
 * desired jobs can be shown. A twin with neither cron.json nor a crontab has no cron state.
 */
/**
 * `options.line`: the run's `twinsync ARGS` lines (twinsyncLines(ctx)) for a refusal's next step;
 * `uncapped` (a collect's read of the last snapshot) refuses nothing and needs none.
 */
export async function loadCron(twin: TwinReader, options: { made?: (path: string, text: string) => boolean; line: TwinsyncLine } | { uncapped: true }): Promise<CronState | undefined> {
  const read = await readCronFiles(twin)
  if (read === undefined) return undefined
  const over = 'uncapped' in options ? undefined : cronOverLimit(read, options.made ?? (() => false), options.line)
  if (over !== undefined) throw new CronOverLimit(over)
  // A user's crontab that is not UTF-8 (a hand edit, a pull: a collect never writes one) is refused,
  // never decoded lossily: apply installs the text whole, and U+FFFD in place of its bytes is a
  // change no plan showed (session 40). Nothing of cron is planned; its edits stay pending.
  const binary = 'uncapped' in options ? undefined : read.notText[0]
  if (binary !== undefined && !('uncapped' in options)) {
    throw new CronOverLimit(startupTextNotUtf8(binary, 'cron', options.line))
  }
  return buildCronState(
    read.crontabs.map(({ user, path, content }) => ({ user, path, content })),
    read.systemFiles.map(({ path, content }) => ({ path, content })),
    [],
  )
}

/**
 * The most lines of crontab text cron's load takes from a twin: the users' crontabs, /etc/crontab
 * and the files of /etc/cron.d together, counted before anything is parsed, but for a user's
 * crontab that is the text this provider's collect just made of the machine. The twin is untrusted
 * input, and a crontab is a mirrored file the files provider's maxFileSize does not hold (the cron
 * provider claims it): a pulled crontab of 400,000 jobs (12 MB) ended every plan and status in
 * "The cron provider failed in load(): Maximum call stack size exceeded" after 15 s (session 38;
 * 100,000 jobs: 2.5 s to load alone). Real machines hold a few dozen lines; 50,000 is apt's and
 * systemd's cap (MAX_APT_PACKAGES, MAX_SYSTEMD_UNITS).
 */
export const MAX_CRON_LINES = 50_000

/** The crontab texts of a twin, with their twin paths; undefined when it has no cron state. */
async function readCronFiles(twin: TwinReader): Promise<{ crontabs: Array<UserCrontab & { twinPath: string }>; systemFiles: Array<SystemCronFile & { twinPath: string }>; notText: string[] } | undefined> {
  const crontabPrefix = mirrorPath(CRONTAB_DIR) + '/'
  const crontabs: Array<UserCrontab & { twinPath: string }> = []
  // Users' crontabs that are not UTF-8: never decoded lossily (loadCron refuses them).
  const notText: string[] = []
  for (const twinPath of await twin.list(crontabPrefix)) {
    const user = twinPath.slice(crontabPrefix.length)
    if (user.includes('/')) continue
    const bytes = await twin.read(twinPath)
    if (bytes === undefined) continue
    const content = strictUtf8(bytes)
    if (content === undefined) {
      notText.push(twinPath)
      continue
    }
    crontabs.push({ user, path: machinePathOf(twinPath) as string, content, twinPath })
  }
  if (crontabs.length === 0 && notText.length === 0 && (await twin.readText(CRON_JSON)) === undefined) return undefined

  const systemFiles: Array<SystemCronFile & { twinPath: string }> = []
  const main = await twin.readText(mirrorPath(SYSTEM_CRONTAB))
  if (main !== undefined) systemFiles.push({ path: SYSTEM_CRONTAB, content: main, twinPath: mirrorPath(SYSTEM_CRONTAB) })
  const cronDPrefix = mirrorPath(CRON_D_DIR) + '/'
  for (const twinPath of await twin.list(cronDPrefix)) {
    if (!cronReadsCronDFile(twinPath.slice(cronDPrefix.length))) continue
    const content = await twin.readText(twinPath)
    if (content !== undefined) systemFiles.push({ path: machinePathOf(twinPath) as string, content, twinPath })
  }
  return { crontabs, systemFiles, notText }
}

/** TWIN_INVALID when the crontab texts hold more than MAX_CRON_LINES lines (a made user crontab not counted): the one rule load and overLimit (a pull) ask. */
function cronOverLimit(read: { crontabs: ReadonlyArray<{ twinPath: string; content: string }>; systemFiles: ReadonlyArray<{ twinPath: string; content: string }> }, made: (path: string, text: string) => boolean, line: TwinsyncLine): Diagnostic | undefined {
  let lines = 0
  let largest = { twinPath: '', lines: -1 }
  for (const file of [...read.crontabs.filter((c) => !made(c.twinPath, c.content)), ...read.systemFiles]) {
    let n = 0
    for (let at = file.content.indexOf('\n'); at !== -1; at = file.content.indexOf('\n', at + 1)) n++
    if (!file.content.endsWith('\n') && file.content !== '') n++
    lines += n
    if (n > largest.lines) largest = { twinPath: file.twinPath, lines: n }
  }
  if (lines <= MAX_CRON_LINES) return undefined
  return errorDiagnostic('TWIN_INVALID', `The twin's crontabs hold ${lines.toLocaleString('en')} lines (${largest.twinPath}: ${largest.lines.toLocaleString('en')}), more than the ${MAX_CRON_LINES.toLocaleString('en')} TwinSync takes; they were not read`, {
    path: largest.twinPath,
    provider: 'cron',
    detail: `Nothing is planned for cron. Take the added lines out of the twin's crontab, or go back to the last snapshot's with \`${line(['discard', 'startup'])}\` (drops every pending cron and autostart edit).`,
  })
}

/** A twin's crontabs over MAX_CRON_LINES, or a user's crontab that is not UTF-8: thrown by loadCron, told by the provider as its load's diagnostic. */
export class CronOverLimit extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.summary)
  }
}

/** The twin's crontabs over MAX_CRON_LINES, or none (a pull asks it of the mirror's twin). */
export async function cronDocumentsOverLimit(twin: TwinReader, line: TwinsyncLine): Promise<Diagnostic[]> {
  const read = await readCronFiles(twin)
  const over = read === undefined ? undefined : cronOverLimit(read, () => false, line)
  return over === undefined ? [] : [over]
}
