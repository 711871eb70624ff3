/**
 * The glob dialects TwinSync reads, each named for what it matches. They differ on purpose: each
 * is the reading of the program whose files it stands for, so a pattern means here what it means
 * there (sdk/test/glob.test.ts compares each with the real one: glibc's glob(3) and fnmatch(3),
 * bash, `systemctl --root`).
 *
 * | dialect | `*` crosses `/` | `**` | `[...]` | a leading `.` | `\` |
 * | --- | --- | --- | --- | --- | --- |
 * | pathPatternToRegExp: TwinSync's own (claims, checks, validators) | no | any depth | literal | matched | literal |
 * | shellGlobToRegExp: glob(3) (nginx, apache, sshd, sudo includes) | no | as `*` | a class | only by a `.` | escapes |
 * | fnmatch: fnmatch(3), FNM_NOESCAPE (systemd presets) | yes | as `*` | a class | matched | literal |
 * | PathPatterns: a configuration's ignore and secret path lists | as pathPattern, a name without `/` matches the last component anywhere | | | | |
 */

/**
 * TwinSync's own absolute path patterns, as provider claims, config checks' `paths`, content
 * validators' `validatesPaths` and systemd's configReadBy write them: `*` any run within one path
 * component (a leading dot too), `**` any run across components, `?` one character within a
 * component; every other character stands for itself.
 */
export function pathPatternToRegExp(pattern: string): RegExp {
  return new RegExp(pathPatternSource(pattern))
}

/**
 * Speed (issue 22, session 42): a pattern's wildcards and the characters an expression would read
 * otherwise, found by one search of the pattern (left to right, `**` before `*`), each put as the
 * character loop did (sdk/test/glob.test.ts compares the two on random patterns); the loop ran a
 * regular-expression replace a character. The patterns an unchanged snapshot makes (the files
 * provider's ignore and leftover lists, every provider's claims): see the figure in
 * docs/architecture.md's Speed table (session 42).
 */
const PATTERN_PARTS = /\*\*|[*?.+^${}()|[\]\\]/g

function patternPart(part: string): string {
  return part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : `\\${part}`
}

/**
 * @deprecated The same function as pathPatternToRegExp, under its name before session 20
 * (plugins may import it).
 */
export const globToRegExp = pathPatternToRegExp

/**
 * A glob(3) pattern (flags 0) as nginx `include`, apache `Include`/`IncludeOptional`, sshd
 * `Include` and sudo `@include` expand it: `*`, `?` and `[...]` (`[!...]`, `[^...]`, ranges,
 * `[:alpha:]` classes) within one path component, none of them matching the `.` that begins a
 * name (`/etc/nginx/*.conf` skips `.old.conf`); `\x` is `x` itself.
 */
export function shellGlobToRegExp(pattern: string): RegExp {
  let out = '^'
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string
    const nameStart = i === 0 || pattern[i - 1] === '/'
    const noDot = nameStart ? '(?!\\.)' : ''
    if (ch === '*') out += `${noDot}[^/]*`
    else if (ch === '?') out += `${noDot}[^/]`
    else if (ch === '\\' && i + 1 < pattern.length) out += literal(pattern[++i] as string)
    else if (ch === '[') {
      const set = bracket(pattern, i, { escapes: true, crossesSlash: false })
      if (set === undefined) out += '\\['
      else {
        out += noDot + set.regex
        i = set.end
      }
    } else out += literal(ch)
  }
  return new RegExp(out + '$')
}

/**
 * fnmatch(3) with FNM_NOESCAPE and no other flag, as systemd matches a preset rule's pattern
 * against a unit name (src/shared/install.c): `*` and `?` match any character, `/` and a
 * leading `.` included; `[...]` as in shellGlobToRegExp; `\` stands for itself.
 */
export function fnmatch(pattern: string, name: string): boolean {
  let compiled = FNMATCH.get(pattern)
  if (compiled === undefined) {
    compiled = fnmatchToRegExp(pattern)
    FNMATCH.set(pattern, compiled)
  }
  return compiled.test(name)
}

const FNMATCH = new Map<string, RegExp>()

export function fnmatchToRegExp(pattern: string): RegExp {
  let out = '^'
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string
    if (ch === '*') out += '[^]*'
    else if (ch === '?') out += '[^]'
    else if (ch === '[') {
      const set = bracket(pattern, i, { escapes: false, crossesSlash: true })
      if (set === undefined) out += '\\['
      else {
        out += set.regex
        i = set.end
      }
    } else out += literal(ch)
  }
  return new RegExp(out + '$')
}

/**
 * A list of path patterns, as a configuration's `ignore` and `secrets.paths` hold them. A pattern
 * with a "/" is a pathPattern against the whole absolute path (a relative one may begin
 * anywhere: `a/b` is `/**\/a/b`; a trailing "/" is dropped); a pattern without one is matched
 * against the last component only, as .gitignore does, so "node_modules" drops that folder
 * wherever it is and "*.swp" matches vim's `.name.swp`.
 *
 * Speed (issue 22, session 45): a pattern without a wildcard is a string in a set; the others with
 * a "/" are kept by the folder their text before the first wildcard ends in (`/etc/ssl/private/`
 * for `/etc/ssl/private/**`, `/` for `/**\/*.p12`), each folder's as one expression made when a
 * path in that folder (or below it) is first asked about, and the ones without a "/" as one
 * expression made when first needed. A path a pattern matches begins with that text, so only the
 * expressions of the path's own folders are asked. Before, every pattern was made an expression of
 * its own and all of them one more: for the files provider's secret paths (DEFAULT_SECRET_PATHS and
 * the named credential files) an expression of 3,425 characters, the largest a first snapshot
 * compiles (V8 compiles each expression to bytecode at its first use and to machine code at its
 * second); now on the minbase root only the folder `/`'s (1,002 characters: the `/**\/…` patterns).
 * The figure, with the command-line-flag rule's (secrets.ts, TOOL_LINES): `snapshot --init` of the
 * minbase root, V8's regular-expression compiler 104.6 → 95.3 M instructions (callgrind); the whole
 * run in docs/architecture.md's Speed table (session 45). sdk/test/glob.test.ts compares the two
 * on random patterns and paths and on TwinSync's own lists.
 */
export class PathPatterns {
  private readonly exactPaths = new Set<string>()
  private readonly exactNames = new Set<string>()
  /** The wildcard patterns with a "/", by folder (as expressions' text; `made` when first asked). */
  private readonly folders = new Map<string, PatternGroup>()
  private readonly names: PatternGroup = { sources: [] }

  constructor(patterns: readonly string[]) {
    for (const p of patterns) {
      if (p.includes('/')) {
        const absolute = (p.startsWith('/') ? p : '/**/' + p).replace(/\/+$/, '')
        const wild = firstWildcard(absolute)
        if (wild < 0) this.exactPaths.add(absolute)
        else {
          const folder = absolute.slice(0, absolute.lastIndexOf('/', wild) + 1)
          let group = this.folders.get(folder)
          if (group === undefined) this.folders.set(folder, (group = { sources: [] }))
          group.sources.push(pathPatternSource(absolute))
        }
      } else if (firstWildcard(p) < 0) this.exactNames.add(p)
      else this.names.sources.push(pathPatternSource(p))
    }
  }

  matches(path: string): boolean {
    if (this.exactNames.size > 0 || this.names.sources.length > 0) {
      const name = path.slice(path.lastIndexOf('/') + 1)
      if (this.exactNames.has(name) || (this.names.sources.length > 0 && anyOf(this.names).test(name))) return true
    }
    if (this.exactPaths.has(path)) return true
    if (this.folders.size === 0) return false
    for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
      const group = this.folders.get(path.slice(0, slash + 1))
      if (group !== undefined && anyOf(group).test(path)) return true
    }
    return false
  }
}

/** Patterns as one expression's alternatives, made when first asked for. */
interface PatternGroup {
  sources: string[]
  made?: RegExp
}

/** One regular expression matching what any of the group's (anchored, flagless) patterns match. */
function anyOf(group: PatternGroup): RegExp {
  return (group.made ??= new RegExp(group.sources.map((s) => `(?:${s})`).join('|')))
}

/** A pathPattern's expression text (pathPatternToRegExp's source). */
function pathPatternSource(pattern: string): string {
  return `^${pattern.replace(PATTERN_PARTS, patternPart)}$`
}

/** Where a pattern's first wildcard is (`*` or `?`), or -1. */
function firstWildcard(pattern: string): number {
  const star = pattern.indexOf('*')
  const question = pattern.indexOf('?')
  return star < 0 ? question : question < 0 ? star : Math.min(star, question)
}

function literal(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

const CLASSES: Record<string, string> = {
  alnum: 'A-Za-z0-9',
  alpha: 'A-Za-z',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '\\x21-\\x7e',
  lower: 'a-z',
  print: '\\x20-\\x7e',
  punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t\\n\\v\\f\\r',
  upper: 'A-Z',
  xdigit: '0-9A-Fa-f',
}

/**
 * The bracket expression that opens at `start`, as glibc reads it: `!` or `^` first negates, a
 * `]` first is a member, `a-z` a range, `[:name:]` a class; undefined when no `]` closes it (the
 * `[` is then itself). Within a path (glob), a bracket holding a `/` is no bracket (glob splits
 * the pattern at each `/` first) and a class never matches `/`.
 */
function bracket(pattern: string, start: number, how: { escapes: boolean; crossesSlash: boolean }): { regex: string; end: number } | undefined {
  let i = start + 1
  const negated = pattern[i] === '!' || pattern[i] === '^'
  if (negated) i++
  const members: string[] = []
  let first = true
  for (; i < pattern.length; i++) {
    let ch = pattern[i] as string
    if (ch === ']' && !first) {
      const body = members.join('')
      if (!how.crossesSlash && pattern.slice(start, i).includes('/')) return undefined
      const regex = negated ? `[^${how.crossesSlash ? '' : '/'}${body}]` : how.crossesSlash ? `[${body}]` : `(?!/)[${body}]`
      return { regex: body === '' && !negated ? '(?!)' : regex, end: i }
    }
    first = false
    if (ch === '[' && pattern[i + 1] === ':') {
      const close = pattern.indexOf(':]', i + 2)
      if (close !== -1) {
        const cls = CLASSES[pattern.slice(i + 2, close)]
        // An unknown class makes glibc's fnmatch fail: the pattern matches nothing.
        members.push(cls ?? '')
        if (cls === undefined) return { regex: '(?!)', end: endOf(pattern, close + 2) }
        i = close + 1
        continue
      }
    }
    if (ch === '\\' && how.escapes && i + 1 < pattern.length) ch = pattern[++i] as string
    // A "-" between two members is a range; first or last it is itself.
    if (ch === '-' && members.length > 0 && pattern[i + 1] !== ']' && i + 1 < pattern.length) {
      members.push('-')
      continue
    }
    members.push(ch.replace(/[\\\]^[-]/g, '\\$&'))
  }
  return undefined
}

/** Where the bracket whose class ends before `from` closes (its whole extent is skipped). */
function endOf(pattern: string, from: number): number {
  const close = pattern.indexOf(']', from)
  return close === -1 ? pattern.length - 1 : close
}
