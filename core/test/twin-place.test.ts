import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { realpathSync } from 'node:fs'
import { silentLogger, type TwinSyncError } from '@twinsync/sdk'
import { createContainer } from '../src/container.js'
import { InitWorkflow } from '../src/services/init-twin.js'
import { SnapshotWorkflow } from '../src/services/take-snapshot.js'
import { TwinPlaceWorkflow } from '../src/services/twin-place.js'
import { createTuiServices } from '../src/tui/services.js'
import { SimpleGitClient } from '../src/twin/git.js'
import { checkTwinPlace, RealPaths } from '../src/twin/twin-place.js'
import { TwinRepository } from '../src/twin/twin-repository.js'

const git = (dir: string) => new SimpleGitClient(dir)
const noPlugins = { runHook: async () => ({ successes: [], failures: [] }) } as unknown as Parameters<typeof createContainer>[0]['oclif']
const refused = (code: string, text?: RegExp) => (e: TwinSyncError) => e.code === code && (text === undefined || text.test(e.message)) && (e.nextStep ?? '').length > 0

/** Where a twin may live: one rule for --repo, `repo:` and Settings (issue 23 item 5). */
describe('twin place', () => {
  let base: string
  // A target root with an /etc/passwd (root's home /root), the twin kept outside it.
  let root: string
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'twinsync-place-'))
    root = join(base, 'root')
    await mkdir(join(root, 'etc'), { recursive: true })
    await mkdir(join(root, 'root'), { recursive: true })
    await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n')
    await writeFile(join(root, 'etc', 'hostname'), 'web1\n')
  })
  after(() => rm(base, { recursive: true, force: true }))

  const mirrored = () => [
    { include: '/etc', path: join(root, 'etc') },
    { include: '~/.config', path: join(root, 'root', '.config') },
  ]

  it('takes a missing or an empty folder: init creates the twin there', async () => {
    assert.deepEqual(await checkTwinPlace(join(base, 'new', 'twin'), mirrored(), git), { dir: join(base, 'new', 'twin'), holds: 'missing' })
    await mkdir(join(base, 'empty'))
    assert.equal((await checkTwinPlace(`${join(base, 'empty')}/`, mirrored(), git)).holds, 'empty')
  })

  it('refuses a relative path, a symlink, a place inside or around a mirrored path, a file and a folder that is not a twin', async () => {
    await assert.rejects(checkTwinPlace('twins/web1', mirrored(), git), refused('REPO_PLACE_INVALID', /"twins\/web1" is not an absolute path/))
    await mkdir(join(base, 'real'))
    await symlink(join(base, 'real'), join(base, 'link'))
    await assert.rejects(checkTwinPlace(join(base, 'link'), mirrored(), git), refused('REPO_PLACE_INVALID', /is a symlink/))
    await assert.rejects(checkTwinPlace(join(root, 'etc', 'twin'), mirrored(), git), refused('REPO_PLACE_INVALID', /inside \/etc, which snapshots mirror/))
    await assert.rejects(checkTwinPlace(join(root, 'root', '.config', 'tw'), mirrored(), git), refused('REPO_PLACE_INVALID', /inside ~\/\.config/))
    // Through a symlinked parent: the real place counts.
    await symlink(join(root, 'etc'), join(base, 'etc-link'))
    await assert.rejects(checkTwinPlace(join(base, 'etc-link', 'twin'), mirrored(), git), refused('REPO_PLACE_INVALID', /inside \/etc/))
    await assert.rejects(checkTwinPlace(root, mirrored(), git), refused('REPO_PLACE_INVALID', /holds \/etc/))
    await writeFile(join(base, 'a-file'), 'x')
    await assert.rejects(checkTwinPlace(join(base, 'a-file'), mirrored(), git), refused('REPO_NOT_DIRECTORY'))
    await mkdir(join(base, 'stuff'))
    await writeFile(join(base, 'stuff', 'notes.txt'), 'mine')
    await assert.rejects(checkTwinPlace(join(base, 'stuff'), mirrored(), git), refused('REPO_NOT_TWIN'))
    assert.deepEqual(await readdir(join(base, 'stuff')), ['notes.txt'], 'nothing written')
  })

  it('refuses a path with a control character (a NUL, a newline, an escape) for --repo, `repo:` and Settings alike; nothing written or created', async () => {
    for (const odd of ['x\0y', 'a\nb', 'c\x1b[2Jd', 'tab\there', 'del\x7f']) {
      await assert.rejects(checkTwinPlace(join(base, odd), mirrored(), git), refused('REPO_PLACE_INVALID', /control character/), JSON.stringify(odd))
    }
    const configPath = join(base, 'odd.yaml')
    await writeFile(configPath, `repo: ${JSON.stringify(join(base, 'odd\0twin'))}\n`)
    // Every command, not only init: the place is refused where the twin's location is resolved.
    await assert.rejects(createContainer({ root, configPath, oclif: noPlugins, logger: silentLogger }), refused('REPO_PLACE_INVALID', /control character/))
    await assert.rejects(createContainer({ root, repo: join(base, 'a\nb'), oclif: noPlugins, logger: silentLogger }), refused('REPO_PLACE_INVALID', /control character/))
    const tuiConfig = join(base, 'odd-tui.yaml')
    await writeFile(tuiConfig, '# mine\n')
    const services = await createTuiServices(() => createContainer({ root, configPath: tuiConfig, oclif: noPlugins, logger: silentLogger }), { configPath: tuiConfig })
    await assert.rejects(services.moveTwin(join(base, 'new\nrepo: /etc')), refused('REPO_PLACE_INVALID'))
    assert.equal(await readFile(tuiConfig, 'utf8'), '# mine\n')
    assert.deepEqual((await readdir(base)).filter((n) => /odd\0|new\n|x\0y|a\nb/.test(n)), [])
  })

  it('init and snapshot refuse a twin inside what the configuration mirrors, before anything is created', async () => {
    const configPath = join(base, 'mirror-srv.yaml')
    await writeFile(configPath, 'files:\n  include: [/srv]\n')
    const at = (repo: string) => createContainer({ root, repo, configPath, oclif: noPlugins, logger: silentLogger })
    const inside = join(root, 'srv', 'twin')
    await assert.rejects((await at(inside)).resolve(InitWorkflow).init(), refused('REPO_PLACE_INVALID', /inside \/srv/))
    await assert.rejects((await at(inside)).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false }), refused('REPO_PLACE_INVALID'))
    await assert.rejects(readdir(join(root, 'srv')), 'nothing created')
    // /etc is not mirrored by this configuration, so a twin may live there.
    assert.equal((await (await at(join(root, 'etc', 'twin'))).resolve(TwinPlaceWorkflow).check()).holds, 'missing')
    // `repo:` as written in the file is what is checked: a relative one is refused, not resolved against the working directory.
    const relative = join(base, 'relative.yaml')
    await writeFile(relative, 'repo: twins/web1\n')
    const c = await createContainer({ root, configPath: relative, oclif: noPlugins, logger: silentLogger })
    await assert.rejects(c.resolve(InitWorkflow).init(), refused('REPO_PLACE_INVALID', /not an absolute path/))
  })

  it('a snapshot opens its twin once, as the run\'s twin: the place is checked by the rule alone before it (session 54)', async () => {
    const configPath = join(base, 'once.yaml')
    await writeFile(configPath, '{}\n')
    const repo = join(base, 'once-twin')
    const at = () => createContainer({ root, repo, configPath, oclif: noPlugins, logger: silentLogger })
    await (await at()).resolve(InitWorkflow).init()
    const container = await at()
    const opened: unknown[] = []
    const open = TwinRepository.prototype.open
    TwinRepository.prototype.open = function (this: TwinRepository, ...args: Parameters<TwinRepository['open']>) {
      opened.push(this)
      return open.apply(this, args)
    }
    try {
      await container.resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
    } finally {
      TwinRepository.prototype.open = open
    }
    // Fails on ebf06447: the place's check opened it first with a TwinRepository of its own.
    assert.ok(opened.length > 0)
    assert.equal(new Set(opened).size, 1, `${opened.length} opens of ${new Set(opened).size} TwinRepository instances`)
  })

  it('guard: a snapshot into a folder that is not a twin is refused as before, nothing created', async () => {
    const configPath = join(base, 'not-twin.yaml')
    await writeFile(configPath, '{}\n')
    const repo = join(base, 'not-a-twin')
    await mkdir(repo)
    await writeFile(join(repo, 'notes.txt'), 'mine\n')
    const container = await createContainer({ root, repo, configPath, oclif: noPlugins, logger: silentLogger })
    await assert.rejects(container.resolve(SnapshotWorkflow).take({ init: false, ifChanged: false }), refused('REPO_NOT_TWIN', new RegExp(`${repo} is not a TwinSync twin`)))
    assert.deepEqual(await readdir(repo), ['notes.txt'])
  })

  it('the TUI moves to another place through the same rule: written as `repo:`, comments kept, every service then uses it; nothing moved', async () => {
    const configPath = join(base, 'tui.yaml')
    await writeFile(configPath, '# the twin of web1\nlimits:\n  logLines: 20\n')
    const first = join(base, 'first')
    const services = await createTuiServices(() => createContainer({ root, configPath, oclif: noPlugins, logger: silentLogger }), { configPath })
    // A refused place is not written.
    await assert.rejects(services.moveTwin(join(root, 'etc', 'twin')), refused('REPO_PLACE_INVALID'))
    assert.doesNotMatch(await readFile(configPath, 'utf8'), /etc\/twin/)
    // The first place: created by init, then the twin moves to an empty folder and back.
    await services.moveTwin(first)
    assert.equal(services.location().dir, first)
    assert.equal((await services.initTwin()).created, true)
    const second = join(base, 'second')
    const moved = await services.moveTwin(second)
    assert.equal(moved.place.holds, 'missing')
    assert.equal(services.location().dir, second)
    assert.equal(services.location().source, 'config')
    assert.equal((await services.checkTwin()).problem?.code, 'REPO_NOT_INITIALIZED')
    const text = await readFile(configPath, 'utf8')
    assert.match(text, /^# the twin of web1$/m)
    assert.match(text, new RegExp(`^repo: ${second}$`, 'm'))
    assert.match(text, /logLines: 20/)
    // The first twin is where it was, whole.
    assert.equal((await checkTwinPlace(first, [], git)).holds, 'twin')
    const back = await services.checkTwinPlace(first)
    assert.equal(back.holds, 'twin')
    assert.equal(back.info?.hostname, 'web1')
  })
})

describe('twin place: real paths', () => {
  let base: string
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'twinsync-realpaths-'))
  })
  after(() => rm(base, { recursive: true, force: true }))

  /** What the rule was before (realpath(3) of the path, else of its parent with the name appended). */
  const oldRule = (path: string): string => {
    try {
      return realpathSync.native(path)
    } catch {
      const parent = dirname(path)
      return parent === path ? path : join(oldRule(parent), basename(path))
    }
  }

  it('gives realpath(3)\'s answer, with the missing rest appended, for links, loops, dangling links and files in the way', async () => {
    const b = (...parts: string[]) => join(base, ...parts)
    await mkdir(b('real', 'etc', 'deep'), { recursive: true })
    await writeFile(b('real', 'etc', 'file'), 'x')
    await symlink(b('real'), b('abs'))
    await symlink('real/etc', b('rel'))
    await symlink('../etc', b('real', 'etc', 'deep', 'up'))
    await symlink('missing/x', b('dangling'))
    await symlink('loop2', b('loop1'))
    await symlink('loop1', b('loop2'))
    await symlink('abs', b('chain'))
    const paths = [
      base,
      b('real'),
      b('abs', 'etc', 'deep'),
      b('abs', 'etc', 'file'),
      b('abs', 'etc', 'file', 'below'),
      b('rel', 'deep', 'up', 'deep', 'up', 'file'),
      b('rel', 'nothing', 'here'),
      b('dangling'),
      b('dangling', 'below'),
      b('loop1'),
      b('loop1', 'x'),
      b('chain', 'etc', 'deep', 'up'),
      b('chain', 'etc', 'deep', 'up', 'missing'),
      '/',
      '/proc/self',
    ]
    const realpaths = new RealPaths()
    for (const path of [...paths, ...paths.reverse()]) assert.equal(realpaths.ofExisting(path), oldRule(path), path)
  })
})
