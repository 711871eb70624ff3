import { realpathSync } from 'node:fs'
import { posix, resolve } from 'node:path'

/**
 * Where a twin repository lies on the machine, and whether a text or a link names it: the one rule
 * by which the planner refuses a plans/ command naming a twin file (plan-instructions.ts) and rates a
 * file whose text, or a link whose target, leads into a twin high (trust-risk.ts). What lies there
 * is what a mirror pushes, changed by every pull with no plan showing it (session 46; session 45's
 * review, M3 and M5: each had its own test, a substring of the default folders and of the run's).
 */

/**
 * The twin repository's folder as machine paths of the target (planner: where the run's twin lies
 * under its root, as given and as resolved), or none when it lies outside the target.
 */
export function twinOnTarget(root: string, twinDir: string): string[] {
  const base = resolve(root)
  const out = new Set<string>()
  for (const dir of [resolve(twinDir), realOrSame(twinDir)]) {
    if (base === '/') out.add(dir)
    else if (dir.startsWith(`${base}/`)) out.add(dir.slice(base.length))
  }
  return [...out].filter((d) => d !== '/')
}

function realOrSame(dir: string): string {
  try {
    return realpathSync(dir)
  } catch {
    return resolve(dir)
  }
}

/** TwinSync's default state folders, where a twin lies unless `--repo` says otherwise: root's, and each user's. */
const STATE_FOLDERS = ['/var/lib/twinsync', '/.local/share/twinsync']

/**
 * What `text` names of a twin, or undefined: after `//` and `/./` are made `/` (and, failing that,
 * with each path's `..` resolved; a text with a quote or backslash, once more without them, and
 * with bash's `$'…'` decoded), a state folder
 * (`/var/lib/twinsync`, `…/.local/share/twinsync`) or a folder of `dirs` (the run's twin on the
 * target) as a path, or the last component of one of `dirs` as a relative path or after its
 * parent's name or a home (`twin/scripts/x` after a `cd /var/lib/twinsync`, `~/twin/x.sh`,
 * `$HOME/twin`, `srv/twin`). Not what a shell
 * builds: a glob (`tw*`), a variable holding part of the name, `cd` into a
 * folder above and then a bare `twin`, a path printed by a command.
 */
export function twinNamedIn(text: string, dirs: readonly string[]): string | undefined {
  const named = namedWithDots(text, dirs)
  if (named !== undefined || !/['"\\]/.test(text)) return named
  // bash's `$'…'` spells a name in escapes (`$'/var/lib/twin\x73ync'`): once more with each decoded
  // (session 48's review, F10), then with quotes taken out as below.
  if (text.includes("$'")) {
    const decoded = namedWithDots(ansiCDecoded(text), dirs) ?? namedWithDots(ansiCDecoded(text).replace(/['"\\]/g, ''), dirs)
    if (decoded !== undefined) return decoded
  }
  // Session 48 (session 47's review, F7): a quote or backslash splits a path into runs PATH_WORD
  // takes apart, while the shell reads it whole (`. "/srv/x/"../t/env` is `/srv/x/../t/env`,
  // `. /var/lib/"twinsync"/twin/env` is `/var/lib/twinsync/twin/env`, in a `run:` argument or a
  // file's text as in a script's line): once more without them (one more linear pass).
  return namedWithDots(text.replace(/['"\\]/g, ''), dirs)
}

/**
 * `text` with each `$'…'` as bash reads it (`\xHH`, `\NNN` octal, `\uHHHH`, `\UHHHHHHHH`, `\cX`, the
 * letters of C's escapes, `\\`, `\'`), its quotes gone. One pass; an unclosed one runs to the end.
 */
export function ansiCDecoded(text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const start = text.indexOf("$'", i)
    if (start < 0) break
    out += text.slice(i, start)
    i = start + 2
    while (i < text.length && text[i] !== "'") {
      const c = text[i] as string
      if (c !== '\\' || i + 1 >= text.length) {
        out += c
        i++
        continue
      }
      const e = text[i + 1] as string
      const hex = (max: number) => /^[0-9a-fA-F]+/.exec(text.slice(i + 2, i + 2 + max))?.[0]
      if (e === 'x' || e === 'u' || e === 'U') {
        const digits = hex(e === 'x' ? 2 : e === 'u' ? 4 : 8)
        if (digits === undefined) {
          out += `\\${e}`
          i += 2
          continue
        }
        const code = Number.parseInt(digits, 16)
        out += code <= 0x10ffff ? String.fromCodePoint(code) : ''
        i += 2 + digits.length
      } else if (/[0-7]/.test(e)) {
        const digits = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4))?.[0] as string
        out += String.fromCharCode(Number.parseInt(digits, 8) & 0xff)
        i += 1 + digits.length
      } else if (e === 'c' && i + 2 < text.length) {
        out += String.fromCharCode((text.charCodeAt(i + 2) & 0x1f))
        i += 3
      } else {
        out += ANSI_C[e] ?? `\\${e}`
        i += 2
      }
    }
    i++
  }
  return out + text.slice(i)
}

const ANSI_C: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' }

/** twinNamedIn's rule on one spelling of the text: as written after `//` and `/./`, then with each path's `..` resolved. */
function namedWithDots(text: string, dirs: readonly string[]): string | undefined {
  const normal = text.replace(/\/(?:\.?\/)+/g, '/')
  const named = namedIn(normal, dirs)
  if (named !== undefined || !normal.includes('..')) return named
  // Session 47 (session 46's review, R3): a path with `..` in it, taken as the kernel would without
  // links (`/var/lib/../lib/twinsync/…`, `/srv/x/../t/env` for a twin at /srv/t passed), besides as written.
  return namedIn(normal.replace(PATH_WORD, (word) => (/(^|\/)\.\.(\/|$)/.test(word) ? withoutDots(word) : word)), dirs)
}

/**
 * `word` with each `..` taking the component before it away (none above `/`; a relative path's
 * leading ones stay). Not posix.normalize: it takes time as the square of a run of `../` (a line
 * of 300,000 took minutes), and the twin's text is anyone's.
 */
export function withoutDots(word: string): string {
  const out: string[] = []
  for (const part of word.split('/')) {
    const last = out[out.length - 1]
    if (part !== '..') out.push(part)
    else if (last !== undefined && last !== '..' && last !== '') out.pop()
    else if (last !== '') out.push(part)
  }
  return out.join('/')
}

/** A path-shaped run of a text: no blank, quote or shell operator, nor `=`, `:` or `,` (`--file=/…`, `PATH=/a:/b`). */
const PATH_WORD = /[^\s'"`;&|<>(){}=,:]+/g

function namedIn(normal: string, dirs: readonly string[]): string | undefined {
  for (const dir of STATE_FOLDERS) {
    if (new RegExp(`${escape(dir)}(?![\\w.-])`).test(normal)) return dir === '/var/lib/twinsync' ? dir : `…${dir}`
  }
  for (const dir of dirs) {
    if (new RegExp(`${escape(dir)}(?![\\w.-])`).test(normal)) return dir
    // The folder's name as a relative path (`twin/x` after a `cd` to its parent), or after its
    // parent's name or a home (`~/twin`, `$HOME/twin`); not after any slash, which named every
    // `/usr/bin/git` for a twin at /srv/git and every `/var/www` for one at /srv/www (session 46's
    // review, R2: a plans/ command running git was PLAN_INVALID).
    const last = escape(posix.basename(dir))
    const parent = escape(posix.basename(posix.dirname(dir)))
    const relative = `(?<![\\w.~$/{}-])${last}/`
    const below = `(?:~|\\$HOME|\\$\\{HOME\\}|(?<![\\w.-])${parent})/${last}(?![\\w.-])`
    if (new RegExp(`${relative}|${below}`).test(normal)) return `${posix.basename(dir)}/ (the twin's folder ${dir})`
  }
  return undefined
}

/**
 * Whether a link's target (`target`, read from the link at `path`, through the plan's other links
 * `links`: path -> target) leads into a twin: a state folder or a folder of `dirs`, what is inside
 * one, or a folder above one of `dirs` (not `/`: a link to /var/lib reaches …/twinsync/twin below
 * it), or a target whose text twinNamedIn names (/proc/self/root/var/lib/twinsync/…). Links
 * already on the machine are not followed (the rule reads the plan, not the machine).
 */
export function linkIntoTwin(path: string, target: string, dirs: readonly string[], links: ReadonlyMap<string, string> = new Map()): string | undefined {
  let to = posix.resolve(posix.dirname(path), target)
  for (let hops = 0; hops < 8; hops++) {
    const found = judgePath(to, dirs)
    if (found !== undefined) return found
    // Through a link the same plan makes on the way (/srv/a -> /, then /etc/x -> /srv/a/var/lib/twinsync/…).
    let via: string | undefined
    for (const at of links.keys()) if (at !== path && (to === at || to.startsWith(`${at}/`)) && (via === undefined || at.length > via.length)) via = at
    if (via === undefined) {
      // A route the kernel resolves that the path's text still names (/proc/self/root/var/lib/twinsync/…).
      const named = twinNamedIn(to, dirs)
      return named === undefined ? undefined : `${to}, a path naming ${named}`
    }
    to = posix.resolve(posix.dirname(via), links.get(via) as string, `.${to.slice(via.length)}`)
  }
  return undefined
}

function judgePath(to: string, dirs: readonly string[]): string | undefined {
  const inside = (dir: string) => (to === dir ? '' : 'a file in ')
  for (const dir of dirs) if (to === dir || to.startsWith(`${dir}/`)) return `${inside(dir)}the twin's folder ${dir}`
  const state = /^(\/var\/lib\/twinsync|\/.*\/\.local\/share\/twinsync)(?=\/|$)/.exec(to)?.[1]
  if (state !== undefined) return `${inside(state)}TwinSync's state folder ${state}`
  for (const dir of dirs) if (to !== '/' && dir.startsWith(`${to}/`)) return `${to}, a folder above the twin's (${dir})`
  return undefined
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
