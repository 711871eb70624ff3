import { strict as assert } from 'node:assert'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { needsBashQuoting, quoteArg, visibleName, visibleText } from '../src/plan/command-text.js'
import { terminalLines, terminalText } from '../src/terminal-text.js'
import { aptHook, cronWord, execStartWord } from '../src/services/schedule.js'

// Arguments a twin's plan can hold: controls, bidi overrides and isolates, separators, the BOM,
// zero-width joiners, characters above U+FFFF (tag characters, emoji), a lone surrogate (a YAML or
// JSON escape can make one; Node passes it to a program as U+FFFD's bytes), and shell syntax.
const ARGS = [
  '',
  'plain',
  '/var/tmp/some cache',
  "it's",
  'back\\slash',
  '$(id) `id` ${HOME} !! %s *',
  'a\nb\tc\rd',
  '\x1b[2Kok\x07\x08\x7f',
  'c1 \x85 \x9b31m',
  'exe\u202eexe.doc \u2066iso\u2069 \u200e\u061c',
  'line\u2028para\u2029',
  '\ufeffbom \u200bzw \u00a0nbsp',
  'tag\u{e0041}\u{e0001}1 \u{e007f}',
  'emoji \u{1f600}',
  'zwj \u{1f469}\u200d\u{1f4bb}',
  'caf\u00e9 cafe\u0301',
  'lone \ud800 \udc00 end',
  'lone at end \ud83d',
  'astral then hex \u{e0041}abc',
  'hidden then hex \u202e41',
]

/** What `printf '%s\0'` prints for each argument as the shell reads the quoted forms. */
function throughShell(shell: string, args: readonly string[], locale: string): Buffer[] {
  const out = execFileSync(shell, ['-c', `printf '%s\\0' ${args.map(quoteArg).join(' ')}`], { env: { PATH: process.env.PATH, LC_ALL: locale }, stdio: ['ignore', 'pipe', 'pipe'] })
  const parts: Buffer[] = []
  let start = 0
  for (let i = out.indexOf(0); i !== -1; i = out.indexOf(0, start)) {
    parts.push(out.subarray(start, i))
    start = i + 1
  }
  assert.equal(start, out.length, 'nothing after the last argument')
  return parts
}

describe('quoteArg: the command shown is the command', () => {
  for (const locale of ['C.UTF-8', 'C']) {
    it(`bash reads every quoted argument back as its exact bytes (LC_ALL=${locale})`, () => {
      const got = throughShell('bash', ARGS, locale)
      assert.equal(got.length, ARGS.length, 'one argument per argument')
      ARGS.forEach((arg, i) => {
        assert.equal(got[i]?.toString('hex'), Buffer.from(arg, 'utf8').toString('hex'), `${JSON.stringify(arg)} quoted as ${quoteArg(arg)}`)
      })
    })
  }

  it('writes a character above U+FFFF and every hidden one as its bytes, never as \\u', () => {
    assert.equal(quoteArg('a\u{e0041}'), "$'a\\xf3\\xa0\\x81\\x81'")
    assert.equal(quoteArg('a\u202eb'), "$'a\\xe2\\x80\\xaeb'")
    assert.equal(quoteArg('x\ud800'), "$'x\\xef\\xbf\\xbd'", 'a lone surrogate as what runs in its place')
    assert.equal(quoteArg('emoji \u{1f600}'), "'emoji \u{1f600}'", 'a visible character stays itself')
  })

  it('sh (dash) reads back every argument quoteArg writes without bash syntax', () => {
    const plain = ARGS.filter((a) => !needsBashQuoting(a))
    assert.ok(plain.length >= 6 && plain.length < ARGS.length)
    for (const arg of plain) assert.ok(!quoteArg(arg).startsWith("$'"), arg)
    for (const arg of ARGS.filter(needsBashQuoting)) assert.ok(quoteArg(arg).startsWith("$'"), arg)
    for (const locale of ['C.UTF-8', 'C']) {
      const got = throughShell('sh', plain, locale)
      plain.forEach((arg, i) => assert.equal(got[i]?.toString('hex'), Buffer.from(arg, 'utf8').toString('hex'), arg))
    }
  })

  it('refuses a schedule path only bash could carry (the apt hook and cron lines are /bin/sh)', () => {
    for (const repo of ['/srv/twin\u202e', '/srv/tw\u2028in', '/srv/t\u0085win', '/srv/twin\ud800', '/srv/twin\n']) {
      assert.throws(
        () => aptHook({ root: '/', node: '/usr/bin/node', entry: '/usr/lib/twinsync/bin/run.js', repo }),
        (e: unknown) => isTwinSyncError(e) && e.code === 'USAGE' && /schedule line/.test(e.message),
        JSON.stringify(repo),
      )
    }
    assert.ok(aptHook({ root: '/', node: '/usr/bin/node', entry: '/usr/lib/twinsync/bin/run.js', repo: '/srv/tw in \u{1f600}' }).includes("--repo '/srv/tw in \u{1f600}'"))
  })
})

describe('schedule lines: cron\'s % and systemd\'s ExecStart= are no shell', () => {
  it('cron: every % escaped (cron makes an unescaped one a newline), a backslash before % refused', () => {
    assert.equal(cronWord('/srv/twin%1'), '/srv/twin\\%1')
    assert.equal(cronWord("/srv/Bob's %h"), "'/srv/Bob'\\''s \\%h'")
    assert.equal(cronWord('/srv/plain'), '/srv/plain')
    assert.throws(() => cronWord('/srv/a\\%b'), (e: unknown) => isTwinSyncError(e) && e.code === 'USAGE' && /backslash before a %/.test(e.message))
    assert.throws(() => cronWord('/srv/a\nb'), (e: unknown) => isTwinSyncError(e) && e.code === 'USAGE')
  })

  it('systemd: a plain word bare, any other double-quoted with \\\\, \\", $$ and %%; controls refused', () => {
    assert.equal(execStartWord('/usr/bin/node'), '/usr/bin/node')
    assert.equal(execStartWord('--if-changed'), '--if-changed')
    assert.equal(execStartWord('/var/lib/odd %b $HOME ${X} "q" \'q\' a\\nb'), '"/var/lib/odd %%b $$HOME $${X} \\"q\\" \'q\' a\\\\nb"')
    assert.equal(execStartWord('/srv/a%b'), '"/srv/a%%b"', 'a % is no plain word here, though the shell\'s quoting leaves it bare')
    assert.throws(() => execStartWord('/srv/\u202eb'), (e: unknown) => isTwinSyncError(e) && e.code === 'USAGE')
  })
})

describe('visibleText and visibleName: the one render rule (terminal-text.ts)', () => {
  it('spell out exactly what terminalLines does, in its spelling, above U+FFFF too', () => {
    for (const text of ARGS) assert.equal(visibleText(text), terminalLines(text), JSON.stringify(text))
    assert.equal(visibleText('tag\u{e0041}1\n'), 'tag\\u{e0041}1\n')
  })

  it('a name: what terminalText spells out, and look-alikes in the same spelling', () => {
    // A name with no look-alike (no-break space, combining mark, space at the end) is shown as terminalText shows it.
    const plain = ARGS.filter((a) => !/[\u00a0\p{M}]| $/u.test(a))
    assert.ok(plain.length > 10)
    for (const text of plain) assert.equal(visibleName(text), terminalText(text), JSON.stringify(text))
    assert.equal(visibleName('x\u{e0041}\u{1d165} cafe\u0301\u00a0 '), 'x\\u{e0041}\\u{1d165} cafe\\u0301\\xa0\\x20')
  })
})

describe('the apt hook line takes no configuration, data folder or node code from apt\'s environment', () => {
  it('under `sudo -E apt`, node runs with root\'s HOME and without TWINSYNC_CONFIG, the data folder\'s or NODE_OPTIONS', async () => {
    // Session 47: apt passes its caller's environment to the hook; under `sudo -E` that is a
    // person's, so the hook's snapshot read their configuration and plugin folder (as root) and
    // wrote into their twin. A stand-in `node` records the environment the real line gives it.
    const dir = await mkdtemp(join(tmpdir(), 'twinsync-apthook-'))
    try {
      const node = join(dir, 'node')
      const seen = join(dir, 'env.json')
      await writeFile(node, `#!/bin/sh\nexec /usr/bin/env > '${seen}'\n`, { mode: 0o755 })
      await mkdir(join(dir, 'etc'))
      await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/var/root-home:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n')
      const hook = aptHook({ root: dir, node, entry: '/usr/lib/twinsync/bin/run.js', repo: '/srv/twin' })
      const line = JSON.parse(/DPkg::Pre-Invoke \{ (".*"); \};/.exec(hook)?.[1] ?? '""') as string
      const person = {
        PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/home/bob', LANG: 'C.UTF-8', TWINSYNC_CONFIG: '/home/bob/.config/twinsync/config.yaml',
        TWINSYNC_DATA_DIR: '/home/bob/.local/share/twinsync', XDG_DATA_HOME: '/home/bob/.local/share', XDG_CONFIG_HOME: '/home/bob/.config',
        NODE_OPTIONS: '--require /home/bob/x.js', NODE_PATH: '/home/bob/lib', https_proxy: 'http://proxy:3128',
        GIT_SSH_COMMAND: '/home/bob/bin/ssh-wrapper', GIT_SSL_NO_VERIFY: '1', NODE_EXTRA_CA_CERTS: '/home/bob/ca.pem',
      }
      const r = spawnSync('/bin/sh', ['-c', line], { env: person, encoding: 'utf8' })
      assert.equal(r.status, 0, r.stderr)
      const env = new Map((await readFile(seen, 'utf8')).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const))
      assert.equal(env.get('HOME'), '/var/root-home')
      for (const name of ['TWINSYNC_CONFIG', 'TWINSYNC_DATA_DIR', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'NODE_OPTIONS', 'NODE_PATH', 'GIT_SSH_COMMAND', 'GIT_SSL_NO_VERIFY', 'NODE_EXTRA_CA_CERTS']) assert.equal(env.get(name), undefined, name)
      assert.equal(env.get('https_proxy'), 'http://proxy:3128', 'what reaches a mirror is kept')
      assert.equal(env.get('LANG'), 'C.UTF-8')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
