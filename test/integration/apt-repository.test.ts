import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { basename, dirname, join } from 'node:path'
import { chrootOk, makeTempDir, removeTree, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, runOk, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'

interface Step {
  id: string
  status: string
  message?: string
  outputTail?: string
  diagnostics?: Array<{ code: string; path?: string }>
}
interface ApplyOut {
  journal: { steps: Step[] }
}

/**
 * A flat apt repository in `repo`, as `deb [trusted=yes] URI ./` reads it: one
 * tiny package built with dpkg-deb and its Packages index (the fields dpkg-scanpackages writes).
 */
async function flatRepository(repo: string, pkg: string, version: string, conffile?: { path: string; text: string }): Promise<void> {
  const build = await makeTempDir('deb')
  try {
    await mkdir(join(build, 'DEBIAN'), { recursive: true })
    await mkdir(join(build, 'usr/share/doc', pkg), { recursive: true })
    await writeFile(join(build, 'usr/share/doc', pkg, 'README'), `${pkg} from a local repository\n`)
    if (conffile !== undefined) {
      await mkdir(join(build, dirname(conffile.path)), { recursive: true })
      await writeFile(join(build, conffile.path), conffile.text)
      await writeFile(join(build, 'DEBIAN/conffiles'), `${conffile.path}\n`)
    }
    const control = `Package: ${pkg}\nVersion: ${version}\nArchitecture: all\nMaintainer: TwinSync tests <tests@example.invalid>\nDescription: A tiny package from a local repository\n`
    await writeFile(join(build, 'DEBIAN/control'), control)
    await mkdir(repo, { recursive: true })
    const deb = `${pkg}_${version}_all.deb`
    await runOk(['dpkg-deb', '--build', '--root-owner-group', build, join(repo, deb)])
    const bytes = await readFile(join(repo, deb))
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    await writeFile(join(repo, 'Packages'), `${control}Filename: ./${deb}\nSize: ${bytes.length}\nSHA256: ${sha256}\n\n`)
  } finally {
    await removeTree(build)
  }
}

/** A loopback port nothing listens on: a repository there is unreachable. */
async function closedPort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** The files of `dir` over HTTP on a loopback port (a chroot shares the host's network). */
async function serveDirectory(dir: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const name = basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))
    readFile(join(dir, name)).then(
      (body) => res.writeHead(200).end(body),
      () => res.writeHead(404).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return server
}

/**
 * A plan that adds an apt repository (a sources file, a files change) and a package from it: the
 * apt provider reads the new sources file into its lists (apt-get update of that file alone)
 * before it installs. Real apt and dpkg in a Debian root, through the twinsync binary.
 */
describe('apt: a repository and a package from it in one plan (Debian root, real apt)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  let server: Server | undefined
  const twinsync = (...a: string[]) => cli.twinsync([...a, '--root', rootfs.dir, '--repo', cli.twinDir])
  const aptJson = () => join(cli.twinDir, 'system/packages/apt.json')
  const addToTwin = async (sourcesFile: string, line: string, pkg: string) => {
    const dir = join(cli.twinDir, 'filesystem/etc/apt/sources.list.d')
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, sourcesFile), `${line}\n`)
    const doc = JSON.parse(await readFile(aptJson(), 'utf8')) as { packages: Record<string, unknown> }
    doc.packages[pkg] = { architecture: 'all', manual: true, hold: false }
    await writeFile(aptJson(), JSON.stringify(doc, null, 2) + '\n')
  }
  const installed = async (pkg: string) =>
    (await runOk(['dpkg-query', `--admindir=${rootfs.dir}/var/lib/dpkg`, '-W', '-f=${db:Status-Abbrev}${Version}', pkg]).catch(() => ({ stdout: 'not installed' }))).stdout.trim()
  const debianLists = async () => {
    const dir = join(rootfs.dir, 'var/lib/apt/lists')
    const names = (await runOk(['ls', dir])).stdout.split('\n').filter((n) => n.includes('debian'))
    return Promise.all(names.map(async (n) => `${n} ${(await stat(join(dir, n))).mtimeMs}`))
  }

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    assert.equal((await twinsync('snapshot', '--init')).code, 0)
  })
  after(async () => {
    server?.close()
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('plans the sources file before the package, reads that one repository, installs the package; a new plan is empty', async () => {
    await flatRepository(join(rootfs.dir, 'srv/twinsync-repo'), 'twinsync-demo', '1.0')
    await addToTwin('twinsync-demo.list', 'deb [trusted=yes] file:/srv/twinsync-repo ./', 'twinsync-demo')
    const lists = await debianLists()
    assert.ok(lists.length > 0, 'the root has the Debian lists')

    const plan = await twinsync('plan', '--json')
    assert.equal(plan.code, 0, plan.stderr)
    const planned = json<{ changes: Array<{ id: string }>; edges: Array<{ from: string; to: string; reason: string }> }>(plan)
    assert.deepEqual(planned.changes.map((c) => c.id).sort(), ['apt:install:twinsync-demo', 'files:create:/etc/apt/sources.list.d/twinsync-demo.list'])
    const edge = planned.edges.find((e) => e.from === 'files:create:/etc/apt/sources.list.d/twinsync-demo.list' && e.to === 'apt:install:twinsync-demo')
    assert.match(edge?.reason ?? '', /needs \/etc\/apt\/sources\.list\.d\//)

    const apply = await twinsync('apply', '--yes', '--accept-high-risk', '--json')
    assert.equal(apply.code, 0, apply.stdout + apply.stderr)
    const steps = json<ApplyOut>(apply).journal.steps
    assert.deepEqual(steps.map((s) => [s.id, s.status]).sort(), [['apt:install:twinsync-demo', 'applied'], ['files:create:/etc/apt/sources.list.d/twinsync-demo.list', 'applied']])
    assert.equal(await installed('twinsync-demo'), 'ii 1.0')
    assert.deepEqual(await debianLists(), lists, "only the new repository was read: the Debian lists were not fetched again")

    const again = await twinsync('plan', '--json')
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(json<{ changes: unknown[] }>(again).changes, [])
  })

  it('an unreachable repository: the package fails with apt\'s words, the sources file is put back, and both stay pending', async () => {
    const port = await closedPort()
    await addToTwin('twinsync-gone.list', `deb [trusted=yes] http://127.0.0.1:${port}/debian ./`, 'twinsync-gone')
    const apply = await twinsync('apply', '--yes', '--accept-high-risk', '--json')
    assert.equal(apply.code, 1, apply.stdout + apply.stderr)
    const steps = json<ApplyOut>(apply).journal.steps
    const pkg = steps.find((s) => s.id === 'apt:install:twinsync-gone')
    const file = steps.find((s) => s.id === 'files:create:/etc/apt/sources.list.d/twinsync-gone.list')
    assert.equal(pkg?.status, 'failed')
    assert.match(pkg?.message ?? '', /apt could not read the repository of \/etc\/apt\/sources\.list\.d\/twinsync-gone\.list/)
    assert.match(pkg?.message ?? '', new RegExp(`W: Failed to fetch http://127\\.0\\.0\\.1:${port}/.*Could not connect`), "apt's own words")
    assert.match(pkg?.outputTail ?? '', /Failed to fetch/)
    assert.deepEqual(pkg?.diagnostics?.map((d) => [d.code, d.path]), [['NEED_UNUSABLE', '/etc/apt/sources.list.d/twinsync-gone.list']])
    assert.equal(file?.status, 'failed')
    assert.match(file?.message ?? '', /^rolled back: apt:install:twinsync-gone could not use it .*; \/etc\/apt\/sources\.list\.d\/twinsync-gone\.list is as it was before$/)
    await assert.rejects(stat(join(rootfs.dir, 'etc/apt/sources.list.d/twinsync-gone.list')), { code: 'ENOENT' })
    assert.equal(await installed('twinsync-demo'), 'ii 1.0', 'what was there stays')

    // Both stay in the twin: the next plan offers them again, and once the repository answers, the same twin applies.
    const plan = await twinsync('plan', '--json')
    assert.deepEqual(json<{ changes: Array<{ id: string }> }>(plan).changes.map((c) => c.id).sort(), ['apt:install:twinsync-gone', 'files:create:/etc/apt/sources.list.d/twinsync-gone.list'])
    const served = join(cli.dir, 'served')
    await flatRepository(served, 'twinsync-gone', '2.0')
    server = await serveDirectory(served, port)
    const retry = await twinsync('apply', '--yes', '--accept-high-risk', '--json')
    assert.equal(retry.code, 0, retry.stdout + retry.stderr)
    assert.equal(await installed('twinsync-gone'), 'ii 2.0')
    assert.equal((await readFile(join(rootfs.dir, 'etc/apt/sources.list.d/twinsync-gone.list'), 'utf8')).trim(), `deb [trusted=yes] http://127.0.0.1:${port}/debian ./`)
  })

  it('a revert that brings a package back with its edited configuration file installs the package, then writes the twin\'s file over the package\'s default (session 21)', async () => {
    // An administrator's history: the package installed and its conffile edited, a snapshot; the package purged, a snapshot.
    const conf = '/etc/twinsync-conf/demo.conf'
    await flatRepository(join(rootfs.dir, 'srv/twinsync-conf'), 'twinsync-conf', '1.0', { path: conf, text: 'port = 80\n' })
    await writeFile(join(rootfs.dir, 'etc/apt/sources.list.d/twinsync-conf.list'), 'deb [trusted=yes] file:/srv/twinsync-conf ./\n')
    const onlyThatList = ['-o', 'Dir::Etc::sourcelist=sources.list.d/twinsync-conf.list', '-o', 'Dir::Etc::sourceparts=-', '-o', 'APT::Get::List-Cleanup=0']
    await chrootOk(rootfs.dir, 'apt-get', ['-qq', ...onlyThatList, 'update'])
    await chrootOk(rootfs.dir, 'apt-get', ['-qq', '-y', 'install', 'twinsync-conf'], { env: { DEBIAN_FRONTEND: 'noninteractive' } })
    await writeFile(join(rootfs.dir, conf), 'port = 8081\n')
    const edited = json<{ commit?: string }>(await twinsync('snapshot', '--json')).commit
    assert.ok(edited)
    await chrootOk(rootfs.dir, 'apt-get', ['-qq', '-y', 'purge', 'twinsync-conf'], { env: { DEBIAN_FRONTEND: 'noninteractive' } })
    await assert.rejects(stat(join(rootfs.dir, conf)), { code: 'ENOENT' })
    assert.ok(json<{ commit?: string }>(await twinsync('snapshot', '--json')).commit)

    // The plan saw no file there; apt lays the package's default down first, and that default is
    // replaced (it was failed as "changed on the machine since the plan was made", and stayed the default).
    const revert = await twinsync('revert', edited, '--yes', '--accept-high-risk', '--json')
    assert.equal(revert.code, 0, revert.stdout + revert.stderr)
    const steps = json<ApplyOut>(revert).journal.steps.filter((s) => /twinsync-conf/.test(s.id)).map((s) => [s.id, s.status, s.message ?? ''])
    assert.deepEqual(steps.map(([id, status]) => [id, status]).sort(), [['apt:install:twinsync-conf', 'applied'], [`files:create:${conf}`, 'applied'], ['files:mkdir:/etc/twinsync-conf', 'unchanged']], JSON.stringify(steps))
    assert.equal(await installed('twinsync-conf'), 'ii 1.0')
    assert.equal(await readFile(join(rootfs.dir, conf), 'utf8'), 'port = 8081\n')
    assert.deepEqual(json<{ changes: unknown[] }>(await twinsync('plan', '--json')).changes, [])

    // A file that is not the package's own (an edit since the plan) is still never overwritten.
    await writeFile(join(rootfs.dir, conf), 'port = 9090\n')
    await chrootOk(rootfs.dir, 'apt-get', ['-qq', '-y', 'purge', 'twinsync-conf'], { env: { DEBIAN_FRONTEND: 'noninteractive' } })
    assert.ok(json<{ commit?: string }>(await twinsync('snapshot', '--json')).commit)
    const plan = join(cli.dir, 'conf-plan.json')
    assert.equal((await twinsync('plan', '--from', edited, '--out', plan)).code, 0)
    await chrootOk(rootfs.dir, 'apt-get', ['-qq', '-y', 'install', 'twinsync-conf'], { env: { DEBIAN_FRONTEND: 'noninteractive' } })
    await writeFile(join(rootfs.dir, conf), 'port = 7070\n')
    const applied = await twinsync('apply', plan, '--yes', '--accept-high-risk', '--json')
    assert.equal(applied.code, 2, applied.stdout + applied.stderr)
    assert.match(applied.stdout + applied.stderr, /PLAN_STALE[\s\S]*files:create:\/etc\/twinsync-conf\/demo\.conf/)
    assert.equal(await readFile(join(rootfs.dir, conf), 'utf8'), 'port = 7070\n')
  })

  it('a package added with a version apt does not install (no pin): installed, the version stays pending through the snapshot until discarded; one at the archive\'s version leaves nothing (session 40)', async () => {
    // Before: the apply undid the whole added entry with the install, and its snapshot recorded the archive's version without a word.
    const versionId = (pkg: string) => `apt:describe:system/packages/apt.json#packages/${pkg}/version`
    const pendingIds = async () => json<{ pending: { items: Array<{ id: string; nextStep?: string }> } }>(await twinsync('status', '--json')).pending.items.filter((i) => i.id.startsWith('apt:'))
    await flatRepository(join(rootfs.dir, 'srv/twinsync-older'), 'twinsync-older', '2.0')
    await flatRepository(join(rootfs.dir, 'srv/twinsync-same'), 'twinsync-same', '3.0')
    await addToTwin('twinsync-older.list', 'deb [trusted=yes] file:/srv/twinsync-older ./', 'twinsync-older')
    await addToTwin('twinsync-same.list', 'deb [trusted=yes] file:/srv/twinsync-same ./', 'twinsync-same')
    const doc = JSON.parse(await readFile(aptJson(), 'utf8')) as { packages: Record<string, { version?: string }> }
    ;(doc.packages['twinsync-older'] as { version?: string }).version = '1.5'
    ;(doc.packages['twinsync-same'] as { version?: string }).version = '3.0'
    await writeFile(aptJson(), JSON.stringify(doc, null, 2) + '\n')

    // The plan claims no version it does not install.
    const plan = json<{ changes: Array<{ id: string; summary: string; after?: string }> }>(await twinsync('plan', '--json'))
    const installs = plan.changes.filter((c) => c.id.startsWith('apt:install:')).map((c) => [c.id, c.summary, c.after])
    assert.deepEqual(installs, [
      ['apt:install:twinsync-older', 'install twinsync-older (the candidate version)', 'the candidate version'],
      ['apt:install:twinsync-same', 'install twinsync-same (the candidate version)', 'the candidate version'],
    ])
    // Said before the apply too: the install is planned, the versions are left out.
    assert.deepEqual((await pendingIds()).map((i) => i.id), ['apt:install:twinsync-older', 'apt:install:twinsync-same', versionId('twinsync-older'), versionId('twinsync-same')])
    const apply = await twinsync('apply', '--yes', '--accept-high-risk', '--json')
    assert.equal(apply.code, 0, apply.stdout + apply.stderr)
    assert.equal(await installed('twinsync-older'), 'ii 2.0')
    assert.equal(await installed('twinsync-same'), 'ii 3.0')

    const after = await pendingIds()
    assert.deepEqual(after.map((i) => i.id), [versionId('twinsync-older')], JSON.stringify(after))
    assert.match(after[0]?.nextStep ?? '', /live 2\.0\): to install exactly 1\.5, pin it in system\/packages\/apt-pins\.json/)
    const head = async () => JSON.parse((await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/packages/apt.json'])).stdout) as { packages: Record<string, { version?: string }> }
    assert.equal((await head()).packages['twinsync-older']?.version, '2.0', 'the snapshot records the machine')
    assert.equal((await head()).packages['twinsync-same']?.version, '3.0')
    assert.equal((JSON.parse(await readFile(aptJson(), 'utf8')) as typeof doc).packages['twinsync-older']?.version, '1.5', 'the working twin keeps the ask')

    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual((await pendingIds()).map((i) => i.id), [versionId('twinsync-older')], 'kept by the next snapshot')
    const discard = await twinsync('discard', versionId('twinsync-older'))
    assert.equal(discard.code, 0, discard.stdout + discard.stderr)
    assert.deepEqual(await pendingIds(), [])
    assert.equal((JSON.parse(await readFile(aptJson(), 'utf8')) as typeof doc).packages['twinsync-older']?.version, '2.0')
    assert.deepEqual(json<{ changes: unknown[] }>(await twinsync('plan', '--json')).changes, [])
  })
})
