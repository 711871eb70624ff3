import { posix } from 'node:path'
import type { Change, Diagnostic, TwinReader } from '@twinsync/sdk'
import { TwinSyncError, isTwinSyncError, lazySchema, stableStringify, warningDiagnostic } from '@twinsync/sdk/light'
import Type from 'typebox'
import { commandLine } from './command-text.js'
import { Value } from 'typebox/value'
import { COMMANDS } from './commands-domain.js'
import { MAX_JSON_DEPTH, jsonTooDeep } from './json-depth.js'
import { twinNamedIn } from './twin-places.js'
import { refusedScriptLine } from './script-line.js'
import { sha256 } from '../sha256.js'
import { actionKeys, fullKeyOf, recorded, ranHow, shownScript, shownSha256, type CleanKeys, type LocalRuns } from './run-once-keys.js'

const Phase = lazySchema(() => Type.Union([Type.Literal('before'), Type.Literal('after')]))
const Common = lazySchema(() => ({
  description: Type.Optional(Type.String()),
  /** Run before every other change, or after (the default). */
  phase: Type.Optional(Phase()),
  /** Run once (default): once applied, later plans leave it out. false: every plan runs it. */
  once: Type.Optional(Type.Boolean()),
}))

export const RunAction = lazySchema(() => Type.Object(
  { run: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), ...Common() },
  { additionalProperties: false },
))
export const ScriptAction = lazySchema(() => Type.Object(
  { script: Type.String({ minLength: 1 }), args: Type.Optional(Type.Array(Type.String())), ...Common() },
  { additionalProperties: false },
))
export const InstructionFile = lazySchema(() => Type.Object(
  { description: Type.Optional(Type.String()), actions: Type.Array(Type.Union([RunAction(), ScriptAction()])) },
  { additionalProperties: false },
))
export type InstructionFile = Type.Static<ReturnType<typeof InstructionFile>>
type Action = InstructionFile['actions'][number]

/** What apply needs to run an instruction, carried in the change so a saved plan stands alone. */
export interface CommandChangeData {
  kind: 'run' | 'script'
  argv: string[]
  /** For scripts: the path in the twin, its content and hash, as reviewed in the plan. */
  script?: { path: string; text: string; sha256: string }
  phase: 'before' | 'after'
  /** Identifies the action across plans, for the record of what already ran: its file and redacted text (run-once-keys.ts). */
  key: string
  /** Its file and full text's sha256 when that differs from `key` (a secret in it): the record's key before session 47, and what this machine's own record (LocalRuns) knows the text by. Never committed. */
  fullKey?: string
  once: boolean
  source: string
  /** The action's own words; shown after what runs, never instead of it. */
  description?: string
}

export const COMMANDS_LEDGER = 'system/journal/commands.json'

/**
 * The changes asked for by plans/*.yaml, minus run-once actions that already ran. What ran is the
 * machine's record, read from `ran` — the working twin, whatever snapshot the actions are read
 * from: a plan of an older snapshot (a saved plan applied again, its basis) carries that
 * snapshot's record, without what ran since (before session 17 it ran them again). `unchecked`
 * is given each run-once action left out on the committed record's word alone (ranHow's 'record
 * alone': it holds a secret this machine cannot check, unchecked-runs.ts).
 */
export async function readInstructions(twin: TwinReader, ran: Pick<TwinReader, 'readText'> = twin, twinOnTarget: readonly string[] = [], local?: LocalRuns, unchecked?: Change[]): Promise<Change[]> {
  const ledger = await readCommandsLedger(ran)
  const changes: Change[] = []
  for (const file of await twin.list('plans/')) {
    if (!/\.ya?ml$/.test(file)) continue
    const parsed = await parseInstructionFile(file, (await twin.readText(file)) ?? '')
    for (const [index, action] of parsed.actions.entries()) {
      const draft = await toChange(twin, file, index, action)
      refuseTwinFile(draft, file, index, twinOnTarget)
      // A record under the full text's key (an action with no secret, or one recorded before
      // session 47) says it ran: the secret detector is not asked (a twin whose commands all ran).
      if ((draft.data as CommandChangeData).once && recorded(ledger, (draft.data as CommandChangeData).key)) continue
      const change = await keyed(draft, file, action)
      const data = change.data as CommandChangeData
      const ran = data.once ? ranHow(data, ledger, local) : 'no'
      // Ran by the committed record's word alone, its secret unknown here (unchecked-runs.ts): said, not planned.
      if (ran === 'record alone') unchecked?.push(change)
      if (ran !== 'no') continue
      changes.push(change)
    }
  }
  return changes
}

/**
 * The run-once actions of the twin's plans/ that the record holds under their full text's key,
 * with their keys and summaries (a file that cannot be read or is refused is left out: the plan
 * says so): for the record's one migration (ApplyService's ledgerAfter puts an entry of before
 * session 47 under the action's redacted key). Only those with a secret (a `fullKey`); `clean`:
 * the keys of actions found without one, not asked about again, and added to (run-once-keys.ts).
 */
export async function recordedByFullKey(twin: TwinReader, ledger: Readonly<Record<string, unknown>>, clean?: CleanKeys): Promise<Change[]> {
  const out: Change[] = []
  for (const file of await twin.list('plans/')) {
    if (!/\.ya?ml$/.test(file)) continue
    try {
      const parsed = await parseInstructionFile(file, (await twin.readText(file)) ?? '')
      for (const [index, action] of parsed.actions.entries()) {
        const draft = await toChange(twin, file, index, action)
        const data = draft.data as CommandChangeData
        // An action found before to hold no secret (CleanKeys: the detector's rules unchanged since) has nothing to move.
        if (!data.once || !recorded(ledger, data.key) || clean?.has(data.key) === true) continue
        const change = await keyed(draft, file, action)
        if ((change.data as CommandChangeData).fullKey === undefined) clean?.add(data.key)
        else out.push(change)
      }
    } catch (error) {
      if (!isTwinSyncError(error)) throw error
    }
  }
  return out
}

/**
 * The record of run-once actions that ran, by their key (CommandChangeData.key). One that is not
 * a JSON object (the twin is untrusted) is TWIN_INVALID: what ran cannot be told, so nothing is
 * planned rather than a command run again (before session 17: an internal error).
 */
export async function readCommandsLedger(twin: Pick<TwinReader, 'readText'>): Promise<Readonly<Record<string, unknown>>> {
  const text = await twin.readText(COMMANDS_LEDGER)
  if (text === undefined) return {}
  if (jsonTooDeep(text)) {
    throw new TwinSyncError('TWIN_INVALID', `${COMMANDS_LEDGER}, the record of the run-once commands that ran, nests arrays or objects more than ${MAX_JSON_DEPTH} deep (TwinSync writes two levels)`, {
      nextStep: `Put back the last snapshot's record (\`git checkout HEAD -- ${COMMANDS_LEDGER}\` in the twin), or correct the file.`,
      details: { path: COMMANDS_LEDGER },
    })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TwinSyncError('TWIN_INVALID', `${COMMANDS_LEDGER}, the record of the run-once commands that ran, is not a JSON object`, {
      nextStep: `Put back the last snapshot's record (\`git checkout HEAD -- ${COMMANDS_LEDGER}\` in the twin), or correct the file.`,
      details: { path: COMMANDS_LEDGER },
    })
  }
  return Object.assign(Object.create(null) as Record<string, unknown>, value)
}

/**
 * A warning (COMMAND_RAN_BEFORE) for each planned run-once command that the last snapshot's record
 * (`observed`, the machine's record as last committed) says ran here, but the record the plan
 * reads no longer has (session 18: a hand edit of the record, or a history taken over with `git
 * reset --hard` as REMOTE_DIVERGED's next step says, had the command planned as a new one, nothing
 * telling it had run). Planned all the same, for a person to decide; said before it is approved.
 * `observed` is read only when such a command is planned.
 */
export async function ranBeforeNotes(changes: readonly Change[], ran: Pick<TwinReader, 'readText'>, observed: () => Promise<Pick<TwinReader, 'readText'> | undefined>): Promise<Diagnostic[]> {
  return (await ranBefore(changes, ran, observed)).map(({ change, at }) =>
    warningDiagnostic(COMMAND_RAN_BEFORE, `${change.summary} (${change.id}): ${ranBeforeWords(at)} (to keep it from running, put its entry back: \`git checkout refs/twinsync/observed -- ${COMMANDS_LEDGER}\` in the twin)`, {
      provider: COMMANDS,
      path: COMMANDS_LEDGER,
      detail: RAN_BEFORE_NEXT_STEP,
    }),
  )
}

/**
 * The planned run-once commands the last snapshot's record says ran here and the record read
 * (`ran`) no longer has, with when they ran (ranBeforeNotes: the plan's warning; status's reason).
 * `observed` is read only when a run-once command is planned.
 */
export async function ranBefore(changes: readonly Change[], ran: Pick<TwinReader, 'readText'>, observed: () => Promise<Pick<TwinReader, 'readText'> | undefined>): Promise<Array<{ change: Change; at?: string }>> {
  const once = changes.filter((c) => c.provider === COMMANDS && (c.data as Partial<CommandChangeData> | undefined)?.once === true)
  if (once.length === 0) return []
  const last = await observed()
  if (last === undefined) return []
  const before = await readCommandsLedger(last).catch(() => ({}) as Readonly<Record<string, unknown>>)
  const now = await readCommandsLedger(ran)
  const out: Array<{ change: Change; at?: string }> = []
  for (const change of once) {
    const { key, fullKey } = change.data as CommandChangeData
    // Under either of its keys (one recorded before session 47 is under its full text's).
    const held = (record: Readonly<Record<string, unknown>>) => (recorded(record, key) ? key : recorded(record, fullKey) ? fullKey : undefined)
    const was = held(before)
    if (was === undefined || held(now) !== undefined) continue
    const at = (before[was] as { appliedAt?: unknown } | null)?.appliedAt
    out.push({ change, ...(typeof at === 'string' ? { at } : {}) })
  }
  return out
}

/** Why a command that ran here is planned again, in the words plan and status share. */
export function ranBeforeWords(at: string | undefined): string {
  return `it ran on this machine${at === undefined ? '' : ` at ${at}`} (the last snapshot's ${COMMANDS_LEDGER}), but the twin's record no longer has it: applying runs it again`
}

export const COMMAND_RAN_BEFORE = 'COMMAND_RAN_BEFORE'

/** What to do about it (the plan's note, status's item). */
export const RAN_BEFORE_NEXT_STEP = `To keep it from running again, put its entry back (\`git checkout refs/twinsync/observed -- ${COMMANDS_LEDGER}\` in the twin); to run it again on purpose, approve the plan.`

/**
 * The largest plans/ file read (bytes). The YAML parser's time grows faster than its input on
 * some shapes anyone who can push to the mirror can write, and its memory with it (session 36,
 * measured on this 2-core machine: 256 KiB of anchors took 28 s, of `a: a: a: …` 10 s; 2 MB of
 * nested `[` 26 s and 1.2 GB; 10 MB of them ended `plan` in a V8 out-of-memory abort after three
 * minutes). At this size the worst shape found (anchors, nested `[`) parses in about 3 s; a plans
 * file is a list of commands a person reads (a script's text lives in scripts/).
 */
export const MAX_INSTRUCTION_FILE_BYTES = 64 * 1024

export async function parseInstructionFile(file: string, text: string): Promise<InstructionFile> {
  const size = Buffer.byteLength(text)
  if (size > MAX_INSTRUCTION_FILE_BYTES) {
    throw new TwinSyncError('PLAN_INVALID', `${file} is ${size} bytes; a plans/ file is at most ${MAX_INSTRUCTION_FILE_BYTES} bytes (64 KiB), so it was not read`, {
      nextStep: `Split it into smaller files in plans/, or move long text into scripts/ (an action's \`script:\`). One that came with a pull and that no one here wrote: remove ${file} from the twin, then plan again.`,
      details: { file, size, limit: MAX_INSTRUCTION_FILE_BYTES },
    })
  }
  const { LineCounter, parseDocument, isMap, isSeq } = await import('yaml')
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: true })
  const yamlError = doc.errors[0]
  if (yamlError !== undefined) {
    const pos = yamlError.linePos?.[0]
    throw planInvalid(file, pos?.line, undefined, yamlError.message.split('\n')[0] ?? 'invalid YAML')
  }
  let value: unknown
  try {
    // yaml refuses alias expansion past its limit (a "billion laughs" file) by throwing.
    value = doc.toJS({ maxAliasCount: 100 }) ?? {}
  } catch (error) {
    throw planInvalid(file, undefined, undefined, (error as Error).message.split('\n')[0] ?? 'invalid YAML')
  }
  if (Value.Check(InstructionFile(), value)) return value
  const errors = [...Value.Errors(InstructionFile(), value)]
  // In a union every branch complains; the deepest complaint is the one about what was written.
  const depth = (e: (typeof errors)[number]) => e.instancePath.split('/').length * 2 + (e.keyword === 'boolean' ? 0 : 1)
  const first = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'additionalProperties').sort((a, b) => depth(b) - depth(a))[0] ?? errors[0]
  const pointer = (first?.instancePath ?? '').split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p))
  // The line of the offending key: walk the YAML node tree along the error's path.
  let node: unknown = doc.contents
  for (const part of pointer) {
    const inner: unknown = isMap(node) || isSeq(node) ? node.get(part as never, true) : undefined
    if (inner === undefined) break
    node = inner
  }
  const range = (node as { range?: [number, number, number] } | null)?.range
  const line = range === undefined ? undefined : lineCounter.linePos(range[0]).line
  const key = pointer.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '')
  const message = first?.keyword === 'boolean' ? 'unknown key' : (first?.message ?? 'invalid value')
  throw planInvalid(file, line, key, message)
}

function planInvalid(file: string, line: number | undefined, key: string | undefined, message: string): TwinSyncError {
  const where = `${file}${line === undefined ? '' : `:${line}`}`
  return new TwinSyncError('PLAN_INVALID', `${where}: ${key ? `"${key}": ` : ''}${message}`, {
    nextStep: `Fix ${where} in the twin; the format is in docs/plan-format.md.`,
    details: { file, ...(line === undefined ? {} : { line }), ...(key ? { key } : {}) },
  })
}

async function toChange(twin: TwinReader, file: string, index: number, action: Action): Promise<Change> {
  const phase = action.phase ?? 'after'
  const once = action.once ?? true
  const id = `${COMMANDS}:${file}#${index + 1}`
  if ('run' in action) {
    const argv = action.run
    if (argv.some((a) => a.includes('\0')) || !/^[A-Za-z0-9_./+-]+$/.test(argv[0] as string) || (argv[0] as string).includes('..')) {
      throw planInvalid(file, undefined, `actions[${index}].run`, `"${argv[0]}" is not a program name or absolute path`)
    }
    const data: CommandChangeData = { kind: 'run', argv, phase, key: fullKeyOf(file, action), once, source: file, ...describedAs(action) }
    return {
      id,
      provider: COMMANDS,
      category: COMMANDS,
      operation: 'run',
      resource: commandLine(argv),
      // What is approved is what runs: the summary is the argument list, the description comes second.
      summary: `run ${commandLine(argv)}`,
      risk: 'high',
      data,
    }
  }
  const path = scriptPath(file, index, action.script)
  const bytes = await twin.read(path)
  if (bytes === undefined) {
    throw new TwinSyncError('SCRIPT_INVALID', `${file}: script ${action.script} is not in the twin's scripts/ folder`, {
      nextStep: `Add ${path} to the twin, or correct the name in ${file}.`,
      details: { file, script: action.script },
    })
  }
  const text = Buffer.from(bytes).toString('utf8')
  const digest = sha256(text)
  const argv = [path, ...(action.args ?? [])]
  const data: CommandChangeData = { kind: 'script', argv, script: { path, text, sha256: digest }, phase, key: fullKeyOf(file, action, text), once, source: file, ...describedAs(action) }
  return {
    id,
    provider: COMMANDS,
    category: COMMANDS,
    operation: 'script',
    resource: path,
    // Its lines and hash are added by `keyed` (the hash of its redacted text).
    summary: `script ${commandLine(argv)}`,
    risk: 'high',
    after: text,
    data,
  }
}

/**
 * A change of toChange with its record's keys (run-once-keys.ts: of its redacted text) and, for
 * a script, its summary: what runs, how many lines, and 12 hex digits of the sha256 of its text
 * as the twin's secret screening shows it (session 47: of the full text before, with which a
 * weak password in the script could be checked offline). An every-time command (`once: false`)
 * is recorded nowhere: its key stays the full text's, and its command line is not screened here.
 */
async function keyed(draft: Change, file: string, action: Action): Promise<Change> {
  const data = draft.data as CommandChangeData
  const script = data.script === undefined ? undefined : { text: data.script.text, shown: await shownScript(data.script.path, data.script.text) }
  const keys = data.once ? await actionKeys(file, action, script) : { key: data.key }
  const change = { ...draft, data: { ...data, ...keys } }
  if (script === undefined) return change
  const lines = script.text.length === 0 ? 0 : script.text.replace(/\n$/, '').split('\n').length
  return { ...change, summary: `${draft.summary} (${lines} line${lines === 1 ? '' : 's'}, sha256 ${shownSha256(script.shown)})` }
}

/**
 * What is approved is what runs (session 45): a command that names a file of the twin repository
 * (an argument, or a script's `#!` line) runs what the twin holds when it runs, which the plan
 * never shows and a mirror writes: `run: [sh, /var/lib/twinsync/twin/scripts/x.sh]` showed the
 * path, and a reviewed script starting `#!/var/lib/twinsync/twin/scripts/interp` ran that file's
 * text on its own. Refused (PLAN_INVALID naming the action): `script:` copies a script's content
 * into the plan. A word is taken whole as a path from the target's `/` (where commands start), and
 * as text (`--file=/…`, a `sh -c` line) by twinNamedIn, the rule trust-risk.ts rates file texts
 * by: the twin's folder or TwinSync's state folders after `//` and `/./` are made `/`, or the
 * twin's last folder name next to a slash (session 46: `sh -c "cd /var/lib/twinsync && sh
 * twin/x.sh"`, `/var/lib//twinsync/…` and `~/twin/x.sh` passed a substring test). A shell line
 * cannot be judged whole: a glob, a variable or a command that builds the name passes, and the
 * command is shown and asked for by name (high-risk.ts) all the same. A script's lines are
 * judged as text the same way.
 */
function refuseTwinFile(change: Change, file: string, index: number, twin: readonly string[]): void {
  if (twin.length === 0) return
  const data = change.data as CommandChangeData
  const shebang = data.script === undefined ? [] : (/^#!(.*)/.exec(data.script.text)?.[1] ?? '').trim().split(/\s+/).filter(Boolean)
  const words = [...(data.kind === 'script' ? data.argv.slice(1) : data.argv), ...shebang]
  const named = words.find((word) => {
    const asPath = posix.resolve('/', word)
    return twin.some((dir) => asPath === dir || asPath.startsWith(`${dir}/`)) || twinNamedIn(word, twin) !== undefined
  })
  if (named !== undefined) {
    const where = shebang.includes(named) ? `its script's #! line names ${named}` : `it names ${named}`
    throw planInvalid(file, undefined, `actions[${index}]`, `${where}, a file of the twin repository (${twin[0]}) or TwinSync's state: a mirror writes what it holds, and the plan does not show it, so what runs would not be what was approved. Put the script in scripts/ and name it with \`script:\` (its content is copied into the plan, shown, and that is what runs), or name a program of the machine outside the twin`)
  }
  // A script's own lines are shell text too (session 46): `. /var/lib/twinsync/twin/scripts/env` in a reviewed script ran a twin file unseen.
  // Session 47 (session 46's review, R7): not a line that only looks at the twin (a comment, `ls`, a backup by `tar -c`: script-line.ts).
  const lines = data.script?.text.split('\n') ?? []
  const refused = refusedScriptLine(lines, (text) => twinNamedIn(text, twin) !== undefined)
  if (refused.at < 0) return
  const at = refused.at
  const what = refused.what ?? twinNamedIn(lines[at] as string, twin) ?? 'a twin file (on the lines it goes on to)'
  throw planInvalid(file, undefined, `actions[${index}]`, `line ${at + 1} of ${data.script?.path} names ${what}, a file of the twin repository (${twin[0]}) or TwinSync's state: a mirror writes what it holds, and the plan does not show it, so what runs would not be what was approved. Put what it runs in the script itself, or name a program of the machine outside the twin`)
}

function describedAs(action: Action): { description?: string } {
  return action.description === undefined ? {} : { description: action.description }
}

/** Scripts may only come from the twin's scripts/ folder. */
function scriptPath(file: string, index: number, script: string): string {
  const rel = script.startsWith('scripts/') ? script.slice('scripts/'.length) : script
  if (rel.length === 0 || rel.startsWith('/') || rel.split('/').some((p) => p === '..' || p === '.' || p === '') || rel.includes('\0')) {
    throw new TwinSyncError('SCRIPT_INVALID', `${file}: actions[${index}].script "${script}" is outside the twin's scripts/ folder`, {
      nextStep: 'Name a script inside scripts/, such as fix-perms.sh.',
      details: { file, script },
    })
  }
  return `scripts/${rel}`
}
