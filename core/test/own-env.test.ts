import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SAFE_PATH, ownEnv, ownPath, setOwnPathForTests } from '@twinsync/sdk'
import { runGitWithToken } from '../src/remote/git-transport.js'
import { REMOTE_NAME } from '../src/remote/remote-settings.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { enableSchedule, disableSchedule } from '../src/services/schedule.js'
import { forgetCruftAnswer, hasCruftPacks } from '../src/twin/auto-pack.js'
import { readBlobs, runGit, runGitBytes, SimpleGitClient } from '../src/twin/git.js'
import { notesProvider } from './support/notes-provider.js'
import { unitRig } from './support/unit-container.js'

const REAL_PATH = process.env.PATH
const sh = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: dir } }).trim()

/** Run `body` with these variables in this process's environment, as TwinSync is started with them (the environments built again). */
async function startedWith<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  Object.assign(process.env, vars)
  setOwnPathForTests(undefined)
  try {
    return await body()
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    setOwnPathForTests(undefined)
  }
}

/** A program that writes its name and arguments to `log` and exits 0, printing what a filter or textconv would. */
function recorder(log: string): string {
  return `#!/bin/sh\necho "$0 $*" >> ${log}\nif [ $# -eq 0 ]; then cat; elif [ -f "$1" ]; then cat "$1"; fi\nexit 0\n`
}

const ran = (log: string) => readFile(log, 'utf8').then((t) => t.split('\n').filter(Boolean), () => [] as string[])

/**
 * Session 17: TwinSync's own git, systemctl and dpkg-query are the distribution's, run with an
 * environment whose GIT_* variables are TwinSync's own, and the twin's git reads no system-wide
 * configuration (@twinsync/sdk own-env.ts, core/src/twin/git.ts BASE_CONFIG).
 */
describe("TwinSync's own programs and their environment (own-env.ts)", function () {
  this.timeout(60_000)
  let dir: string
  let bin: string
  let log: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-own-env-'))
    bin = join(dir, 'bin')
    log = join(dir, 'ran.log')
    await mkdir(bin)
    // Programs an approved plan could have made in /usr/local/bin, first on root's usual PATH.
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()
    await writeFile(join(bin, 'git'), `#!/bin/sh\necho "git $*" >> ${log}\nexec ${real} "$@"\n`, { mode: 0o755 })
    await writeFile(join(bin, 'systemctl'), `#!/bin/sh\necho "systemctl $*" >> ${log}\nexit 0\n`, { mode: 0o755 })
  })
  after(() => rm(dir, { recursive: true, force: true }))
  afterEach(() => rm(log, { force: true }))

  it('the PATH: the distribution\'s folders first, /usr/local after them, then the caller\'s other absolute folders (never a relative one)', () => {
    assert.equal(ownPath('/usr/local/bin:/usr/bin:/opt/git/bin:.::bin:/usr/bin/'), `${SAFE_PATH}:/opt/git/bin`)
    assert.equal(ownPath(undefined), SAFE_PATH)
  })

  it('a git and a systemctl first on the invoking PATH never run: a snapshot, git\'s other ways in, the schedule', async () => {
    const rig = await unitRig([notesProvider('notes')])
    try {
      await startedWith({ PATH: `${bin}:${REAL_PATH}` }, async () => {
        assert.equal(ownEnv().PATH?.split(':')[0], '/usr/sbin')
        await writeFile(join(rig.root, 'etc/notes'), 'first\n')
        await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
        assert.notEqual((await rig.container.resolve(SnapshotService).snapshot()).commit, undefined)
        await writeFile(join(rig.root, 'etc/notes'), 'second\n')
        assert.notEqual((await rig.container.resolve(SnapshotService).snapshot()).commit, undefined)
        // Each way git is started: the plain spawn, simple-git (what reaches a remote), the batch reader, bytes in and out.
        const client = new SimpleGitClient(rig.twinDir)
        assert.deepEqual(await client.dirtyPaths(), [])
        await runGit(rig.twinDir, ['remote', '-v'])
        const blob = sh(rig.twinDir, 'rev-parse', 'HEAD:system/notes.json')
        assert.equal((await readBlobs(rig.twinDir, [blob])).size, 1)
        assert.match((await runGitBytes(rig.twinDir, ['version'])).toString(), /git version/)
        forgetCruftAnswer()
        await rm(join(rig.twinDir, '.git/twinsync/cache/git-version.json'), { force: true })
        await hasCruftPacks(rig.twinDir)
        assert.match(await readFile(join(rig.twinDir, '.git/twinsync/cache/git-version.json'), 'utf8'), /"binary":"\/usr\/(?:s?bin)\/git:/, 'the git asked is the one the cache names')
        // The schedule's systemctl, on a target root with systemd.
        const target = join(rig.dir, 'target')
        await mkdir(join(target, 'usr/lib/systemd'), { recursive: true })
        await writeFile(join(target, 'usr/lib/systemd/systemd'), '')
        await enableSchedule({ root: target, node: '/usr/bin/node', entry: '/usr/lib/twinsync/run.js' }, '1h')
        await disableSchedule({ root: target })
      })
      forgetCruftAnswer()
      assert.deepEqual(await ran(log), [], 'none of the planted programs ran')
      // The wrapper itself works: the same git through it is recorded.
      execFileSync(join(bin, 'git'), ['--version'])
      assert.deepEqual(await ran(log), ['git --version'])
    } finally {
      await rig.cleanup()
    }
  })

  it('run from a hook (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY set): the snapshot is written to the twin, the other repository is untouched', async () => {
    const rig = await unitRig([notesProvider('notes')])
    const other = join(rig.dir, 'other')
    execFileSync('git', ['init', '--quiet', other])
    await writeFile(join(other, 'kept.txt'), 'kept\n')
    sh(other, 'add', 'kept.txt')
    const objects = () => execFileSync('find', [join(other, '.git/objects'), '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()
    const before = { objects: objects(), index: await readFile(join(other, '.git/index')) }
    try {
      await startedWith(
        { GIT_DIR: join(other, '.git'), GIT_WORK_TREE: other, GIT_INDEX_FILE: join(other, '.git/index'), GIT_OBJECT_DIRECTORY: join(other, '.git/objects'), GIT_AUTHOR_NAME: 'hook', GIT_CONFIG_PARAMETERS: "'core.bare'='true'" },
        async () => {
          await writeFile(join(rig.root, 'etc/notes'), 'first\n')
          await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
          assert.notEqual((await rig.container.resolve(SnapshotService).snapshot()).commit, undefined)
          await writeFile(join(rig.root, 'etc/notes'), 'second\n')
          const second = await rig.container.resolve(SnapshotService).snapshot()
          assert.notEqual(second.commit, undefined)
          assert.deepEqual(await new SimpleGitClient(rig.twinDir).dirtyPaths(), [])
        },
      )
      assert.equal(JSON.parse(sh(rig.twinDir, 'show', 'HEAD:system/notes.json')).text, 'second\n')
      assert.equal(sh(rig.twinDir, 'log', '-1', '--format=%an'), 'TwinSync')
      sh(rig.twinDir, 'fsck', '--strict', '--no-progress')
      assert.equal(sh(rig.twinDir, 'status', '--porcelain'), '')
      assert.deepEqual(objects(), before.objects, 'no object written into the other repository')
      assert.deepEqual(await readFile(join(other, '.git/index')), before.index, "the other repository's index untouched")
    } finally {
      await rig.cleanup()
    }
  })

  describe('commands a configuration names never run', () => {
    let repo: string
    let planted: string
    let hooks: string
    let record: string
    before(async () => {
      repo = join(dir, 'repo')
      hooks = join(dir, 'hooks')
      record = join(dir, 'record')
      planted = join(dir, 'planted.gitconfig')
      execFileSync('git', ['init', '--quiet', '--initial-branch=main', repo])
      await mkdir(hooks)
      await writeFile(record, recorder(log), { mode: 0o755 })
      for (const hook of ['post-commit', 'reference-transaction', 'post-index-change', 'post-checkout', 'pre-commit', 'pre-push']) {
        await writeFile(join(hooks, hook), recorder(log), { mode: 0o755 })
      }
      // What an approved twin change could write to /etc/gitconfig (and a mirror to the twin's .gitattributes).
      await writeFile(
        planted,
        `[core]\n\tfsmonitor = ${record}\n\thooksPath = ${hooks}\n\tpager = ${record}\n[diff]\n\texternal = ${record}\n[filter "planted"]\n\tclean = ${record}\n\tsmudge = ${record}\n[diff "planted"]\n\ttextconv = ${record}\n`,
      )
      await writeFile(join(repo, '.gitattributes'), '* filter=planted diff=planted\n')
      await writeFile(join(repo, 'a.txt'), 'one\n')
      sh(repo, 'add', '.')
      sh(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'one')
    })

    it('a planted system configuration (/etc/gitconfig, here GIT_CONFIG_SYSTEM): fsmonitor, hooks, filters, diff and pager commands in the twin\'s own git runs', async () => {
      const env = { GIT_CONFIG_SYSTEM: planted }
      const client = new SimpleGitClient(repo)
      await writeFile(join(repo, 'a.txt'), 'two\n')
      await runGit(repo, ['add', '--all', '--force', '--', '.'], { env })
      await runGit(repo, ['status', '--porcelain=v1', '-z'], { env })
      await runGit(repo, ['diff', '--cached', '--name-status', '-z', 'HEAD'], { env })
      await runGit(repo, ['-c', 'maintenance.auto=false', 'commit', '--quiet', '--no-verify', '-m', 'two'], { env })
      await runGit(repo, ['show', 'HEAD'], { env })
      await runGit(repo, ['diff', 'HEAD~1', 'HEAD'], { env })
      await runGit(repo, ['log', '-p', '-1'], { env })
      await runGit(repo, ['checkout', 'HEAD~1', '--', 'a.txt'], { env })
      await runGit(repo, ['checkout', 'HEAD', '--', 'a.txt'], { env })
      await runGitBytes(repo, ['update-index', '--refresh'], { env })
      await runGitBytes(repo, ['update-ref', 'refs/heads/copy', 'HEAD'], { env })
      assert.deepEqual(await client.dirtyPaths(), [])
      assert.deepEqual(await ran(log), [])
      // The planted configuration does run them when git reads it (the test's own proof).
      execFileSync('git', ['-C', repo, 'status'], { stdio: 'ignore', env: { PATH: '/usr/bin:/bin', HOME: dir, GIT_CONFIG_SYSTEM: planted } })
      assert.notDeepEqual(await ran(log), [], 'git alone runs the planted fsmonitor')
    })

    it("~/.gitconfig and ~/.config/git (in the files provider's scope too): no command of theirs runs, no attribute of theirs changes the bytes stored", async () => {
      const home = join(dir, 'home')
      await mkdir(join(home, '.config/git'), { recursive: true })
      const planted = await readFile(join(dir, 'planted.gitconfig'), 'utf8')
      await writeFile(join(home, '.gitconfig'), `${planted}[core]\n\tsshCommand = ${record}\n`)
      await writeFile(join(home, '.config/git/attributes'), '* text eol=crlf\n')
      await writeFile(join(home, '.config/git/ignore'), 'b.txt\n')
      await startedWith({ HOME: home }, async () => {
        await writeFile(join(repo, 'a.txt'), 'three\nlines\n')
        await writeFile(join(repo, 'b.txt'), 'b\n')
        const client = new SimpleGitClient(repo)
        assert.deepEqual((await client.dirtyPaths()).sort(), ['a.txt', 'b.txt'], 'b.txt is not ignored')
        await client.addAll()
        await client.commit('three')
        await runGit(repo, ['show', 'HEAD'])
        await runGit(repo, ['checkout', 'HEAD~1', '--', 'a.txt'])
        await runGit(repo, ['checkout', 'HEAD', '--', 'a.txt'])
        assert.deepEqual(await client.dirtyPaths(), [])
        // core.sshCommand, through simple-git: a fetch over ssh from a port nothing listens on.
        await runGit(repo, ['fetch', 'ssh://127.0.0.1:1/nothing.git'], { idleTimeoutMs: 20_000 }).catch(() => undefined)
      })
      assert.equal(sh(repo, 'cat-file', 'blob', 'HEAD:a.txt'), 'three\nlines', 'the bytes of the file, no CRLF')
      assert.deepEqual(await ran(log), [])
    })

    it("a mirror URL rewritten by a planted url.*.insteadOf in ~/.gitconfig: the token goes to the mirror, never to the other host", async () => {
      const heard: string[] = []
      const servers = await Promise.all(['mirror', 'other'].map((name) => new Promise<Server>((resolve) => {
        const server = createServer((req, res) => {
          heard.push(`${name} ${req.headers.authorization ?? '-'}`)
          res.statusCode = 404
          res.end()
        })
        server.listen(0, '127.0.0.1', () => resolve(server))
      })))
      const [mirror, other] = servers.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      const home = join(dir, 'home-url')
      await mkdir(home, { recursive: true })
      await writeFile(join(home, '.gitconfig'), `[url "${other}"]\n\tinsteadOf = ${mirror}\n`)
      sh(repo, 'remote', 'add', REMOTE_NAME, `${mirror}twin.git`)
      try {
        await startedWith({ HOME: home }, () => runGitWithToken(repo, ['fetch', REMOTE_NAME], 'token-0123456789'))
      } finally {
        sh(repo, 'remote', 'remove', REMOTE_NAME)
        for (const server of servers) server.close()
      }
      assert.ok(heard.length > 0 && heard.every((h) => h.startsWith('mirror Basic ')), heard.join(', '))
    })

    it('a fetch (through simple-git) runs no hook a planted system configuration names', async () => {
      const source = join(dir, 'source')
      execFileSync('git', ['clone', '--quiet', repo, source])
      await writeFile(join(source, 'c.txt'), 'c\n')
      sh(source, 'add', 'c.txt')
      sh(source, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'b')
      await runGit(repo, ['fetch', '--quiet', source, 'main:refs/remotes/source/main'], { env: { GIT_CONFIG_SYSTEM: planted } })
      assert.equal(sh(repo, 'rev-parse', 'refs/remotes/source/main'), sh(source, 'rev-parse', 'HEAD'))
      assert.deepEqual(await ran(log), [])
    })
  })
})
