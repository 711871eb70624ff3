import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fnmatch, PathPatterns, pathPatternToRegExp, shellGlobToRegExp } from '../src/glob.js'

/** glibc's own glob(3) (flags 0, as nginx, sshd and sudo call it) and fnmatch(3), through python3's ctypes. */
const LIBC = String.raw`
import ctypes, json, sys
libc = ctypes.CDLL('libc.so.6')
class Glob(ctypes.Structure):
    _fields_ = [('pathc', ctypes.c_size_t), ('pathv', ctypes.POINTER(ctypes.c_char_p)), ('offs', ctypes.c_size_t), ('flags', ctypes.c_int), ('rest', ctypes.c_void_p * 8)]
ask = json.load(sys.stdin)
out = {'glob': [], 'fnmatch': []}
for pattern in ask['glob']:
    g = Glob()
    rc = libc.glob(pattern.encode(), 0, None, ctypes.byref(g))
    out['glob'].append(sorted(g.pathv[i].decode() for i in range(g.pathc)) if rc == 0 else [])
    if rc == 0: libc.globfree(ctypes.byref(g))
FNM_NOESCAPE = 2
for pattern, name in ask['fnmatch']:
    out['fnmatch'].append(libc.fnmatch(pattern.encode(), name.encode(), FNM_NOESCAPE) == 0)
json.dump(out, sys.stdout)
`

function libc(ask: { glob?: string[]; fnmatch?: Array<[string, string]> }): { glob: string[][]; fnmatch: boolean[] } {
  return JSON.parse(execFileSync('python3', ['-c', LIBC], { input: JSON.stringify({ glob: [], fnmatch: [], ...ask }) }).toString())
}

/** Every path below `dir` (folders too), as glob(3) could list them. */
function everything(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    out.push(join(dir, e.name))
    if (e.isDirectory()) out.push(...everything(join(dir, e.name)))
  }
  return out
}

describe('glob dialects, each against the program it stands for', () => {
  describe('shellGlobToRegExp: glob(3) as nginx, apache, sshd and sudo includes expand it', () => {
    let dir: string
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'twinsync-glob-'))
      const names = ['a.conf', 'b.conf', '.hidden.conf', 'x1.conf', 'x2.conf', 'xa.conf', 'x-.conf', 'x].conf', 'x!.conf', 'x^.conf', 'x*.conf', 'x\\.conf', 'site-a.conf', 'A.conf', 'conf']
      for (const name of names) writeFileSync(join(dir, name), '')
      for (const sub of ['sub', '.dot', 'sub2']) {
        mkdirSync(join(dir, sub))
        for (const name of ['c.conf', '.d.conf', 'site1.conf']) writeFileSync(join(dir, sub, name), '')
      }
    })
    after(() => rmSync(dir, { recursive: true, force: true }))

    const patterns = [
      '*', '*.conf', '.*', '?.conf', '.h*', '*/*.conf', '*/site?.conf', '*/.d*', '**/*.conf', 'x[12].conf', 'x[!1].conf', 'x[^1].conf', 'x[]].conf', 'x[!]].conf',
      'x[a-].conf', 'x[-a].conf', 'x[0-9].conf', 'x[[:digit:]].conf', 'x[[:alpha:]].conf', 'x[[:punct:]].conf', '[[:upper:]].conf', 'x[.conf', 'x\\*.conf', 'x\\[1].conf',
      'x[\\]].conf', 'site-[ab].conf', '[.]hidden.conf', '*[.]conf', 's*/c.conf', 'sub?/*', 'x[*].conf', 'x[!a-z0-9].conf', 'nothing*',
    ]

    it('expands every pattern to exactly the paths glibc\'s glob(3) lists', () => {
      const all = everything(dir)
      // glob(3) lists "." and ".." for ".*": no file is named so, and includes never read them.
      const real = libc({ glob: patterns.map((p) => join(dir, p)) }).glob.map((paths) => paths.filter((p) => !/\/\.\.?$/.test(p)))
      for (const [i, pattern] of patterns.entries()) {
        const regex = shellGlobToRegExp(join(dir, pattern))
        assert.deepEqual(all.filter((p) => regex.test(p)).sort(), real[i], `${pattern} (${regex.source})`)
      }
    })

    it('agrees with bash (compgen -G, dotglob off) on the patterns bash reads the same way', () => {
      // bash reads "[^...]" and a class holding "/" as glob(3) does; its "\" inside a bracket differs, so those are left out.
      for (const pattern of patterns.filter((p) => !p.includes('\\'))) {
        const bash = execFileSync('bash', ['-c', 'shopt -u dotglob nullglob; compgen -G "$1" || true', 'bash', join(dir, pattern)])
          .toString()
          .split('\n')
          .filter((p) => p !== '' && !/\/\.\.?$/.test(p))
          .sort()
        const regex = shellGlobToRegExp(join(dir, pattern))
        assert.deepEqual(everything(dir).filter((p) => regex.test(p)).sort(), bash, pattern)
      }
    })
  })

  describe('fnmatch: fnmatch(3) with FNM_NOESCAPE, as systemd matches preset rules', () => {
    it('matches exactly what glibc\'s fnmatch(3) matches', () => {
      const patterns = ['*', '*.service', 'getty@.service', 'getty@*.service', 'systemd-*', '[a-c]*.service', '[!a-c]*', '[^a-c]*', '[]a]*', '[!]a]*', 'a?c.service', 'a\\*c', 'a[\\]c', '*/x', '[[:digit:]]*', '[[:nope:]]*', 'x[.service', '.*', 'a[-z]*', '[a-]*', '[/]x']
      const names = ['abc.service', 'getty@.service', 'getty@tty1.service', 'systemd-udevd.service', 'cron.service', ']x', 'a\\bc', 'a\\*c', 'a*c', 'a\\c', 'dir/x', '1x', 'x[.service', '.hidden', '-x', 'zed', '/x', 'a-']
      const pairs = patterns.flatMap((p) => names.map((n) => [p, n] as [string, string]))
      const real = libc({ fnmatch: pairs }).fnmatch
      for (const [i, [pattern, name]] of pairs.entries()) assert.equal(fnmatch(pattern, name), real[i], `fnmatch(${JSON.stringify(pattern)}, ${JSON.stringify(name)})`)
    })
  })

  describe('pathPatternToRegExp: TwinSync\'s claims, checks and validators', () => {
    it('keeps "*" and "?" within a component, lets "**" cross them, matches a leading dot, reads "[" and "\\" as themselves', () => {
      const re = pathPatternToRegExp
      assert.equal(re('/etc/cron.d/*').test('/etc/cron.d/.placeholder'), true)
      assert.equal(re('/etc/cron.d/*').test('/etc/cron.d/a/b'), false)
      assert.equal(re('/etc/nginx/**').test('/etc/nginx/sites-enabled/a'), true)
      assert.equal(re('/etc/rc?.d/*').test('/etc/rc2.d/S01x'), true)
      assert.equal(re('/etc/rc?.d/*').test('/etc/rc/.d/S01x'), false)
      assert.equal(re('/srv/[ab]').test('/srv/[ab]'), true)
      assert.equal(re('/srv/[ab]').test('/srv/a'), false)
      assert.equal(re('/etc/a+b.conf').test('/etc/aab.conf'), false)
    })

    /** Session 41's pathPatternToRegExp, a character at a time: what one search of the pattern must give. */
    function byCharacter(pattern: string): string {
      let out = '^'
      for (let i = 0; i < pattern.length; i++) {
        const ch = pattern[i] as string
        if (ch === '*') {
          if (pattern[i + 1] === '*') {
            out += '.*'
            i++
          } else out += '[^/]*'
        } else if (ch === '?') out += '[^/]'
        else out += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      }
      return out + '$'
    }

    it('writes the expression the character loop wrote, for random patterns of wildcards, specials and text (speed, session 42)', () => {
      const alphabet = ['*', '*', '?', '/', '.', '+', '^', '$', '{', '}', '(', ')', '|', '[', ']', '\\', 'a', 'Z', '-', '_', ' ', '\u00e9', '\u{1F600}']
      let seed = 42
      const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
      for (let n = 0; n < 5000; n++) {
        const pattern = Array.from({ length: Math.floor(next() * 24) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('')
        assert.equal(pathPatternToRegExp(pattern).source, new RegExp(byCharacter(pattern)).source, JSON.stringify(pattern))
      }
    })

    it('searches a pattern once, not once a character (speed, session 42)', () => {
      const replace = String.prototype.replace
      let calls = 0
      String.prototype.replace = function (this: string, ...args: Parameters<typeof replace>) {
        calls++
        return replace.apply(this, args)
      } as typeof replace
      try {
        pathPatternToRegExp('/etc/ssh/ssh_host_*_key.d/**/?.conf')
      } finally {
        String.prototype.replace = replace
      }
      assert.ok(calls <= 1, `${calls} searches`)
    })
  })

  describe('PathPatterns: a configuration\'s ignore and secret path lists', () => {
    it('matches a name without "/" as the last component anywhere (a leading dot too), one with "/" against the whole path', () => {
      const p = new PathPatterns(['node_modules', '*.swp', 'cache/', '/etc/ld.so.cache', 'app/tmp/*'])
      assert.equal(p.matches('/srv/app/node_modules'), true)
      assert.equal(p.matches('/etc/.hosts.swp'), true, "vim's swap file")
      assert.equal(p.matches('/srv/cache'), true)
      assert.equal(p.matches('/etc/ld.so.cache'), true)
      assert.equal(p.matches('/srv/ld.so.cache'), false)
      assert.equal(p.matches('/srv/app/tmp/x'), true)
      assert.equal(p.matches('/srv/app/tmp/x/y'), false)
      assert.equal(p.matches('/etc/hosts'), false)
    })

    /** Session 44's PathPatterns: each pattern an expression, all of them one (what the sets and folders must match). */
    function oneExpression(patterns: readonly string[]): (path: string) => boolean {
      const anyOf = (res: RegExp[]) => (res.length === 0 ? undefined : new RegExp(res.map((r) => `(?:${r.source})`).join('|')))
      const full = anyOf(patterns.filter((p) => p.includes('/')).map((p) => pathPatternToRegExp((p.startsWith('/') ? p : '/**/' + p).replace(/\/+$/, ''))))
      const base = anyOf(patterns.filter((p) => !p.includes('/')).map((p) => pathPatternToRegExp(p)))
      return (path) => base?.test(path.slice(path.lastIndexOf('/') + 1)) === true || full?.test(path) === true
    }

    it('matches what one expression of every pattern matched, for random patterns and paths made from them (speed, session 45)', () => {
      let seed = 45
      const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T
      // Line breaks: `**` (`.*`) crosses none of them, `*` and `?` cross every character but "/".
      const chars = ['a', 'b', '.', '-', '/', '\n', '\r', '\u2028', '\u00e9', '\u{1F600}', '[', '+', '$']
      const parts = ['a', 'b', 'ab', '.x', '*', '*', '**', '?', '/', '/', '.', '+', '\n', '[a]']
      const word = (n: number) => Array.from({ length: Math.floor(next() * n) }, () => pick(chars)).join('')
      const pattern = () => {
        const body = Array.from({ length: 1 + Math.floor(next() * 7) }, () => pick(parts)).join('')
        return pick(['/', '/', '/', '', 'etc/', '/etc/', '/etc/a/']) + body + pick(['', '', '/'])
      }
      /** A path the pattern may match: each wildcard written out, sometimes wrongly. */
      const pathOf = (p: string) => (p.startsWith('/') ? '' : pick(['/', '/x/', '/etc/', ''])) + p.replace(/\*\*|\*|\?/g, (w) => (w === '**' ? word(6) : w === '*' ? word(4).replace(/\//g, 'a') : pick(['a', '/', '\n', '.']))).replace(/\/+$/, pick(['', '/']))
      let matched = 0
      let asked = 0
      for (let n = 0; n < 1500; n++) {
        const patterns = Array.from({ length: 1 + Math.floor(next() * 8) }, pattern)
        const plain = oneExpression(patterns)
        const fast = new PathPatterns(patterns)
        const paths = [...patterns.map(pathOf), ...patterns.map(pathOf), word(12), `/${word(10)}`, `/etc/${word(8)}`]
        for (const path of paths) {
          const expected = plain(path)
          assert.equal(fast.matches(path), expected, `${JSON.stringify(patterns)} ${JSON.stringify(path)}`)
          asked++
          if (expected) matched++
        }
      }
      assert.ok(matched > asked / 5 && matched < asked * 0.9, `${matched} of ${asked} paths matched`)
    })

    it('matches what one expression matched for the lists TwinSync keeps, over the paths of this machine\'s /etc (speed, session 45)', async () => {
      const { DEFAULT_SECRET_PATHS } = await import('../../plugins/files/src/secrets.js')
      const { DEFAULT_IGNORE, LEFTOVER_PATTERNS } = await import('../../plugins/files/src/ignore.js')
      const lists = [DEFAULT_SECRET_PATHS, DEFAULT_IGNORE, LEFTOVER_PATTERNS, [...DEFAULT_SECRET_PATHS, 'node_modules', '*.swp', 'cache/', '/srv/app/*.key', 'tmp/**']]
      const paths = everything('/etc').concat(DEFAULT_SECRET_PATHS.map((p) => p.replace(/\*\*?/g, 'x').replace(/\?/g, 'y')), ['/', '', '/root/.ssh/id_ed25519', '/home/a/.netrc', '/x.p12', '/a/x.p12', '/a/\n/x.p12', '/etc/ssl/private/\n'])
      let matched = 0
      for (const list of lists) {
        const plain = oneExpression(list)
        const fast = new PathPatterns(list)
        for (const path of paths) {
          assert.equal(fast.matches(path), plain(path), JSON.stringify(path))
          if (plain(path)) matched++
        }
      }
      assert.ok(matched > DEFAULT_SECRET_PATHS.length, `${matched} matched`)
    })
  })
})
