import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SAFE_PATH } from '@twinsync/sdk'
import { requireRoot, requireTools, run } from '../bed/index.js'
import { cliSandbox, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()

/**
 * git's failures are named as git's: a damaged twin is REPO_DAMAGED, a machine without git is
 * GIT_MISSING, never "internal error … a bug in TwinSync" or "spawn git ENOENT".
 */
describe('git failures as coded errors', function () {
  this.timeout(120_000)
  let cli: CliSandbox
  let root: string
  const twinsync = (args: string[], env?: Record<string, string>) =>
    cli.twinsync([...args, '--root', root, '--repo', cli.twinDir], env === undefined ? {} : { env })
  const noBug = (out: string) => {
    assert.doesNotMatch(out, /internal error|bug in TwinSync|ENOENT|\n\s+at /)
  }

  before(async () => {
    cli = await cliSandbox()
    root = join(cli.dir, 'root')
    await mkdir(join(root, 'etc'), { recursive: true })
    await writeFile(join(root, 'etc/hostname'), 'testhost\n')
    const init = await twinsync(['snapshot', '--init'])
    assert.equal(init.code, 0, init.stderr)
  })
  after(() => cli?.cleanup())

  describe('without git where TwinSync looks for it', () => {
    let bin: string
    let hidden: string[]
    before(async () => {
      requireRoot('hiding git in a private mount namespace')
      requireTools('unshare', 'mount')
      // TwinSync looks for git in the distribution's folders first, whatever PATH says
      // (own-env.ts): git is hidden there by an empty tmpfs in a private mount namespace, and
      // node is bound into a folder of its own (it is in /usr/bin too).
      bin = join(cli.dir, 'bin-without-git')
      await mkdir(bin, { recursive: true })
      await writeFile(join(bin, 'node'), '')
      // /usr/bin last: its mount program runs the mounts before it.
      hidden = [...new Set(SAFE_PATH.split(':').map((f) => realpathSync(f)).filter((f) => existsSync(join(f, 'git'))))].sort((a, b) => Number(a === '/usr/bin') - Number(b === '/usr/bin'))
      // A file the twin's index does not hold: only git can say what the twin holds. (An
      // unchanged twin is proved clean from .git without git, quick-status.ts, and then
      // `snapshot`, `plan` and `status` need no git at all.)
      await writeFile(join(cli.twinDir, 'notes.txt'), 'a person\'s note\n')
    })
    after(() => rm(join(cli.twinDir, 'notes.txt'), { force: true }))
    /** twinsync with no git in SAFE_PATH's folders and only node on PATH; the mounts end with it. */
    const withoutGit = (args: string[]) => {
      const node = join(bin, 'node')
      const script = [`/usr/bin/mount --bind ${process.execPath} ${node}`, ...hidden.map((f) => `/usr/bin/mount -t tmpfs tmpfs ${f}`), `exec ${node} "$@"`].join(' && ')
      return run(['/usr/bin/unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sh', TWINSYNC_BIN, ...args, '--root', root, '--repo', cli.twinDir], {
        env: cli.env({ PATH: bin }),
        timeoutMs: 120_000,
      })
    }
    for (const args of [['history'], ['gc'], ['show', 'HEAD'], ['snapshot'], ['plan'], ['status'], ['label', 'HEAD', 'x']]) {
      it(`twinsync ${args.join(' ')} says GIT_MISSING`, async () => {
        const r = await withoutGit(args)
        assert.equal(r.code, 2, r.stdout + r.stderr)
        assert.match(r.stderr, /error \[GIT_MISSING\] git is not installed/)
        assert.match(r.stderr, /Next step: Install git/)
        noBug(r.stderr)
      })
    }
  })

  // Session 17: root's usual PATH has /usr/local first, where an approved plan can make files,
  // and a git hook or an apt/etckeeper hook runs TwinSync with GIT_DIR and GIT_INDEX_FILE set.
  describe('a git planted first on PATH, and a hook\'s GIT_DIR and GIT_INDEX_FILE', () => {
    it('the snapshot runs the distribution\'s git, commits to the twin, and leaves the other repository alone', async () => {
      const planted = join(cli.dir, 'planted')
      const log = join(cli.dir, 'planted.log')
      const other = join(cli.dir, 'other')
      await mkdir(planted, { recursive: true })
      await writeFile(join(planted, 'git'), `#!/bin/sh\necho "git $*" >> ${log}\nexec /usr/bin/git "$@"\n`, { mode: 0o755 })
      execFileSync('git', ['init', '--quiet', other])
      await writeFile(join(root, 'etc/planted-test'), 'a change\n')
      const before = git(cli.twinDir, 'rev-parse', 'HEAD')
      try {
        const r = await twinsync(['snapshot'], {
          PATH: `${planted}:${process.env.PATH ?? '/usr/bin:/bin'}`,
          GIT_DIR: join(other, '.git'),
          GIT_INDEX_FILE: join(other, '.git/index'),
          GIT_WORK_TREE: other,
        })
        assert.equal(r.code, 0, r.stdout + r.stderr)
      } finally {
        await rm(join(root, 'etc/planted-test'), { force: true })
      }
      assert.equal(git(cli.twinDir, 'rev-parse', 'HEAD^'), before, 'one commit, in the twin')
      assert.match(git(cli.twinDir, 'show', '--stat', 'HEAD'), /planted-test/)
      assert.equal(existsSync(log), false, 'the planted git never ran')
      assert.equal(existsSync(join(other, '.git/index')), false, "no index written in the other repository")
      assert.equal(execFileSync('find', [join(other, '.git/objects'), '-type', 'f'], { encoding: 'utf8' }), '', 'no object written there')
    })
  })

  describe('on a damaged twin (the HEAD commit object is gone)', () => {
    before(async () => {
      const head = git(cli.twinDir, 'rev-parse', 'HEAD')
      // The snapshot packed its objects (auto-pack.ts): made loose again, as they were before.
      const objects = join(cli.twinDir, '.git/objects')
      const packs = await readdir(join(objects, 'pack'))
      for (const name of packs.filter((n) => n.endsWith('.pack'))) {
        const pack = join(cli.dir, name)
        await rename(join(objects, 'pack', name), pack)
        const base = name.slice(0, -'.pack'.length)
        for (const other of packs.filter((n) => n.startsWith(`${base}.`) && n !== name)) await rm(join(objects, 'pack', other), { force: true })
        execFileSync('git', ['-C', cli.twinDir, 'unpack-objects', '-q'], { input: await readFile(pack) })
      }
      // Loose objects: remove the commit's file, as a disk fault or a bad copy would.
      assert.ok((await readdir(join(objects, head.slice(0, 2)))).includes(head.slice(2)), 'the commit is a loose object')
      await rm(join(objects, head.slice(0, 2), head.slice(2)), { force: true })
    })
    for (const args of [['history'], ['gc']]) {
      it(`twinsync ${args.join(' ')} says REPO_DAMAGED with git's words and a next step`, async () => {
        const r = await twinsync(args)
        assert.equal(r.code, 2, r.stdout + r.stderr)
        assert.match(r.stderr, /error \[REPO_DAMAGED\] The twin repository .* is damaged: fatal: bad object HEAD/)
        assert.match(r.stderr, /Next step: Check it with `git -C .* fsck`/)
        noBug(r.stderr)
      })
    }
    it('the same as JSON with --json', async () => {
      const r = await twinsync(['history', '--json'])
      assert.equal(r.code, 2)
      const { error } = JSON.parse(r.stdout) as { error: { code: string; details: { git: string } } }
      assert.equal(error.code, 'REPO_DAMAGED')
      assert.match(error.details.git, /bad object HEAD/)
    })
  })
})
