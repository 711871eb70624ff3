import { errorDiagnostic, machinePathOf, mirrorPath, startupTextNotUtf8, strictUtf8, type Diagnostic, type HostPort, type TwinReader, type TwinsyncLine, warningDiagnostic } from '@twinsync/sdk'
import type { TSchema } from 'typebox'
import { isDesktopEntryPath, locationOf } from './location.js'
import { describeEntries, describeRcLocal, type DesktopFile } from './model.js'
import { parseDesktopEntry } from './desktop-entry.js'
import { AUTOSTART_JSON, AutostartDocument, RC_LOCAL, RC_LOCAL_JSON, RcLocalDocument, formatMode, parseMode, type AutostartState } from './state.js'
import { TargetAccounts } from './target-accounts.js'

interface RecordedMetadata {
  mode?: string
  owner?: string
  group?: string
  enabled?: boolean
  executable?: boolean
  service?: string
  serviceMasked?: boolean
}

export interface LoadedAutostart {
  state: AutostartState | undefined
  diagnostics: Diagnostic[]
  /** The entries as files (content, place, metadata): what a collect keeps of a home it does not read. */
  files: DesktopFile[]
}

/**
 * The desired state from the twin. The mirrored files give the contents; autostart.json and
 * rc-local.json give what Git cannot hold (owner, group, mode). A file the twin adds without
 * metadata gets the owner of its place: root for /etc, the user for a home.
 *
 * Each switch has one source of truth, so the same twin always means the same machine (also
 * after an apply, before the next snapshot rewrites the descriptions): an entry is enabled or
 * not by its .desktop file (`enabled` in autostart.json only describes it), and rc.local is
 * executable or not by `executable` in rc-local.json (which sets the execute bits of `mode`).
 * A description that disagrees with its source gets a warning, never a silent change.
 */
/** `line`: the run's `twinsync ARGS` lines (twinsyncLines(ctx)), for the next steps of its diagnostics. */
export async function loadAutostart(twin: TwinReader, host: HostPort, provider: string, line: TwinsyncLine, made: Made = NOTHING_MADE): Promise<LoadedAutostart> {
  const diagnostics: Diagnostic[] = []
  // Session 39: counted before anything is parsed or checked (MAX_AUTOSTART_ENTRIES).
  const read = await readAutostartCounts(twin)
  const over = autostartOverLimit(read, made, line)
  if (over.length > 0) return { state: undefined, diagnostics: over, files: [] }
  // autostart.json as the count above read it (not read twice).
  const entriesJson = await checkedJson(read.json, AUTOSTART_JSON, AutostartDocument, diagnostics, provider, made)
  const rcJson = await checkedJson(await twin.readText(RC_LOCAL_JSON), RC_LOCAL_JSON, RcLocalDocument, diagnostics, provider, made)
  const recorded = new Map<string, RecordedMetadata>()
  const entryList = (entriesJson as { entries?: unknown } | undefined)?.entries
  if (Array.isArray(entryList)) {
    for (const e of entryList as Array<RecordedMetadata & { path?: unknown }>) if (typeof e.path === 'string') recorded.set(e.path, e)
  }

  const paths = read.paths
  const rcRead = await textOf(twin, mirrorPath(RC_LOCAL), diagnostics, provider, line)
  // A document that is not UTF-8 (textOf: TWIN_INVALID): no state, so nothing is planned from a guess (an empty file, rc.local gone).
  let notText = rcRead === null
  const rcContent = rcRead ?? undefined
  if (paths.length === 0 && rcContent === undefined && entriesJson === undefined && rcJson === undefined) return { state: undefined, diagnostics, files: [] }

  const accounts = await TargetAccounts.read(host)
  const files: DesktopFile[] = []
  for (const path of paths) {
    const text = await textOf(twin, mirrorPath(path), diagnostics, provider, line)
    if (text === null) notText = true
    const content = text ?? ''
    const location = locationOf(path, accounts)
    const meta = recorded.get(path) ?? {}
    const owner = meta.owner ?? location.user ?? 'root'
    const group = meta.group ?? (location.user === undefined ? 'root' : primaryGroup(accounts, location.user))
    files.push({ path, content, location, mode: validMode(meta.mode) ?? '0644', owner, group })
    if (typeof meta.enabled === 'boolean' && meta.enabled !== parseDesktopEntry(content).enabled) {
      diagnostics.push(
        warningDiagnostic('AUTOSTART_ENABLED_IGNORED', `${AUTOSTART_JSON} says ${path} is ${meta.enabled ? 'enabled' : 'disabled'}, but the file says otherwise; the file wins`, {
          provider,
          path,
          detail: `To ${meta.enabled ? 'enable' : 'disable'} the entry, edit Hidden= (or X-GNOME-Autostart-enabled=) in ${mirrorPath(path)}.`,
        }),
      )
    }
  }

  const rc = (rcJson ?? {}) as RecordedMetadata
  const service = { masked: rc.serviceMasked === true, ...(typeof rc.service === 'string' ? { service: rc.service } : {}) }
  let rcLocal = describeRcLocal(undefined, service)
  if (rcContent !== undefined) {
    // rc.local exists to be run: one the twin adds without a mode is made executable.
    let mode = parseMode(validMode(rc.mode) ?? '0755')
    const modeExecutable = (mode & 0o111) !== 0
    const executable = typeof rc.executable === 'boolean' ? rc.executable : modeExecutable
    if (executable !== modeExecutable) {
      if (validMode(rc.mode) !== undefined) {
        diagnostics.push(
          warningDiagnostic('RC_LOCAL_MODE_ADJUSTED', `${RC_LOCAL_JSON}: mode ${rc.mode} and executable ${executable} disagree; executable wins`, { provider, path: RC_LOCAL }),
        )
      }
      // Execute bits follow the read bits: 0644 becomes 0755, 0600 becomes 0700.
      mode = executable ? mode | ((mode & 0o444) >> 2) : mode & ~0o111
    }
    rcLocal = describeRcLocal({ content: rcContent, mode: formatMode(mode), owner: rc.owner ?? 'root', group: rc.group ?? 'root', executable }, service)
  }
  if (notText) return { state: undefined, diagnostics, files: [] }
  return { state: { entries: describeEntries(files), rcLocal, ignored: [] }, diagnostics, files }
}

/**
 * The most autostart entries TwinSync takes from a twin (session 39): the .desktop files of its
 * autostart places, and the entries autostart.json lists, each counted before anything is read or
 * checked, but for what this provider's last collect made of the machine. The twin is untrusted
 * input, and these files are the autostart provider's (its claims: the files provider's manifest
 * cap, MAX_MANIFEST_ENTRIES, does not count them): 200,000 .desktop files took 1.4 s to load and
 * 4.4 s to diff in-process (567 MB), an autostart.json of 400,000 entries (42 MB, within a pull's
 * 64 MB a file) 8.3 s to check, on every plan and status, and a pull took such a mirror in. Real
 * machines hold a few dozen; 50,000 is apt's, systemd's and cron's cap (MAX_APT_PACKAGES,
 * MAX_SYSTEMD_UNITS, MAX_CRON_LINES): 50,000 entries load in 1 s and diff in 0.9 s.
 */
export const MAX_AUTOSTART_ENTRIES = 50_000

/** What this provider's last collect made (MadeDocuments): its paths are the machine's own entries, not counted. */
export interface Made {
  paths(): ReadonlySet<string>
  made(path: string, text: string): boolean
}
const NOTHING_MADE: Made = { paths: () => new Set(), made: () => false }

/** The twin's autostart entry paths (its .desktop files in the autostart places) and autostart.json's text. */
async function readAutostartCounts(twin: TwinReader): Promise<{ paths: string[]; json: string | undefined }> {
  const paths = (await twin.list('filesystem/')).map((p) => machinePathOf(p) as string).filter(isDesktopEntryPath)
  return { paths, json: await twin.readText(AUTOSTART_JSON) }
}

/** The entries autostart.json lists, counted without a schema check (0 when it is no JSON or lists none: its check says so). */
function listedEntries(json: string | undefined): number {
  if (json === undefined) return 0
  try {
    const entries = (JSON.parse(json) as { entries?: unknown } | null)?.entries
    return Array.isArray(entries) ? entries.length : 0
  } catch {
    return 0
  }
}

/** TWIN_INVALID for each count over MAX_AUTOSTART_ENTRIES (what `made` made not counted): the one rule load and overLimit (a pull) ask. */
function autostartOverLimit(read: { paths: readonly string[]; json: string | undefined }, made: Made, line: TwinsyncLine): Diagnostic[] {
  const out: Diagnostic[] = []
  // `twinsync discard startup` goes through on 50,001 added .desktop files since 06bc3857 (session
  // 40, through the CLI: 5.3 s of CPU; before, git's argument list, E2BIG), and on an autostart.json
  // of 50,001 added entries it puts back the last snapshot's document (dropEdits, e31805ff).
  const discard = `or go back to the last snapshot's with \`${line(['discard', 'startup'])}\` (drops every pending autostart and cron edit).`
  const detail = `Nothing is planned for autostart. Take the added .desktop files out of the twin (\`git status\` in the twin lists them), ${discard}`
  const own = made.paths()
  let files = 0
  for (const path of read.paths) if (!own.has(mirrorPath(path))) files++
  if (files > MAX_AUTOSTART_ENTRIES) {
    out.push(errorDiagnostic('TWIN_INVALID', `The twin holds ${files.toLocaleString('en')} autostart entries (.desktop files under filesystem/etc/xdg/autostart and the homes' .config/autostart), more than the ${MAX_AUTOSTART_ENTRIES.toLocaleString('en')} TwinSync takes; they were not read`, { provider: 'autostart', path: mirrorPath(read.paths[0] ?? ''), detail }))
  }
  const listed = read.json === undefined || made.made(AUTOSTART_JSON, read.json) ? 0 : listedEntries(read.json)
  if (listed > MAX_AUTOSTART_ENTRIES) {
    const putBack = `Nothing is planned for autostart. Take the added entries out of ${AUTOSTART_JSON}, ${discard}`
    out.push(errorDiagnostic('TWIN_INVALID', `${AUTOSTART_JSON} lists ${listed.toLocaleString('en')} entries, more than the ${MAX_AUTOSTART_ENTRIES.toLocaleString('en')} TwinSync takes; it was not read`, { provider: 'autostart', path: AUTOSTART_JSON, detail: putBack }))
  }
  return out
}

/** The twin's autostart documents over MAX_AUTOSTART_ENTRIES, or none (a pull asks it of the mirror's twin). */
export async function autostartDocumentsOverLimit(twin: TwinReader, line: TwinsyncLine): Promise<Diagnostic[]> {
  return autostartOverLimit(await readAutostartCounts(twin), NOTHING_MADE, line)
}

function primaryGroup(accounts: TargetAccounts, user: string): string {
  const u = accounts.user(user)
  return u === undefined ? user : accounts.groupName(u.gid)
}

function validMode(mode: unknown): string | undefined {
  if (typeof mode !== 'string' || !/^[0-7]{3,4}$/.test(mode)) return undefined
  return formatMode(parseMode(mode))
}

/**
 * A metadata document, checked against its schema: a value of the wrong type is an error that
 * names the file and the key (apply refuses a plan with errors), never a value quietly ignored.
 */
/**
 * A mirrored file's text in the twin (undefined: none), never decoded lossily: one that is not
 * UTF-8 is refused (null; TWIN_INVALID, an error: nothing of autostart is planned, its edits stay
 * pending). Session 40: decoded lossily, a .desktop file's byte 0xFF was planned as U+FFFD and
 * written so.
 */
async function textOf(twin: TwinReader, path: string, diagnostics: Diagnostic[], provider: string, line: TwinsyncLine): Promise<string | undefined | null> {
  const bytes = await twin.read(path)
  if (bytes === undefined) return undefined
  const text = strictUtf8(bytes)
  if (text !== undefined) return text
  diagnostics.push(startupTextNotUtf8(path, provider, line))
  return null
}

/**
 * The document's JSON, checked against its schema (built when needed: lazySchema) unless it is the
 * text this provider's collect just made (MadeDocuments; a test checks that such a text passes).
 */
async function checkedJson(text: string | undefined, path: string, schemaOf: () => TSchema, diagnostics: Diagnostic[], provider: string, made: Made): Promise<unknown> {
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text) as unknown
  } catch (error) {
    diagnostics.push(warningDiagnostic('TWIN_INVALID', `${path} is not valid JSON; its metadata is ignored`, { provider, detail: String(error) }))
    return undefined
  }
  if (made.made(path, text)) return value
  const { Value } = await import('typebox/value')
  const schema = schemaOf()
  if (Value.Check(schema, value)) return value
  const errors = [...Value.Errors(schema, value)]
  const first = errors.find((e) => e.keyword === 'boolean') ?? errors.find((e) => e.keyword !== 'additionalProperties') ?? errors[0]
  const key = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') || '/'
  const message = first?.keyword === 'boolean' ? 'unknown key' : (first?.message ?? 'invalid value')
  diagnostics.push(
    errorDiagnostic('TWIN_INVALID', `${path}: "${key}": ${message}`, {
      provider,
      path,
      detail: `Correct "${key}" in ${path}, or take a snapshot to write it again from the machine. Nothing from it is applied until then.`,
    }),
  )
  return undefined
}
