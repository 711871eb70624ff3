import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SAFE_PATH, isTwinSyncError, setOwnPathForTests } from '@twinsync/sdk'
import { finishInterruptedForget, forgetInHistory, twinPathOf } from '../src/history/forget.js'
import { FORGET_RECORD, refuseUnfinishedForget } from '../src/history/forget-record.js'

const git = (dir: string, ...args: string[]): string =>
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@x', '-c', 'tag.gpgSign=false', ...args], { encoding: 'utf8' })

function commitFiles(dir: string, files: Record<string, string>, message: string): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  git(dir, 'add', '-A')
  git(dir, 'commit', '--quiet', '-m', message)
}

const everything = (dir: string): string => git(dir, 'cat-file', '--batch-all-objects', '--batch')

describe('forget: taking secrets out of the whole history', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-forget-'))
    git(dir, 'init', '--quiet', '--initial-branch=main')
    commitFiles(dir, { 'twin.json': '{}\n', 'filesystem/etc/hosts': '127.0.0.1 localhost\n' }, 'first')
    commitFiles(dir, { 'filesystem/etc/app/db.conf': 'password = Qw3rtyUi0p\n', 'system/logs/syslog.txt': 'app[1]: login password=Zx9cVbNm1 ok\n' }, 'second')
    git(dir, 'tag', 'before-upgrade')
    commitFiles(dir, { 'filesystem/etc/hosts': '127.0.0.1 localhost web\n' }, 'third')
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('maps a machine path to its mirrored copy and keeps twin paths', () => {
    assert.equal(twinPathOf('/etc/app/db.conf'), 'filesystem/etc/app/db.conf')
    assert.equal(twinPathOf('system/logs/syslog.txt'), 'system/logs/syslog.txt')
  })

  it('removes a path from every commit, keeps messages and moves labels', async () => {
    // TwinSync's own refs: the last snapshot, and a pending intent committed on top of it.
    git(dir, 'update-ref', 'refs/twinsync/observed', 'HEAD')
    writeFileSync(join(dir, 'filesystem/etc/app/db.conf'), 'password = Qw3rtyUi0p-intended\n')
    git(dir, 'add', '-A')
    const intended = execFileSync('git', ['-C', dir, 'commit-tree', git(dir, 'write-tree').trim(), '-p', 'HEAD', '-m', 'intent'], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } }).trim()
    git(dir, 'update-ref', 'refs/twinsync/intended', intended)
    git(dir, 'reset', '--quiet', '--hard', 'HEAD')
    const report = await forgetInHistory(dir, { paths: ['/etc/app/'], rules: [] })
    assert.deepEqual(report.removed, ['filesystem/etc/app/db.conf'])
    assert.equal(report.rewritten, 3, 'second, third and the intent')
    assert.ok(!everything(dir).includes('Qw3rtyUi0p'))
    assert.deepEqual(git(dir, 'log', '--format=%s').trim().split('\n'), ['third', 'second', 'first'])
    assert.equal(git(dir, 'rev-parse', 'before-upgrade^{commit}'), git(dir, 'rev-parse', 'HEAD~1'))
    assert.equal(git(dir, 'status', '--porcelain'), '')
    assert.equal(git(dir, 'rev-parse', 'refs/twinsync/observed'), git(dir, 'rev-parse', 'HEAD'))
    assert.equal(git(dir, 'rev-parse', 'refs/twinsync/intended~1'), git(dir, 'rev-parse', 'HEAD'))
  })

  it('moves the branch, its own refs and the labels together or not at all: a ref it cannot move leaves every one where it was', async () => {
    git(dir, 'update-ref', 'refs/twinsync/observed', 'HEAD')
    const before = git(dir, 'for-each-ref', '--format=%(refname) %(objectname)')
    // A lock another git holds on one of them (git gc packing refs, a killed git).
    writeFileSync(join(dir, '.git/refs/twinsync/observed.lock'), '')
    await assert.rejects(forgetInHistory(dir, { paths: ['/etc/app/'], rules: [] }), /observed/)
    assert.equal(git(dir, 'for-each-ref', '--format=%(refname) %(objectname)'), before, 'the branch and the label not moved without observed')
    rmSync(join(dir, '.git/refs/twinsync/observed.lock'))
    await forgetInHistory(dir, { paths: ['/etc/app/'], rules: [] })
    assert.equal(git(dir, 'rev-parse', 'refs/twinsync/observed'), git(dir, 'rev-parse', 'HEAD'))
    assert.equal(git(dir, 'rev-parse', 'before-upgrade'), git(dir, 'rev-parse', 'HEAD~1'), 'a label moved in the same transaction')
    assert.ok(!everything(dir).includes('Qw3rtyUi0p'))
  })

  it('forgets every finding of a rule: mirrored files go whole, other documents keep their lines redacted', async () => {
    const report = await forgetInHistory(dir, { paths: [], rules: ['credential-assignment'] })
    assert.deepEqual(report.removed, ['filesystem/etc/app/db.conf'])
    assert.deepEqual(report.redacted, ['system/logs/syslog.txt'])
    const all = everything(dir)
    assert.ok(!all.includes('Qw3rtyUi0p') && !all.includes('Zx9cVbNm1'))
    assert.equal(git(dir, 'show', 'HEAD:system/logs/syslog.txt'), 'app[1]: login password=<redacted> ok\n')
    assert.equal(git(dir, 'show', 'HEAD:filesystem/etc/hosts'), '127.0.0.1 localhost web\n')
  })

  it('refuses when nothing matches, and changes nothing', async () => {
    const head = git(dir, 'rev-parse', 'HEAD')
    await assert.rejects(forgetInHistory(dir, { paths: ['/etc/none'], rules: ['jwt'] }), /FORGET_NOTHING|Nothing to forget/)
    assert.equal(git(dir, 'rev-parse', 'HEAD'), head)
  })

  // Session 17: a forget stopped after its refs moved left what it forgot in the working twin.
  it('stopped after the refs moved: the twin is refused until finished; finishing brings the files to the rewritten branch and keeps a person\'s other edit', async () => {
    // Once the refs moved, the index is locked: the working twin cannot follow, as after a kill there.
    // (TwinSync's git runs no hooks, own-env.ts: a wrapper before the system's git locks it after the refs' update-ref.)
    const bin = mkdtempSync(join(tmpdir(), 'twinsync-forget-bin-'))
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
    writeFileSync(join(bin, 'git'), `#!/bin/sh\n${real} "$@"\nrc=$?\ncase " $* " in *" update-ref "*) [ $rc -eq 0 ] && touch '${join(dir, '.git/index.lock')}';; esac\nexit $rc\n`, { mode: 0o755 })
    setOwnPathForTests(`${bin}:${SAFE_PATH}`)
    try {
      await assert.rejects(forgetInHistory(dir, { paths: [], rules: ['credential-assignment'] }), (e: unknown) => isTwinSyncError(e) && e.code === 'FORGET_UNFINISHED')
    } finally {
      setOwnPathForTests(undefined)
      rmSync(bin, { recursive: true, force: true })
    }
    rmSync(join(dir, '.git/index.lock'))
    assert.equal(readFileSync(join(dir, 'filesystem/etc/app/db.conf'), 'utf8'), 'password = Qw3rtyUi0p\n', 'left behind')
    assert.throws(() => refuseUnfinishedForget(dir), (e: unknown) => isTwinSyncError(e) && e.code === 'FORGET_UNFINISHED')
    writeFileSync(join(dir, 'filesystem/etc/hosts'), 'edited meanwhile\n')
    const report = await finishInterruptedForget(dir)
    assert.deepEqual(report?.removed, ['filesystem/etc/app/db.conf'])
    assert.equal(existsSync(join(dir, 'filesystem/etc/app/db.conf')), false)
    assert.equal(readFileSync(join(dir, 'system/logs/syslog.txt'), 'utf8'), 'app[1]: login password=<redacted> ok\n')
    assert.equal(readFileSync(join(dir, 'filesystem/etc/hosts'), 'utf8'), 'edited meanwhile\n')
    assert.equal(git(dir, 'status', '--porcelain'), ' M filesystem/etc/hosts\n')
    const all = everything(dir)
    assert.ok(!all.includes('Qw3rtyUi0p') && !all.includes('Zx9cVbNm1'))
    assert.doesNotThrow(() => refuseUnfinishedForget(dir))
    assert.equal(await finishInterruptedForget(dir), undefined)
  })

  // Session 19: an annotated tag (a person's `git tag -a`) was moved by `git tag -f` after the
  // transaction: killed between, it stayed on the old chain, which a rerun never moved and gc
  // never pruned, so what was forgotten stayed in the twin (and went with the tags to the mirror).
  it('moves an annotated tag in the same transaction: killed where `git tag -f` ran, the rerun leaves nothing of the old chain', async () => {
    git(dir, 'tag', '-a', 'release', '-m', 'release notes', 'HEAD~1')
    const bin = mkdtempSync(join(tmpdir(), 'twinsync-forget-bin-'))
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
    // Killed where the tag would move: a `git tag` is the process that dies (exit 137), after the refs' transaction.
    writeFileSync(join(bin, 'git'), `#!/bin/sh\ncase " $* " in *" tag -f "*) exit 137;; esac\nexec ${real} "$@"\n`, { mode: 0o755 })
    setOwnPathForTests(`${bin}:${SAFE_PATH}`)
    try {
      await forgetInHistory(dir, { paths: ['/etc/app/'], rules: [] }).catch(() => undefined)
    } finally {
      setOwnPathForTests(undefined)
      rmSync(bin, { recursive: true, force: true })
    }
    await finishInterruptedForget(dir)
    assert.equal(git(dir, 'cat-file', '-t', 'release').trim(), 'tag', 'still an annotated tag')
    assert.equal(git(dir, 'rev-parse', 'release^{commit}'), git(dir, 'rev-parse', 'HEAD~1'), 'the tag moved with its snapshot')
    assert.match(git(dir, 'cat-file', 'tag', 'release'), /\ntag release\n[\s\S]*\n\nrelease notes\n$/, 'its name and message kept')
    assert.ok(!everything(dir).includes('Qw3rtyUi0p'), 'nothing of the old chain is left')
  })

  it('stopped before the refs moved (one transaction): finishing only drops the record', async () => {
    const head = git(dir, 'rev-parse', 'HEAD')
    mkdirSync(join(dir, '.git/twinsync'), { recursive: true })
    writeFileSync(join(dir, FORGET_RECORD), JSON.stringify({ version: 1, head: '0'.repeat(40), removed: ['filesystem/etc/hosts'], redacted: [], rewritten: 1, commits: 3 }))
    assert.equal(await finishInterruptedForget(dir), undefined)
    assert.equal(existsSync(join(dir, FORGET_RECORD)), false)
    assert.equal(git(dir, 'rev-parse', 'HEAD'), head)
    assert.equal(readFileSync(join(dir, 'filesystem/etc/hosts'), 'utf8'), '127.0.0.1 localhost web\n')
  })
})
