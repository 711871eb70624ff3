import { createHmac, randomBytes } from 'node:crypto'
import { constants, openSync, readFileSync, closeSync } from 'node:fs'
import { chmod, lstat, mkdir, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { SECRET_RULES_VERSION, redactSecrets, stableStringify, writeFileAtomic, type FindSecretsOptions } from '@twinsync/sdk/light'
import { writeRecord } from '../twin/quick-status.js'
import { commandLine } from './command-text.js'
import { sha256 } from '../sha256.js'

/**
 * The keys of the record of run-once commands that ran (COMMANDS_LEDGER, committed) and of this
 * machine's own record beside it (never committed). Session 47 (session 46's review, S1): the
 * committed key was the plain sha256 of the plans/ file's name and the action, password and all,
 * and a script's summary carried 12 hex digits of its text's sha256; with the summary's
 * `<redacted>` and the file name, a weak password (`env PGPASSWORD=weak psql …`) could be checked
 * offline against the key from the mirror.
 *
 * Now the committed key is the sha256 of the action as the twin's secret screening would show it
 * (the SDK's redactSecrets, the one rule: its command line, a script's arguments, its
 * description and its script's text each redacted) and the file's name; a script's summary shows
 * the sha256 of its redacted text. An action with no secret in it keys as before (`fullKey`
 * equals `key`), so its record needs no migration. One with a secret has a committed key its
 * password no longer changes: this machine keeps, in `.git/twinsync/ran-here.json` (0600,
 * beside the twin's key, never pushed), an HMAC-SHA256 under a random key of its own of the full
 * text's sha256 for each such command that ran. A command is "already run" when the committed
 * record has its key and either the local record says nothing of that key or holds this very
 * text's HMAC (ranHere): a password-only change runs again; a twin restored from its mirror,
 * which has no local record, runs nothing again that it ran, and its plan and status say of each
 * such command that this machine cannot tell whether its secret changed since (ranHow's 'record
 * alone', session 47's review F5: it was silent).
 */

/** What a run-once action is recorded by. */
export interface ActionKeys {
  /** The committed record's key: its file and its redacted text. */
  key: string
  /** The sha256 of its file and its full text (the record's key before session 47): only when the text holds a secret, so it differs from `key`. */
  fullKey?: string
}

interface ActionText {
  run?: string[]
  script?: string
  args?: string[]
  description?: string
}

/** The record's key of an action before session 47, and still of one without a secret: the sha256 of its file and its full text. */
export function fullKeyOf(file: string, action: ActionText, scriptText?: string): string {
  return sha256(stableStringify(scriptText === undefined ? { file, action } : { file, action, sha256: sha256(scriptText) }))
}

/** The secret detector as the keys ask it: the SDK's redactSecrets, behind an object a test can count the calls of (sinon cannot spy on a module's export). */
export const keyScreen = {
  redact: (text: string, options?: FindSecretsOptions): Promise<string> => redactSecrets(text, options),
}

/** A script's text as its summary and key show it: redacted by the one rule (the person's scripts/ file is screened so when it is committed). */
export function shownScript(path: string, text: string): Promise<string> {
  return keyScreen.redact(text, { path })
}

/**
 * The keys of a run-once action (`scriptShown`: its script's text as shownScript gives it). The
 * redacted text keys under other names than a full one (`redacted`, and the command line as one
 * string), so a text a person or `forget --rule` wrote with `<redacted>` in it never takes the key
 * of the command it was redacted from.
 */
export async function actionKeys(file: string, action: ActionText, script?: { text: string; shown: string }): Promise<ActionKeys> {
  const fullKey = fullKeyOf(file, action, script?.text)
  let secret = script !== undefined && script.shown !== script.text
  const redacted = async (text: string): Promise<string> => {
    const shown = await keyScreen.redact(text)
    if (shown !== text) secret = true
    return shown
  }
  const shown = {
    ...action,
    ...(action.run === undefined ? {} : { run: await redacted(commandLine(action.run)) }),
    ...(action.args === undefined ? {} : { args: await redacted(commandLine(action.args)) }),
    ...(action.description === undefined ? {} : { description: await redacted(action.description) }),
  }
  if (!secret) return { key: fullKey }
  return { key: sha256(stableStringify({ file, redacted: script === undefined ? shown : { ...shown, sha256: sha256(script.shown) } })), fullKey }
}

/** A script's summary hash: 12 hex digits of its shown (redacted) text's sha256. */
export function shownSha256(shown: string): string {
  return sha256(shown).slice(0, 12)
}

const LOCAL_FILE = ['.git', 'twinsync', 'ran-here.json']
/** The apply's warning: a local record that could not be read was kept aside and a new one written (LocalRuns.write). */
export const LOCAL_RUNS_KEPT_ASIDE = 'LOCAL_RUNS_KEPT_ASIDE'
/** HMACs kept for one committed key (the newest): the texts of one command whose password changed. */
const KEPT_TEXTS = 16
const MAC_CHARS = 32

/** The local record as read: none there, read, or there and not readable as one (kept aside when it is replaced). */
type LocalRead = { state: 'none' } | { state: 'read'; runs: LocalRuns } | { state: 'unreadable'; why: string }

/** This machine's record of which full texts ran under a committed key (never committed). */
export class LocalRuns {
  private constructor(
    private readonly macKey: Buffer,
    private readonly ran: Record<string, string[]>,
    /** The file there could not be read as a record (forUpdate): write keeps it aside, never over it. */
    private readonly replaces?: string,
  ) {}

  /** The record of the twin at `dir`; undefined when there is none or it cannot be read (then the committed record alone says what ran). */
  static read(dir: string): LocalRuns | undefined {
    const read = LocalRuns.readLocal(dir)
    return read.state === 'read' ? read.runs : undefined
  }

  /**
   * The record to add to (ApplyService's ledgerAfter): the one there, or a new one. One that is
   * there and cannot be read as a record (session 47's review, F5: it was replaced, every HMAC in
   * it gone unsaid) is kept aside by `write`, which says so.
   */
  static forUpdate(dir: string): LocalRuns {
    const read = LocalRuns.readLocal(dir)
    if (read.state === 'read') return read.runs
    return new LocalRuns(randomBytes(32), Object.create(null) as Record<string, string[]>, read.state === 'unreadable' ? read.why : undefined)
  }

  static empty(): LocalRuns {
    return new LocalRuns(randomBytes(32), Object.create(null) as Record<string, string[]>)
  }

  private mac(fullKey: string): string {
    return createHmac('sha256', this.macKey).update(`TwinSync-Ran-Text\n${fullKey}`).digest('hex').slice(0, MAC_CHARS)
  }

  /** Whether this record holds any text for the committed key `key` (else the committed record alone says it ran: ranHow's 'record alone'). */
  knows(key: string): boolean {
    return this.ran[key] !== undefined
  }

  /** Whether the committed entry `key` may stand for the text `fullKey`: this record says nothing of `key`, or holds that text. */
  allows(key: string, fullKey: string): boolean {
    const kept = this.ran[key]
    return kept === undefined || kept.includes(this.mac(fullKey))
  }

  /** The committed key this text ran under when the record holds it (the redaction rules changed since: another key). */
  keyOf(fullKey: string): string | undefined {
    const mac = this.mac(fullKey)
    return Object.keys(this.ran).find((k) => this.ran[k]?.includes(mac))
  }

  /** Record that the text `fullKey` ran under the committed `key`. */
  add(key: string, fullKey: string): void {
    const mac = this.mac(fullKey)
    this.ran[key] = [...(this.ran[key] ?? []).filter((m) => m !== mac), mac].slice(-KEPT_TEXTS)
  }

  /**
   * Written whole (the SDK's writeFileAtomic: aside, then renamed), 0600, in `.git/twinsync/`
   * (0700). A file there that could not be read as a record (forUpdate) is first renamed beside
   * it (`ran-here.json.unreadable-<time>-<random>`, 0600) and a warning says so, once: the next
   * read finds this record.
   */
  async write(dir: string): Promise<{ keptAside?: { path: string; why: string } }> {
    await mkdir(join(dir, '.git', 'twinsync'), { recursive: true, mode: 0o700 })
    const file = join(dir, ...LOCAL_FILE)
    let keptAside: { path: string; why: string } | undefined
    if (this.replaces !== undefined) {
      const aside = `${file}.unreadable-${new Date().toISOString().replace(/[:.]/g, '')}-${randomBytes(4).toString('hex')}`
      try {
        await rename(file, aside)
        // A regular file only: a symbolic link's mode is its target's (chmod would follow it).
        if ((await lstat(aside)).isFile()) await chmod(aside, 0o600)
        keptAside = { path: aside, why: this.replaces }
      } catch (error) {
        // Gone since it was read: nothing to keep.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
    }
    await writeFileAtomic(file, stableStringify({ key: this.macKey.toString('hex'), ran: this.ran }), { mode: 0o600 })
    return keptAside === undefined ? {} : { keptAside }
  }

  /** The record at `dir`: none (no file), read, or a file there that is not readable as one (and why). */
  private static readLocal(dir: string): LocalRead {
    let fd: number
    try {
      fd = openSync(join(dir, ...LOCAL_FILE), constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'none' }
      return { state: 'unreadable', why: code === 'ELOOP' ? 'a symbolic link' : `not readable (${code ?? 'error'})` }
    }
    try {
      const parsed = JSON.parse(readFileSync(fd, 'utf8')) as { key?: unknown; ran?: unknown } | null
      if (typeof parsed?.key !== 'string' || !/^[0-9a-f]{64}$/.test(parsed.key) || typeof parsed.ran !== 'object' || parsed.ran === null || Array.isArray(parsed.ran)) return { state: 'unreadable', why: 'not a record of TwinSync\'s' }
      const ran: Record<string, string[]> = Object.create(null) as Record<string, string[]>
      for (const [k, v] of Object.entries(parsed.ran as Record<string, unknown>)) if (Array.isArray(v)) ran[k] = v.filter((m): m is string => typeof m === 'string')
      return { state: 'read', runs: new LocalRuns(Buffer.from(parsed.key, 'hex'), ran) }
    } catch (error) {
      return { state: 'unreadable', why: error instanceof SyntaxError ? 'not JSON' : `not readable (${(error as NodeJS.ErrnoException).code ?? 'error'})` }
    } finally {
      closeSync(fd)
    }
  }
}

/** Whether the record holds `key` as its own (not an inherited name). */
export function recorded(ledger: Readonly<Record<string, unknown>>, key: string | undefined): key is string {
  return key !== undefined && Object.prototype.hasOwnProperty.call(ledger, key)
}

/**
 * The one rule for "this run-once command already ran here": the committed record has its key
 * and the local record allows its text, or (one migration) the record has its key of before
 * session 47 (`fullKey`, the full text's sha256), or the local record says it ran under another
 * committed key the record still has (the redaction rules changed since).
 */
export function ranHere(keys: ActionKeys, ledger: Readonly<Record<string, unknown>>, local: LocalRuns | undefined): boolean {
  return ranHow(keys, ledger, local) !== 'no'
}

/**
 * ranHere's verdict, with how it was reached: 'ran' (its text is known to have run: it holds no
 * secret, or the record's key is its full text's, or this machine's record holds its text),
 * 'record alone' (it holds a secret and only the committed record says it ran: this machine's
 * own record has nothing for its key, or none can be read: a twin restored from its mirror; a
 * change of its secret alone is not told, and the plan and status say so: unchecked-runs.ts), or
 * 'no'.
 */
export function ranHow(keys: ActionKeys, ledger: Readonly<Record<string, unknown>>, local: LocalRuns | undefined): 'ran' | 'record alone' | 'no' {
  const full = keys.fullKey ?? keys.key
  const knows = local !== undefined && local.knows(keys.key)
  if (recorded(ledger, keys.key) && (keys.fullKey === undefined || (knows && local.allows(keys.key, keys.fullKey)))) return 'ran'
  if (keys.fullKey !== undefined && recorded(ledger, keys.fullKey)) return 'ran'
  if (local !== undefined && recorded(ledger, local.keyOf(full))) return 'ran'
  // This machine's record holds other texts for the key (a change of the secret): not run.
  return recorded(ledger, keys.key) && !knows ? 'record alone' : 'no'
}

/**
 * Speed (session 48, session 47's review F8): the committed keys of run-once actions this machine
 * found hold no secret under the detector's rules of now (`SECRET_RULES_VERSION`), kept in the
 * twin's cache folder (`run-once-clean`, never committed). Each apply looks for entries of before
 * session 47 to move (recordedByFullKey): every run-once action the record holds under its full
 * text's key, which for an action with no secret is its only key, so before this each apply put
 * every such action that ever ran through the detector (its line, arguments, description, a
 * script's text) only to find nothing to move. A key found clean, or of an action the plan keyed
 * without a secret and this apply ran, is not asked again until the rules change; a key is the
 * sha256 of the action's file and full text, so the verdict is the text's. The key of an action
 * with no secret is the committed record's own key: the cache holds nothing the record does not.
 * Measured (core/test/apply-service.test.ts, a sinon spy on keyScreen.redact): an apply of a
 * twin with 5 recorded run-once commands without a secret asked the detector 5 times, now 0; the
 * apply that ran them, 5 times, now 0 (the plan's keys reused). Under other rules each is asked
 * once more. Losing the file only costs those calls once (no fsync: writeRecord).
 */
export class CleanKeys {
  private added = false

  private constructor(
    private readonly path: string,
    private readonly keys: Set<string>,
  ) {}

  static read(cacheDir: string): CleanKeys {
    const path = join(cacheDir, CLEAN_FILE)
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as { rules?: unknown; clean?: unknown } | null
      if (parsed?.rules === SECRET_RULES_VERSION && Array.isArray(parsed.clean)) return new CleanKeys(path, new Set(parsed.clean.filter((k): k is string => typeof k === 'string' && /^[0-9a-f]{64}$/.test(k))))
    } catch {
      // None yet, or unreadable: every key is asked about once more.
    }
    return new CleanKeys(path, new Set())
  }

  has(key: string): boolean {
    return this.keys.has(key)
  }

  add(key: string): void {
    if (this.keys.has(key)) return
    this.keys.add(key)
    this.added = true
  }

  /** Written when a key was added, only the keys the record still holds (`keep`): one that left it is dropped. */
  save(keep: (key: string) => boolean): void {
    if (!this.added) return
    writeRecord(this.path, stableStringify({ rules: SECRET_RULES_VERSION, clean: [...this.keys].filter(keep).sort() }))
  }
}

const CLEAN_FILE = 'run-once-clean.json'
