/**
 * Session 47 (session 46's review, R7): which lines of a reviewed script that name a twin are
 * refused. plan-instructions.ts refuses a plan whose `script:` sources or runs a twin file (what a
 * mirror wrote, unseen); before, every line naming one was refused, a comment (`# keeps
 * /var/lib/twinsync small`) or a backup (`tar -czf /backup/state.tgz /var/lib/twinsync`) too.
 *
 * A line is let through only when this reader follows it whole and every simple command in it
 * that names the twin only looks at it, at the script's top level: a comment; `ls`, `du`, `df`,
 * `stat`, `wc`, `test`/`[`, `echo`, `logger` with no output to a file (/dev/null aside) and none
 * into a pipe; a `tar` that creates an archive (ARCHIVE_NAME, outside /etc) from it, with no option that runs a
 * program (a later line naming that archive, by its file name or a pattern that could match it,
 * is judged as naming the twin: a `tar -x` of it copies the twin's content; at most 8 such
 * archives). Anything else that names the twin is refused as before: a command run from it,
 * `.`/`source`, an interpreter, a copy (`cp`, `cat`, `rsync`, `tar -x`: its content put elsewhere
 * unseen), a write into it, a variable set to it, a word that expands (`$…`), a `cd` there. So is
 * every such line inside `( )`, `{ }`, `if`, a loop (their output may go to a pipe at the end),
 * and every line after one this reader does not follow (a command substitution, a here-document, a
 * quote or `${` left open, STOPS, a PATH set or another SHELL_STATE variable's, a function or alias
 * that could stand for `ls`), and after a
 * line let through, a `$_` (the last word of the command before). A text names the twin as
 * twin-places.ts's twinNamedIn reads it (with quotes and backslashes taken out too, as the shell
 * reads it: `. /var/lib/"twinsync"/twin/env`, session 48). Still not a sandbox: a shell
 * builds names (variables, globs) the plan's text does not show, as twin-places.ts says.
 */

import { withoutDots } from './twin-places.js'

type Token = { word: string } | { op: string }

/** Commands that only look at what they name (no running, copying or writing of it). */
const LOOKS = new Set(['ls', 'du', 'df', 'stat', 'wc', 'test', '[', 'echo', 'logger'])
/** Shell words that open and close a compound command (its output can be redirected at its end). */
const OPENS = new Set(['{', 'if', 'while', 'until', 'for', 'select'])
const CLOSES = new Set(['}', 'fi', 'done'])
/**
 * Commands after which what a later line runs is not read here (lines from there on are judged as
 * before session 47): each can change what a later `ls` is or where its output goes, from the
 * shell itself (a function, an alias, `eval`, `trap`, `hash`, `enable`, a variable set by `read`,
 * `printf -v`, `declare`/`export` with an option, `.` of another file, `shopt`). Session 47's
 * review (F1) found `eval`, `builtin trap`, `X= exec`, `printf -v PATH` and `BASH_ALIASES[ls]=.`
 * let through.
 */
const STOPS = new Set([
  'case', 'function', 'alias', 'exec', 'trap', 'hash', 'enable', 'eval', '.', 'source', 'read', 'readarray', 'mapfile',
  'shopt', 'unset', 'let', 'coproc', 'bind', 'getopts',
])
/**
 * Variables that choose how later commands are found, read or traced (any `BASH_*`, too: BASH_ALIASES,
 * BASH_CMDS, BASH_ENV), or what a later `tar` reads and does (TAPE: `tar -xz -C /` with no `-f` read it).
 */
const SHELL_STATE = /^(?:PATH|IFS|ENV|CDPATH|GLOBIGNORE|SHELLOPTS|BASHOPTS|PS4|PROMPT_COMMAND|EXECIGNORE|FUNCNEST|BASH_\w*|TAPE|TAR_OPTIONS)$/
/** An assignment word (`NAME=…`, `NAME+=…`, `NAME[i]=…`): its name. */
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?=/
/** Commands that set variables from their arguments: a stop with an option (`-n`, `-f`, `-a`…) or a SHELL_STATE name. */
const SETS = new Set(['export', 'readonly', 'declare', 'typeset', 'local'])
/** `set`'s harmless uses: options that only make the script stricter or louder. */
const SET_OPTIONS = /^(?:[-+][euxvfC]+|[-+]o|pipefail|errexit|nounset|xtrace|noclobber|verbose|noglob)$/

/** Whether this simple command (its words, the command word at `at`) changes what later lines run (see STOPS). */
function changesShell(words: readonly string[], at: number): boolean {
  for (let i = 0; i < at; i++) {
    const name = ASSIGNMENT.exec(words[i] as string)?.[1]
    if (name !== undefined && SHELL_STATE.test(name)) return true
  }
  const program = words[at]
  if (program === undefined) return false
  const args = words.slice(at + 1)
  if (STOPS.has(program)) return true
  if (program === 'printf') return args.some((a) => a.startsWith('-v'))
  if (program === 'set') return !args.every((a) => SET_OPTIONS.test(a))
  if (SETS.has(program)) return args.some((a) => a.startsWith('-') || a.startsWith('+') || SHELL_STATE.test(ASSIGNMENT.exec(a)?.[1] ?? a))
  return false
}
/** Reserved words a command can follow on the same line (`then ls …`, `! test …`). */
const LEADS = new Set(['!', 'then', 'elif', 'else', 'do', 'time'])

/**
 * The index in `lines` (a script, line 0 its `#!`) of the first line that names the twin in a way
 * not known to be harmless, or -1; `what` when it is named another way than by its path (a `$_`
 * after a line let through, an archive a line let through made of it). `named(text)` says whether
 * a text names the twin.
 */
export function refusedScriptLine(lines: readonly string[], named: (text: string) => boolean): { at: number; what?: string } {
  const { logical, lostAt } = scriptTokens(lines)
  // The archives a `tar -c` let through made of the twin: a later line naming one (`tar -x` of it) is judged as naming the twin.
  const archives: string[] = []
  const names = (text: string) => named(text) || (archives.length > 0 && archiveIn(text, archives) !== undefined)
  const refused = (at: number, text: string) => {
    if (named(text)) return { at }
    const archive = archiveIn(text, archives)
    return { at, ...(archive === undefined ? {} : { what: `${archive}, an archive an earlier line made of the twin` }) }
  }
  const lastWord = (at: number) => ({ at, what: 'a twin file by `$_` (the last word of a line before it that names one)' })
  let depth = 0
  let letThrough = false
  let lost = false
  for (const { start, end, tokens } of logical) {
    const text = lines.slice(start, end).map((l, i) => (start + i < end - 1 ? l.slice(0, -1) : l)).join('')
    const naming = names(text) || lines.slice(start, end).some(names)
    if (letThrough && LAST_WORD.test(text)) return lastWord(start)
    if (lost) {
      if (naming) return refused(start, text)
      continue
    }
    const judged = judgeLine(tokens, depth, naming ? names : () => false, archives)
    if (judged === undefined) lost = true
    if (judged === undefined ? naming : judged.refused) return refused(start, text)
    depth = judged?.depth ?? depth
    if (naming) letThrough = true
    if (letThrough && LAST_WORD.test(text)) return lastWord(start)
  }
  // From the line this reader stopped following on, the old rule: any line naming the twin (or an archive of it).
  for (let i = lostAt; i < lines.length; i++) if (names(lines[i] as string)) return refused(i, lines[i] as string)
  return { at: -1 }
}

/**
 * How `text` may name one of `archives` (made of the twin by a `tar -c` let through), or undefined:
 * with quotes and backslashes taken out, the archive's file name in it (its path, a relative
 * name after a `cd`, `/backup//s.tgz`, `-xzfs.tgz`, `logs.tgz` too: the safe side), or a word
 * whose last component is a pattern (`*`, `?`, `[…]`, `{…}`) ending in what the file name ends in
 * (`/backup/s.t?z`, `*.tgz`, `*`; not `*.conf`). Not a name a variable holds or a command prints,
 * as for the twin itself (twin-places.ts). Session 47's review (F4): the archive's path as written
 * was the only spelling seen.
 */
function archiveIn(text: string, archives: readonly string[]): string | undefined {
  const bare = text.replace(/['"\\]/g, '')
  for (const archive of archives) {
    const name = archive.slice(archive.lastIndexOf('/') + 1)
    if (bare.includes(name)) return archive
    for (const word of bare.split(/[\s;&|<>()`]+/)) {
      // `$?`, `$*`, `${x}` and the like expand to no file name here.
      const last = word.slice(word.lastIndexOf('/') + 1).replace(/\$(?:\{[^}$]*\}|[?*#@!$-])/g, '$')
      const end = Math.max(last.lastIndexOf('*'), last.lastIndexOf('?'), last.indexOf('[') < 0 ? -1 : last.lastIndexOf(']'), last.indexOf('{') < 0 ? -1 : last.lastIndexOf('}'))
      if (end >= 0 && name.endsWith(last.slice(end + 1))) return `${archive} (${word}, a pattern that could match it)`
    }
  }
  return undefined
}

/** `$_`, `${_}`: the last word of the command before, which may be a twin file a line let through named. */
const LAST_WORD = /\$\{?_(?![A-Za-z0-9_])/

/**
 * The line's simple commands in order, with the compound depth they start at: refused when one
 * that names the twin does more than look at it or lies inside a compound command; undefined when
 * the line defines a function or alias, has `case`, or closes more than it opened (what follows
 * cannot be read line by line).
 */
function judgeLine(tokens: Token[], startDepth: number, names: (word: string) => boolean, archives: string[]): { refused: boolean; depth: number } | undefined {
  let depth = startDepth
  let command: Token[] = []
  for (const [i, token] of [...tokens, { op: ';' }].entries()) {
    if ('word' in token || isRedirect(token.op)) {
      command.push(token)
      continue
    }
    // The words but redirections' targets, as simpleLooksOnly counts them (`! <then find ls -exec …` is no `ls`).
    const words = command.flatMap((t, j) => ('word' in t && !isTarget(command, j) ? [t.word] : []))
    let at = 0
    for (; at < words.length; at++) {
      const word = words[at] as string
      if (OPENS.has(word)) depth++
      else if (CLOSES.has(word)) depth--
      else if (!LEADS.has(word)) break
      if (depth < 0) return undefined
    }
    // Assignments before the command (`X= exec …` is an exec), and `builtin`/`command` before a builtin's name
    // (`builtin trap …`): the command word is what follows them.
    let word = at
    for (;;) {
      while (word < words.length && ASSIGNMENT.test(words[word] as string)) word++
      if (words[word] !== 'builtin' && words[word] !== 'command') break
      word++
      while (word < words.length && /^-[pvV]+$/.test(words[word] as string)) word++
    }
    // `exec >file` sends every later command's output there (an `echo` of a twin path into root's .bashrc);
    // `trap … DEBUG` runs before each command with its text, `hash -p`, `enable -f` and a PATH set choose what `ls` is.
    if (changesShell(words, word) || words.some((w) => /^PATH=/.test(w))) return undefined
    // `name() …`: a function (it could stand for `ls`).
    const next = tokens[i + 1]
    if (token.op === '(' && words.length === at + 1 && next !== undefined && 'op' in next && next.op === ')') return undefined
    const piped = token.op === '|' || token.op === '|&'
    if (!simpleLooksOnly(command, at, depth, piped, names, archives)) return { refused: true, depth }
    if (token.op === '(') depth++
    if (token.op === ')' && --depth < 0) return undefined
    command = []
  }
  return { refused: false, depth }
}

/** Whether the token at `j` is the word a redirection before it names. */
function isTarget(tokens: Token[], j: number): boolean {
  const before = tokens[j - 1]
  return before !== undefined && 'op' in before && isRedirect(before.op)
}

function isRedirect(op: string): boolean {
  return /^\d*(<|>|>>|>\||<>|<&|>&)$|^&>>?$/.test(op)
}

/** One simple command (words from `at` on, and redirections): harmless when it names no twin, or only looks at it at the top level. */
function simpleLooksOnly(tokens: Token[], at: number, depth: number, piped: boolean, names: (word: string) => boolean, archives: string[]): boolean {
  const words: string[] = []
  const outputs: Array<{ op: string; target: string }> = []
  let named = false
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token
    if ('word' in token) {
      words.push(token.word)
      if (names(token.word)) named = true
      continue
    }
    const next = tokens[i + 1]
    if (next === undefined || !('word' in next)) return !named
    i++
    if (names(next.word)) named = true
    if (!/^\d*<&?$/.test(token.op)) outputs.push({ op: token.op, target: next.word })
  }
  if (!named) return true
  if (depth > 0 || piped) return false
  // A word that expands is not known; an assignment naming the twin sets a variable a later command may run.
  if (words.some((w) => names(w) && w.includes('$'))) return false
  // The assignments before the command word, by judgeLine's ASSIGNMENT: one to an array element or an
  // append (`X[1]=… ls`: bash says `X[1]` is no name and runs ls all the same) is none of a let-through line's.
  const lead = at
  for (let m; at < words.length && (m = ASSIGNMENT.exec(words[at] as string)) !== null; at++) {
    if (m[0] !== `${m[1]}=` || names(words[at] as string)) return false
  }
  const program = words[at]
  if (program === undefined) return false
  if (!outputs.every(({ op, target }) => target === '/dev/null' || (/&$/.test(op) && /^[12-]$/.test(target)))) return false
  if (LOOKS.has(program)) return true
  if (program !== 'tar') return false
  // Prefix assignments (TAPE=… chooses the archive) are none of a let-through tar's; a lead word (`!`, `time`) is no assignment.
  if (at > lead) return false
  const archive = tarCreatesFrom(words.slice(at + 1), names)
  if (archive === undefined || !ARCHIVE_NAME.test(archive) || !outsideEtc(archive)) return false
  // Each later line is read for each archive (archiveIn): a few, so that anyone's script of thousands of them stays linear.
  if (archives.length >= ARCHIVES_AT_MOST) return false
  archives.push(archive)
  return true
}

/**
 * Whether an archive's name is a path from `/` (or root's `~/`) that lies outside /etc once `//`,
 * `/./` and `..` are resolved: `/./etc/logrotate.d/x.tar`, `/usr/../etc/…`, or a relative name
 * after a `cd /etc/…`, and `host:x.tgz` (GNU tar writes that through rsh, to another machine)
 * passed the test of the name as written (session 48's review, F9).
 */
function outsideEtc(archive: string): boolean {
  const path = archive.startsWith('~/') ? `/root${archive.slice(1)}` : archive
  if (!path.startsWith('/')) return false
  return !/^\/etc(?:\/|$)/.test(withoutDots(path.replace(/\/(?:\.?\/)+/g, '/')))
}

/**
 * The archive a let-through `tar -c` may write: named with `-f` as an archive (no default, no
 * stdout), outside /etc. An archive holds its files' bytes as they are, compressed ones too (a
 * deflate block of bytes that do not compress is stored); written over a file a shell sources
 * (`tar -cf /etc/default/grub …`, `/root/.bashrc`), dash ran the twin file's lines in it
 * (session 47's review, F3). run-parts, sudoers.d and profile.d skip names with these endings.
 * Written out whole, with no `$`, `*`, `?`, `[` or `{`: later lines are searched for its file name
 * (archiveIn), and `$D/x.tgz` or `/backup/$N.tgz` is a name this reader cannot know (under /etc, too).
 */
const ARCHIVE_NAME = /^[^\s$*?[\]{}]*[^/\s$*?[\]{}]\.(?:tar|tgz|tbz2?|txz|tzst|tar\.(?:gz|bz2|xz|zst|lz|lzma|Z))$/

/**
 * The `tar -c` archives of the twin one script may make: each later line is searched for each
 * (archiveIn), and a script of 4,000 of them took 14 s of CPU to read (0.5 s with the path test
 * of before, quadratic too).
 */
const ARCHIVES_AT_MOST = 8

/**
 * The archive (its `-f`) of a `tar` that creates one (`-c`, `--create`, old-style `czf`) outside
 * the twin, with no option but a few known ones: none that runs a program (`-I`, `--to-command`,
 * `--checkpoint-action`, `--info-script`) or removes what it read (`--remove-files`); undefined
 * for any other `tar` ("" for no `-f`: tar's default).
 */
function tarCreatesFrom(args: string[], names: (word: string) => boolean): string | undefined {
  const withArgument = new Set(['f', 'C'])
  const flags = new Set(['c', 'z', 'j', 'J', 'v', 'p', 'h', 'P', 'S'])
  const longs = /^--(create|gzip|bzip2|xz|zstd|verbose|one-file-system|numeric-owner|acls|xattrs|sparse|dereference|absolute-names|totals|ignore-failed-read|exclude-vcs|exclude-caches|exclude=.*|directory=.*|file=.*)$/
  let creates = false
  let options = true
  let file = ''
  const pending: string[] = []
  const letters = (cluster: string): boolean => {
    for (const letter of cluster) {
      if (letter === 'c') creates = true
      if (withArgument.has(letter)) pending.push(letter)
      else if (!flags.has(letter)) return false
    }
    return true
  }
  for (const [i, arg] of args.entries()) {
    const wants = pending.shift()
    if (wants !== undefined) {
      if (wants === 'f' && names(arg)) return undefined
      if (wants === 'f') file = arg
      continue
    }
    if (options && arg === '--') options = false
    else if (options && arg.startsWith('--')) {
      if (!longs.test(arg)) return undefined
      if (arg === '--create') creates = true
      if (arg.startsWith('--file=') && names(arg.slice('--file='.length))) return undefined
      if (arg.startsWith('--file=')) file = arg.slice('--file='.length)
    } else if (options && arg.startsWith('-') && arg.length > 1) {
      // `-fX`: the rest of a cluster after a letter that takes an argument is that argument.
      const at = [...arg.slice(1)].findIndex((l) => withArgument.has(l))
      if (!letters(at < 0 ? arg.slice(1) : arg.slice(1, at + 2))) return undefined
      const rest = at < 0 ? '' : arg.slice(at + 2)
      if (rest !== '' && pending.pop() === 'f') {
        if (names(rest)) return undefined
        file = rest
      }
    } else if (options && i === 0 && !letters(arg)) {
      // Old style: the first word is a cluster of letters, their arguments the words after it.
      return undefined
    }
  }
  return creates && pending.length === 0 ? file : undefined
}

/**
 * The script's logical lines from line 1 (physical lines `start` to `end`, those ending in a
 * backslash outside quotes and comments joined), each as words (quotes and backslashes taken out)
 * and operators; `lostAt`, the first line this reader stops following the shell on (a quote left
 * open, `$(`, `$((`, `$'`, a `${` not closed on its line, a backquote, `<(`/`>(`, a here-document or
 * here-string), or the number of lines. One pass: each character is read once.
 */
function scriptTokens(lines: readonly string[]): { logical: Array<{ start: number; end: number; tokens: Token[] }>; lostAt: number } {
  const logical: Array<{ start: number; end: number; tokens: Token[] }> = []
  let tokens: Token[] = []
  let start = 1
  let text = ''
  let inWord = false
  const end = () => {
    if (inWord) tokens.push({ word: text })
    text = ''
    inWord = false
  }
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] as string
    let continues = false
    for (let i = 0; i < line.length; i++) {
      const c = line[i] as string
      // Only a blank or a tab ends a word: dash and bash take a carriage return as part of one, so
      // `echo hi<CR># ; . twin/env` runs the source (session 48's review, F1: read as a comment).
      if (c === ' ' || c === '\t') {
        end()
      } else if (c === '#' && !inWord) {
        break
      } else if (c === "'") {
        const close = line.indexOf("'", i + 1)
        if (close < 0) return { logical, lostAt: start }
        text += line.slice(i + 1, close)
        inWord = true
        i = close
      } else if (c === '"') {
        let j = i + 1
        for (; j < line.length && line[j] !== '"'; j++) {
          const braces = line[j] === '$' && line[j + 1] === '{' ? BRACES.exec(line.slice(j, j + 256))?.[0] : undefined
          if (braces !== undefined) {
            text += braces
            j += braces.length - 1
            continue
          }
          if (line[j] === '`' || (line[j] === '$' && (line[j + 1] === '(' || line[j + 1] === '{'))) return { logical, lostAt: start }
          if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1] as string)) j++
          text += line[j]
        }
        if (j >= line.length) return { logical, lostAt: start }
        inWord = true
        i = j
      } else if (c === '\\') {
        if (i + 1 >= line.length) continues = true
        else text += line[++i]
        inWord ||= !continues
      } else if (c === '$' && line[i + 1] === '{' && BRACES.test(line.slice(i, i + 256))) {
        const braces = BRACES.exec(line.slice(i, i + 256))?.[0] as string
        text += braces
        inWord = true
        i += braces.length - 1
      } else if (c === '`' || (c === '$' && (line[i + 1] === '(' || line[i + 1] === '{' || line[i + 1] === "'")) || ((c === '<' || c === '>') && line[i + 1] === '(') || line.startsWith('<<', i)) {
        // `$'…'` too: bash decodes `\x73` and the like there, a name this reader does not see (session 48's review, F10).
        return { logical, lostAt: start }
      } else if (c === '<' || c === '>' || (c === '&' && line[i + 1] === '>')) {
        // A redirection, with the number of the descriptor written right before it (`2>`).
        const fd = inWord && /^\d+$/.test(text) ? text : ''
        if (fd !== '') [text, inWord] = ['', false]
        end()
        const op = /^(&>>|&>|>>|>\||<>|<&|>&|<|>)/.exec(line.slice(i, i + 3))?.[1] as string
        tokens.push({ op: fd + op })
        i += op.length - 1
      } else if (c === ';' || c === '&' || c === '|' || c === '(' || c === ')') {
        end()
        const op = /^(&&|\|\||\|&|;;|[;&|()])/.exec(line.slice(i, i + 2))?.[1] as string
        tokens.push({ op })
        i += op.length - 1
      } else {
        text += c
        inWord = true
      }
    }
    if (continues) continue
    end()
    logical.push({ start, end: n + 1, tokens })
    tokens = []
    start = n + 1
  }
  end()
  if (start < lines.length) logical.push({ start, end: lines.length, tokens })
  return { logical, lostAt: lines.length }
}

/** `${NAME}`, `${NAME:-word}`: a parameter closed on its line with no expansion, quote or backslash inside. */
const BRACES = /^\$\{[^}$`"'\\]*\}/
