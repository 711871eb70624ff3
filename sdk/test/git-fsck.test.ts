import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fsckJudgedKind, gitFsckRefusal } from '../src/git-names.js'

/**
 * Session 45: a machine's own `.gitmodules` or `.gitattributes` is mirrored under filesystem/,
 * and git's fsck judges such a blob wherever it lies in a tree: one it refuses made a mirror
 * with receive.fsckObjects (GitHub) reject that push and every later one. gitFsckRefusal says
 * which to hold out; each verdict here is compared with the host's own git fsck of a commit
 * holding the file in a subfolder (the files provider's filesystem/etc/x/).
 */
describe('gitFsckRefusal: the .gitmodules and .gitattributes git fsck refuses', function () {
  this.timeout(60_000)
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'git-fsck-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  /** Whether the host's git fsck refuses a commit holding `text` as filesystem/etc/x/NAME. */
  const gitRefuses = (name: string, text: string): boolean => {
    const repo = mkdtempSync(join(dir, 'r-'))
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { stdio: 'pipe' })
    git('init', '-q')
    mkdirSync(join(repo, 'filesystem/etc/x'), { recursive: true })
    writeFileSync(join(repo, 'filesystem/etc/x', name), text)
    git('add', '-A')
    git('commit', '-qm', 'one')
    try {
      git('fsck', '--no-dangling')
      return false
    } catch {
      return true
    }
  }

  const refused: Array<[string, string, RegExp]> = [
    ['.gitmodules', '[submodule "../../x"]\n\tpath = a\n\turl = https://example.com/x\n', /a submodule name "\.\.\/\.\.\/x", empty or with a \.\. part \(gitmodulesName\)/],
    ['.gitmodules', '[submodule "u"]\n\tpath = a\n\turl = -u./payload\n', /a submodule url beginning with - \(gitmodulesUrl\): "-u\.\/payload"/],
    ['.gitmodules', '[submodule "p"]\n\tpath = -a\n\turl = https://example.com/x\n', /a submodule path beginning with - \(gitmodulesPath\)/],
    ['.gitmodules', '[submodule "c"]\n\tpath = a\n\turl = https://example.com/x\n\tupdate = !rm -rf /\n', /a submodule update command \(gitmodulesUpdate\)/],
    ['.gitmodules', '[submodule "n"]\n\turl = http://example.com/%0ax\n', /the url "http:\/\/example\.com\/%0ax" \(git decodes its %-escapes\)/],
    ['.gitmodules', '[submodule "r"]\n\turl = ../../:x\n', /a relative submodule url climbing out to ":"/],
    ['.gitmodules', '[submodule "h"]\n\turl = http:///x\n', /a submodule url with no host git reads/],
    ['.GITMODULES', '[submodule "../x"]\n\tpath = a\n\turl = https://example.com/x\n', /gitmodulesName/],
    ['.gitattributes', `${'a'.repeat(3000)} text\n`, /a \.gitattributes line of 3005 bytes, 2,048 or more \(gitattributesLineLength\)/],
    ['.gitattributes', `${'é'.repeat(1100)} text\n`, /a \.gitattributes line of 2205 bytes/],
  ]
  const accepted: Array<[string, string]> = [
    ['.gitmodules', '[submodule "pack/start/plenary"]\n\tpath = pack/start/plenary\n\turl = https://github.com/nvim-lua/plenary.nvim\n\tbranch = master\n'],
    ['.gitmodules', '# plugins\n[submodule "a"]\n  path = a\n  url = git@github.com:a/b.git ; a comment\n[submodule "b"]\n\tpath=b\n\turl=../b.git\n\tupdate = rebase\n'],
    ['.gitmodules', '\ufeff[submodule "c"]\r\n\tpath = c\r\n\turl = ssh://git@example.com:22/c\r\n'],
    ['.gitmodules', '[core]\n\tbare = false\n'],
    ['.gitattributes', '* text=auto eol=lf\n*.png binary\n*.sh filter=lfs diff=lfs merge=lfs -text\n'],
    ['.gitattributes', `${'a'.repeat(2040)} text\n`],
    ['.gitignore', '[submodule "../x"]\n\turl = -u./payload\n'],
  ]

  for (const [name, text, said] of refused) {
    it(`holds out ${name} that git's fsck refuses: ${said.source.replace(/\\/g, "").slice(0, 70)}`, () => {
      assert.match(gitFsckRefusal(name, text) ?? '', said)
      assert.equal(gitRefuses(name, text), true, 'the host git refuses it too')
    })
  }

  it('lets through what git fsck accepts (a plugin manager\'s .gitmodules, comments, CRLF, a BOM, attributes lines under 2,048 bytes, another name)', () => {
    for (const [name, text] of accepted) {
      assert.equal(gitFsckRefusal(name, text), undefined, `${name}: ${JSON.stringify(text.slice(0, 60))}`)
      assert.equal(gitRefuses(name, text), false, `${name}: the host git accepts it`)
    }
  })

  it('holds out what it does not read as git does (quotes, escapes, a line that is no key = value), which git may refuse', () => {
    assert.match(gitFsckRefusal('.gitmodules', '[submodule "q"]\n\turl = "-u./payload"\n') ?? '', /which TwinSync does not read as git does/)
    assert.equal(gitRefuses('.gitmodules', '[submodule "q"]\n\turl = "-u./payload"\n'), true, 'a quoted value is read without its quotes')
    assert.match(gitFsckRefusal('.gitmodules', '[submodule "q"]\n\turl = \\\n-u./payload\n') ?? '', /which TwinSync does not read as git does/)
    assert.match(gitFsckRefusal('.gitmodules', '[submodule.x]\n\turl = -x\n') ?? '', /which TwinSync does not read as git does/)
  })

  it("names git's spellings: case, trailing dots and spaces, NTFS short names, HFS+'s ignored characters", () => {
    for (const name of ['.gitmodules', '.GitModules', '.gitmodules.', '.gitmodules ', 'gitmod~1', 'GI7EBA~1', '.git\u200cmodules']) assert.equal(fsckJudgedKind(name), 'gitmodules', name)
    for (const name of ['.gitattributes', '.GITATTRIBUTES', 'gitatt~2', 'gi7d29~1']) assert.equal(fsckJudgedKind(name), 'gitattributes', name)
    for (const name of ['.gitignore', 'gitmodules', '.gitmodules.bak', 'x.gitmodules']) assert.equal(fsckJudgedKind(name), undefined, name)
  })
})
