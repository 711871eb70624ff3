import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cliSandbox, type CliSandbox } from '../support/cli.js'

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

  describe('without git on PATH', () => {
    let path: string
    before(async () => {
      // Only node: twinsync itself starts, git is nowhere.
      const bin = join(cli.dir, 'bin-without-git')
      await mkdir(bin)
      await symlink(process.execPath, join(bin, 'node'))
      path = bin
      // A file the twin's index does not hold: only git can say what the twin holds. (An
      // unchanged twin is proved clean from .git without git, quick-status.ts, and then
      // `snapshot`, `plan` and `status` need no git at all.)
      await writeFile(join(cli.twinDir, 'notes.txt'), 'a person\'s note\n')
    })
    after(() => rm(join(cli.twinDir, 'notes.txt'), { force: true }))
    for (const args of [['history'], ['gc'], ['show', 'HEAD'], ['snapshot'], ['plan'], ['status'], ['label', 'HEAD', 'x']]) {
      it(`twinsync ${args.join(' ')} says GIT_MISSING`, async () => {
        const r = await twinsync(args, { PATH: path })
        assert.equal(r.code, 2, r.stdout + r.stderr)
        assert.match(r.stderr, /error \[GIT_MISSING\] git is not installed/)
        assert.match(r.stderr, /Next step: Install git/)
        noBug(r.stderr)
      })
    }
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
