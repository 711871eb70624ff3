/**
 * A command line a person is told to run (a next step), each argument quoted for a shell, and the
 * `twinsync ARGS` lines a provider writes into a diagnostic's detail or an error's next step.
 * One rule for the core and the plugins alike: core/src/plan/command-text.ts re-exports quoteArg
 * and commandLine from here, and the core's twinsyncLine (RunTarget) builds every line it gives a
 * provider (ProviderContext.twinsync) through them.
 */
import type { ProviderContext } from './context.js'

const SAFE_WORD = /^[A-Za-z0-9_./:=@%+,-]+$/
const NAMED: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '\x1b': '\\e', '\\': '\\\\', "'": "\\'" }
// What only bash's $'...' can carry: the hidden class, newline and tab, and a lone surrogate (a
// JavaScript string can hold one, from a YAML or JSON escape; it is no character, and Node passes
// it to a program as U+FFFD's bytes, as it writes it anywhere else).
const NEEDS_ANSI_C = /[\p{Cc}\p{Cf}\u2028\u2029\p{Cs}]/u

/**
 * A character in bash's $'...' as the bytes that run, `\xHH` each (U+202E is `\xe2\x80\xae`). Not
 * `\uHHHH`: bash reads at most four hex digits there (U+E0041 as `\ue0041` is U+E004 and "1"),
 * and outside a UTF-8 locale (LC_ALL=C, a root shell's usual one) it writes `\u202E` itself
 * instead of the character. `\xHH` means the same bytes in every bash and every locale, and a
 * lone surrogate is shown as what runs in its place (`\xef\xbf\xbd`).
 */
function bashBytes(ch: string): string {
  return [...Buffer.from(ch, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')
}

/**
 * Whether quoteArg needs bash's $'...' for `arg` (a control, format or separator character, a
 * newline, a tab, a lone surrogate): a line for /bin/sh (dash: a cron line, an apt hook) cannot
 * carry such an argument, so its writer refuses it.
 */
export function needsBashQuoting(arg: string): boolean {
  return NEEDS_ANSI_C.test(arg)
}

/**
 * One argument as a POSIX shell would need it written: bare when it is plain, in single quotes
 * otherwise, and in bash's $'...' form when it holds a newline or another control or invisible
 * character (needsBashQuoting). Pasted into bash, in any locale, the argument is exactly `arg`'s
 * bytes as Node passes them to a program.
 */
export function quoteArg(arg: string): string {
  if (arg.length > 0 && SAFE_WORD.test(arg)) return arg
  if (!needsBashQuoting(arg)) return `'${arg.replace(/'/g, `'\\''`)}'`
  return `$'${[...arg].map((ch) => NAMED[ch] ?? (NEEDS_ANSI_C.test(ch) ? bashBytes(ch) : ch)).join('')}'`
}

/** An argument list as one line, each argument quoted as needed: `rm -rf '/var/tmp/my cache'`. */
export function commandLine(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ')
}

/**
 * A `twinsync ARGS` line to paste (a next step): `ARGS` quoted for a shell, then the run's own
 * `--root`, `--repo` and `--config` when the core gave them (ProviderContext.twinsync).
 */
export type TwinsyncLine = (args: readonly string[]) => string

/**
 * A `twinsync ARGS` line that names no run: the arguments quoted, no --root, --repo or --config.
 * What twinsyncLines gives a context the core filled without a line builder (a core older than
 * the SDK that has it, a test's or a conformance kit's context).
 */
export const bareTwinsyncLine: TwinsyncLine = (args) => commandLine(['twinsync', ...args])

/**
 * The `twinsync ARGS` lines a provider writes into a next step (a diagnostic's detail, an error's
 * nextStep): the context's own (ProviderContext.twinsync: the core fills it with the run's
 * --root, --repo and --config), else bareTwinsyncLine. Take it once where the context is at hand
 * and pass the function down to where a message is built:
 *
 *   const line = twinsyncLines(ctx)
 *   detail: `go back with \`${line(['discard', 'files'])}\``
 *
 * `sudo`: the line run as root (`sudo twinsync ...`), e.g. to read what only root may.
 */
export function twinsyncLines(ctx: Pick<ProviderContext, 'twinsync'> | undefined, options: { sudo?: boolean } = {}): TwinsyncLine {
  const line = ctx?.twinsync ?? bareTwinsyncLine
  return options.sudo === true ? (args) => `sudo ${line(args)}` : line
}
