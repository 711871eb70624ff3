/**
 * The one rule for text a terminal shows (the CLI's human output, the TUI): nothing in it is
 * acted on by the terminal or left unseen. Text from the twin (a pulled mirror anyone with its
 * token can push to) reaches diagnostics and rows as names: a unit, a package, a cron command, a
 * path, a description key, a commit message. `ESC ]0;… BEL` would retitle the window, `ESC [2K`
 * and a carriage return rewrite the line, a right-to-left override turns `exe.cod` into `doc.exe`.
 * So, at render time: C0 and C1 controls (ESC, BEL, CR, backspace…), DEL, Unicode format
 * characters (the bidi overrides and isolates U+202A–202E and U+2066–2069, the marks U+200E/F and
 * U+061C, zero-width characters, the BOM, tag characters) and the line and paragraph separators
 * are spelled out as `\e`, `\r`, `\x07`, `\u202e`. A backslash is left as it is, so text spelled
 * out once is spelled out the same again (no `\\e` from a second pass); `--json` never goes
 * through here (JSON escapes itself, and ids stay exact for `discard ID`, which also takes an
 * id as printed here: `matchesShown`).
 */
import type { Diagnostic } from '@twinsync/sdk'
import { spellCharacter, spelledLine } from '@twinsync/sdk/errors'

// Every control and format character but newline and tab (the SDK's spelledLine spells those too): a block of lines keeps its lines.
const UNSEEN_IN_LINES = /(?![\n\t])[\p{Cc}\p{Cf}\u2028\u2029]/gu

/**
 * One character as the terminal rule spells it: a name (`\e`, `\r`, `\n`, `\t`), `\xHH` up to
 * U+00FF, `\uHHHH` up to U+FFFF, `\u{HHHHH}` above (so U+E0041 is never U+E004 and "1"). For a
 * character class of its own (a plan's names: command-text.ts visibleName), in the same spelling.
 */
export const spell: (ch: string) => string = spellCharacter

/** One line of text as a terminal may show it: every control and invisible character spelled out, newlines and tabs too. */
export function terminalText(text: string): string {
  return spelledLine(text)
}

/** A block of lines (a diff, a program's output, a whole rendered screen of the CLI): as terminalText, keeping its newlines and tabs. */
export function terminalLines(text: string): string {
  return text.replace(UNSEEN_IN_LINES, spell)
}

/** A diagnostic with every field a person reads spelled out (terminalText): for the CLI's and the TUI's lines, never for --json. */
export function shownDiagnostic<D extends Diagnostic>(d: D): D {
  const out = { ...d, code: terminalText(d.code), summary: terminalText(d.summary) }
  if (d.detail !== undefined) out.detail = terminalText(d.detail)
  if (d.path !== undefined) out.path = terminalText(d.path)
  if (d.provider !== undefined) out.provider = terminalText(d.provider)
  if (d.change !== undefined) out.change = terminalText(d.change)
  return out
}

/**
 * Whether `given` (an id a person copied from the terminal) names `id`: exactly, or as
 * terminalText printed it. A caller that finds more than one match by the printed form asks for
 * the exact id (`--json` shows it).
 */
export function matchesShown(id: string, given: string): boolean {
  return id === given || terminalText(id) === given
}
