import { posix } from 'node:path'
import type { Change, ConfigCheck, HostPort } from '@twinsync/sdk'
import { checksReading, filePathOf, findChecker, pathPatternToRegExp, runsPerFile, shellGlobToRegExp, touchedPaths } from '@twinsync/sdk'

/** Beyond these a service's configuration is not searched further (a file, a tree). */
const MAX_FILE = 256 * 1024
const MAX_FILES = 2000

/**
 * The checks, each with the files of this plan that the service's live configuration names by
 * their path though they lie outside its folders: certbot's `include
 * /etc/letsencrypt/options-ssl-nginx.conf;`, an `ssl_certificate`, sshd's `Include` or `HostKey`
 * elsewhere, sudo's `@include`. Such a file is then one of the service's: checked with it, put
 * back with it, followed by its reload (plan and apply both take the checks from here). Before
 * session 18 it was written unchecked and no reload followed: a broken options-ssl-nginx.conf
 * went live, exit 0, and `nginx -t` failed from then on. Only whole-configuration checkers (a
 * per-file one cannot judge a file it is not given) whose program is installed; only files no
 * check's paths already cover. A file under /etc is the service's when the configuration writes
 * its path; a file anywhere is when an include of the configuration names it by a glob (nginx
 * `include /etc/letsencrypt/*.conf;`, apache `IncludeOptional /srv/conf/*.conf`, sshd `Include
 * /srv/ssh/*.conf`) or its folder (sudo `@includedir /srv/sudoers`); before session 19 only the
 * exact path counted, and a file reached by such an include went live unchecked, with no reload.
 * Commented-out lines (`#` first, but sudo's `#includedir`) name nothing.
 */
export async function withNamedFiles(host: HostPort, checks: readonly ConfigCheck[], changes: readonly Change[]): Promise<ConfigCheck[]> {
  // By the change's own path, with every path it touches (a folder deleted whole: what is below it, touchedPaths).
  const loose = new Map<string, string[]>()
  for (const c of changes) {
    const path = filePathOf(c)
    if (path !== undefined && checksReading(checks, c).length === 0) loose.set(path, [...new Set([...(loose.get(path) ?? []), ...touchedPaths(c)])])
  }
  if (loose.size === 0) return [...checks]
  const extra = new Map<ConfigCheck, string[]>()
  const left = new Set(loose.keys())
  for (const check of checks) {
    if (left.size === 0) break
    if (check.argv === undefined || runsPerFile(check.argv) || (await findChecker(host, check.argv[0] as string)) === undefined) continue
    const { texts, links, prefixes } = await configTexts(host, check.paths)
    // Reached through a link of the service's own folders (sites-enabled/app -> /srv/app/nginx.conf,
    // a linked folder, the service's folder itself a link), by the path the service reads it at.
    const reached = texts.flatMap((t) => [...includes(t), ...prefixes.flatMap((p) => relativeIncludes(t, p))])
    const linked = (p: string) => links.some((l) => {
      if (p !== l.to && !p.startsWith(`${l.to}/`)) return false
      const as = l.at + p.slice(l.to.length)
      if (!l.pattern.test(as)) return false
      return !l.folder || l.base || reached.some((r) => r.test(as)) || texts.some((t) => names(t, as))
    })
    for (const path of left) {
      if (!(loose.get(path) as string[]).some(linked)) continue
      extra.set(check, [...(extra.get(check) ?? []), path])
      left.delete(path)
    }
    for (const text of texts) {
      const included = includes(text)
      for (const path of left) {
        if (!(loose.get(path) as string[]).some((p) => (p.startsWith('/etc/') && names(text, p)) || included.some((r) => r.test(p)))) continue
        extra.set(check, [...(extra.get(check) ?? []), path])
        left.delete(path)
      }
    }
  }
  return checks.map((c) => (extra.has(c) ? { ...c, paths: [...c.paths, ...(extra.get(c) as string[])] } : c))
}

/** Does a configuration text name `path` as a whole word (not `/etc/ssl/a.pem` in `/etc/ssl/a.pem.bak`)? */
function names(text: string, path: string): boolean {
  for (let at = text.indexOf(path); at !== -1; at = text.indexOf(path, at + 1)) {
    const before = text[at - 1] ?? ' '
    const after = text[at + path.length] ?? ' '
    if (!/[\w./-]/.test(before) && !/[\w./-]/.test(after)) return true
  }
  return false
}

/**
 * What a configuration text includes by a pattern: each absolute path with a glob character
 * (`*`, `?`, `[`) on a line that is not a comment, as glob(3) reads it (shellGlobToRegExp: a `*`
 * stays within one folder and skips names that begin with a `.`), and each folder a sudoers
 * `@includedir` (or `#includedir`) names: the files directly in it, as sudo reads them (no `.`
 * in the name, none ending in `~`).
 */
export function includes(text: string): RegExp[] {
  const out: RegExp[] = []
  for (const line of text.split('\n')) {
    const dir = /^\s*[@#]includedir\s+(\/\S+?)\/*\s*$/.exec(line)
    if (dir !== null) {
      out.push(new RegExp(`^${escape(dir[1] as string)}/[^/.]*[^/.~]$`))
      continue
    }
    if (/^\s*#/.test(line)) continue
    for (const m of line.matchAll(/(?<![\w./:-])(\/[^\s;"'`]*[*?[][^\s;"'`]*)/g)) out.push(shellGlobToRegExp(m[1] as string))
  }
  return out
}

/**
 * What a configuration text includes by a path relative to the service's folder (`prefix`: nginx's
 * `include snippets/x.conf;` and apache's `IncludeOptional sites-enabled/*.conf` are read from
 * /etc/nginx and /etc/apache2, sshd's `Include` from /etc/ssh), as includes() reads absolute ones.
 */
function relativeIncludes(text: string, prefix: string): RegExp[] {
  const out: RegExp[] = []
  for (const m of text.matchAll(/^[ \t]*include(?:optional)?[ \t]+["']?([^\s;"'/][^\s;"']*)/gim)) out.push(shellGlobToRegExp(posix.join(prefix, m[1] as string)))
  return out
}

/** A link met in a service's folders: the path it is met at, where it leads, and the pattern that reached it. */
interface ConfigLink {
  at: string
  to: string
  pattern: RegExp
  /** It leads to a folder: what is below counts when the service reads it (an include, its path named), or `base`. */
  folder: boolean
  /** The pattern's own folder is the link (/etc/nginx -> /srv/nginx): all of it is the service's. */
  base: boolean
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The texts of the regular files the patterns match on the machine (a glob's folder walked), and
 * the links among them (`links`: a linked file's text is read from where it leads; a linked folder
 * is not walked, but the pattern's own folder is when it is a link, /etc/nginx -> /srv/nginx).
 * Each file is matched by the path the service reads it at (below the link), never by where it
 * lies. `prefixes`: the folders relative includes may be read from, every pattern's own (session
 * 47, session 46's review R6: the first pattern's alone, so a check of `/etc/myd/extra/*.conf`
 * then `/etc/myd/**` read `include conf.d/x` from /etc/myd/extra, and a linked folder's file the
 * service includes went live unchecked). Which one a service starts from (nginx its prefix, apache
 * ServerRoot, sshd /etc/ssh) is not known here: each counts, the safe side (a file counted the
 * service's is checked with it).
 * Session 45: links were passed over, so a site enabled by a link to a file outside /etc/nginx
 * (`sites-enabled/app -> /etc/nginx-sites/app.conf`) was changed unchecked and left nginx -t
 * failing. Session 46 (session 45's review, L1): a walk by lstat read nothing of a service folder
 * that is itself a link, and every link under a pattern's folder was taken whole (/etc/nginx/html
 * -> /var/www put every web page in nginx's group).
 */
async function configTexts(host: HostPort, patterns: readonly string[]): Promise<{ texts: string[]; links: ConfigLink[]; prefixes: string[] }> {
  const texts: string[] = []
  const links: ConfigLink[] = []
  const prefixes = new Set<string>()
  let seen = 0
  for (const pattern of patterns) {
    const regex = pathPatternToRegExp(pattern)
    const parts = pattern.split('/')
    const glob = parts.findIndex((p) => p.includes('*'))
    const base = glob === -1 ? pattern : parts.slice(0, glob).join('/') || '/'
    prefixes.add(glob === -1 ? posix.dirname(pattern) : base)
    const read = async (path: string, as: string): Promise<void> => {
      const st = await host.lstat(path).catch(() => undefined)
      if (st?.type !== 'file' || st.size > MAX_FILE || !regex.test(as)) return
      seen++
      const text = await host.readTextIfExists(path).catch(() => undefined)
      if (text !== undefined) texts.push(text)
    }
    /** `path` where it lies, `as` where the service reads it (below a link of its folders). */
    const walk = async (path: string, as: string): Promise<void> => {
      if (seen >= MAX_FILES) return
      const st = await host.lstat(path).catch(() => undefined)
      if (st === undefined) return
      if (st.type === 'symlink') {
        const target = await linkTarget(host, path)
        if (target === undefined) return
        const folder = (await host.lstat(target).catch(() => undefined))?.type === 'directory'
        if (folder && as === base) {
          links.push({ at: as, to: target, pattern: regex, folder, base: true })
          await walk(target, as)
        } else if (folder) links.push({ at: as, to: target, pattern: regex, folder, base: false })
        else if (regex.test(as)) {
          links.push({ at: as, to: target, pattern: regex, folder, base: false })
          await read(target, as)
        }
        return
      }
      if (st.type === 'directory') {
        for (const e of await host.readdir(path).catch(() => [])) if (e.type === 'directory' || e.type === 'file' || e.type === 'symlink') await walk(`${path}/${e.name}`, `${as}/${e.name}`)
        return
      }
      await read(path, as)
    }
    await walk(base, base)
  }
  return { texts, links, prefixes: [...prefixes] }
}

/** Where a link leads, as a path of the target (links followed up to 8 deep); undefined when it leads nowhere. */
async function linkTarget(host: HostPort, link: string): Promise<string | undefined> {
  let path = link
  for (let hops = 0; hops < 8; hops++) {
    const st = await host.lstat(path).catch(() => undefined)
    if (st === undefined) return undefined
    if (st.type !== 'symlink') return path
    const to = await host.readlink(path).catch(() => undefined)
    if (to === undefined) return undefined
    path = posix.normalize(to.startsWith('/') ? to : `${posix.dirname(path)}/${to}`)
  }
  return undefined
}
