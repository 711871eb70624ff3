/**
 * How a command and a script are shown for review: exactly what runs, unambiguous, and with
 * nothing a terminal would interpret. A hostile twin could otherwise hide `rm -rf /` behind an
 * escape sequence, a carriage return or a right-to-left override in an argument or a script.
 */
import { resolve } from 'node:path'
import type { Change } from '@twinsync/sdk'
import { commandLine, needsBashQuoting, quoteArg, type TwinsyncLine } from '@twinsync/sdk/light'
import type { CommandChangeData } from './plan-instructions.js'
import { isCommand } from './commands-domain.js'
import { spell, terminalLines, terminalText } from '../terminal-text.js'

// The quoting rule is the SDK's (sdk/src/command-line.ts), so a plugin's lines and the core's are
// quoted alike; re-exported here for the core's modules.
export { commandLine, needsBashQuoting, quoteArg }

/**
 * What a command acts on, as `--root`, `--repo` and `--config` say it: the target root, the twin,
 * and the configuration file this run read (its providers, the disabled ones, their settings).
 */
export interface CommandTarget {
  root: string
  repo?: string | undefined
  /** The configuration file this run read (LoadedConfig.path); undefined when none was, and defaults applied. */
  config?: string | undefined
}

/**
 * A path as one word of a command line: absolute (the line may be pasted in another folder, or
 * under sudo), so never taken for an option (a file named `-x.json` is `/root/-x.json`).
 */
export function pathWord(path: string): string {
  return resolve(path)
}

/**
 * A `twinsync` command line to paste into a next step, with the real paths: `--root` when the
 * target is not this machine, `--repo` when known, `--config` when this run read a configuration
 * file. The one rule for every next step that names a command (CLI and TUI alike): the line runs
 * against what this run acted on, never the defaults of whoever pastes it (root's
 * /etc/twinsync/config.yaml under sudo, another set of providers), each path quoted for a shell.
 */
export function twinsyncLine(args: readonly string[], target: CommandTarget): string {
  const root = pathWord(target.root)
  return commandLine([
    'twinsync',
    ...args,
    ...(root === '/' ? [] : ['--root', root]),
    ...(target.repo === undefined ? [] : ['--repo', pathWord(target.repo)]),
    ...(target.config === undefined ? [] : ['--config', pathWord(target.config)]),
  ])
}

/** A `twinsync ARGS` line for this run's target (RunTarget.line): what a renderer or a refusal that names a command is handed (the SDK's TwinsyncLine, what a provider is handed). */
export type LineFor = TwinsyncLine

/**
 * Lines for a command that reads or rewrites the twin at `dir` alone (history, show, forget: no
 * root, no provider, no setting of the configuration), where no RunTarget is at hand: `--repo` is
 * the one flag they need, and it is always named. Through twinsyncLine, as every next step.
 */
export function twinOnlyLines(dir: string): LineFor {
  return (args) => twinsyncLine(args, { root: '/', repo: dir })
}

/** `twinsync history --repo DIR` (twinOnlyLines). */
export function historyLine(dir: string): string {
  return twinOnlyLines(dir)(['history'])
}

/**
 * Script text, a description, a history message, with every invisible or terminal-controlling
 * character spelled out (\e, \r, \u202e, \u{e0041}), newlines and tabs kept: the one render
 * rule, terminalLines (terminal-text.ts).
 */
export function visibleText(text: string): string {
  return terminalLines(text)
}

// Look-alike in a name besides what terminalText spells out (newline, tab, zero-width spaces, the BOM): the no-break space, combining marks.
const NAME_HIDDEN = /\u00a0|\p{M}/gu

/**
 * A name (a path, a unit, a package) as a plan shows it: what terminalText spells out, and also
 * no-break and zero-width spaces, combining marks, and spaces at the end, in the same spelling
 * (terminal-text.ts spell), so two names that differ are never shown alike ("café" composed is
 * `café`, decomposed `cafe\u0301`; a right-to-left override is `\u202e`; "motd " is `motd\x20`).
 */
export function visibleName(text: string): string {
  return terminalText(text)
    .replace(NAME_HIDDEN, spell)
    .replace(/ +$/, (spaces) => '\\x20'.repeat(spaces.length))
}

/** What a person reviews of a command change, after its summary (the command line itself). */
export interface CommandReview {
  /** The exact argument list; for a script, its twin path first (a private copy of the reviewed content runs). */
  argv: string[]
  description?: string
  /** The script's full content, every line, as it will run (controls spelled out). */
  scriptLines?: string[]
}

export function commandReview(change: Change): CommandReview | undefined {
  if (!isCommand(change)) return undefined
  const data = (change.data ?? {}) as Partial<CommandChangeData>
  const argv = Array.isArray(data.argv) ? data.argv.map(String) : []
  const review: CommandReview = { argv }
  if (typeof data.description === 'string') review.description = data.description
  if (data.script !== undefined) review.scriptLines = data.script.text === '' ? [] : visibleText(data.script.text).replace(/\n$/, '').split('\n')
  return review
}

/** The review as text lines, for the plan, the apply prompt and the TUI's change view alike. */
export function commandReviewLines(review: CommandReview): string[] {
  const lines: string[] = []
  if (review.description !== undefined) lines.push(`description: ${visibleText(review.description).replace(/\n/g, '\\n')}`)
  if (review.scriptLines !== undefined) {
    lines.push(`content of ${quoteArg(review.argv[0] ?? 'the script')} (${review.scriptLines.length} line${review.scriptLines.length === 1 ? '' : 's'}), exactly as it runs:`)
    lines.push(...review.scriptLines.map((l) => `| ${l}`))
  }
  return lines
}
