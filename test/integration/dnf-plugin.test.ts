import { strict as assert } from 'node:assert'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, makeTempDir, removeTree, repoRoot, requireRoot, requireTools, run, runOk, type Rootfs } from '../bed/index.js'
import { makeRepo, repoFile } from '../../examples/twinsync-plugin-dnf/test/rpm-root.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'

const PLUGIN_DIR = join(repoRoot, 'examples', 'twinsync-plugin-dnf')

/**
 * twinsync-plugin-dnf, the example third-party plugin, end to end: packed with `npm pack`,
 * installed with `twinsync plugins install ./x.tgz`, against a Debian root with a real rpm
 * database and local dnf repositories of rpmbuild-made packages.
 */
describe('twinsync-plugin-dnf from its tarball, against a real rpm database', function () {
  this.timeout(600_000)
  let work: string
  let rootfs: Rootfs
  let root: string
  let cli: CliSandbox
  const rpmQ = async (name: string) => (await run(['rpm', '--root', root, '-q', '--qf', '%{NAME}-%{VERSION}', name])).stdout.trim()
  const dnfState = async () => JSON.parse(await readFile(join(cli.twinDir, 'system/packages/dnf.json'), 'utf8')) as { packages: Record<string, { version: string; arch: string; userInstalled: boolean }> }

  before(async () => {
    requireRoot('an rpm database in a Debian root')
    requireTools('rpm', 'rpmbuild', 'dnf', 'createrepo_c', 'python3')
    work = await makeTempDir('dnf')
    const top = join(work, 'rpmbuild')
    await makeRepo(join(work, 'repo-a'), top, [
      { name: 'tshello', version: '1.0' },
      { name: 'tsdep', version: '2.0' },
      { name: 'tsapp', version: '3.0', requires: 'tsdep' },
      { name: 'tsextra', version: '1.1' },
    ])
    await makeRepo(join(work, 'repo-b'), top, [{ name: 'tsfromb', version: '0.9' }])
    rootfs = await freshRootfs()
    root = rootfs.dir
    await runOk(['rpm', '--root', root, '--initdb'])
    await mkdir(join(root, 'etc/yum.repos.d'), { recursive: true })
    await writeFile(join(root, 'etc/yum.repos.d/a.repo'), repoFile('a', join(work, 'repo-a')))
    await runOk(['dnf', '-y', '-q', `--installroot=${root}`, 'install', 'tshello', 'tsapp'], { timeoutMs: 300_000 })

    // The plugin as its author ships it: built (`npm run build`: checked, bundled into dist/hook.cjs), then `npm pack`.
    await runOk(['npm', 'run', 'build'], { cwd: PLUGIN_DIR, timeoutMs: 300_000 })
    await runOk(['npm', 'pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: PLUGIN_DIR })
    cli = await cliSandbox()
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
    if (work !== undefined) await removeTree(work)
  })

  it('installs from ./twinsync-plugin-dnf-1.0.0.tgz and detects the rpm database', async () => {
    const tarball = (await readdir(work)).find((f) => /^twinsync-plugin-dnf-.*\.tgz$/.test(f)) as string
    const install = await cli.twinsync(['plugins', 'install', `./${tarball}`], { cwd: work })
    assert.equal(install.code, 0, install.stderr)
    // oclif checks that every `files` entry exists after install: a glob there (dist/**/*.js) warns on every install.
    assert.doesNotMatch(install.stderr, /Warning|may not work as expected/, install.stderr)
    const r = await cli.twinsync(['providers', '--json', '--root', root, '--repo', cli.twinDir])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const dnf = json<{ providers: Array<{ name: string; source: string; detected: boolean; applicable: boolean }> }>(r).providers.find((p) => p.name === 'dnf')
    assert.deepEqual(dnf && { source: dnf.source, detected: dnf.detected, applicable: dnf.applicable }, { source: 'twinsync-plugin-dnf', detected: true, applicable: true })
    // Its own codes (src/codes.ts), as a person who meets DNF_VERSION_DIFFERS looks it up.
    assert.deepEqual(Object.keys(json<{ providers: Array<{ name: string; codes: Record<string, string> }> }>(r).providers.find((p) => p.name === 'dnf')?.codes ?? {}).sort(), ['DNF_MULTIPLE_INSTANCES', 'DNF_VERSION_DIFFERS'])
    const described = await cli.twinsync(['describe'])
    assert.equal(described.code, 0, described.stderr)
    const listed = json<{ providerCodes: Record<string, { provider: string; plugin: string; description: string }> }>(described).providerCodes.DNF_VERSION_DIFFERS
    assert.deepEqual(listed && { provider: listed.provider, plugin: listed.plugin }, { provider: 'dnf', plugin: 'twinsync-plugin-dnf' })
  })

  it('collects the rpm packages with versions and user-installed marks', async () => {
    const r = await cli.twinsync(['snapshot', '--init', '--root', root, '--repo', cli.twinDir, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const { packages } = await dnfState()
    assert.deepEqual(packages.tshello, { version: '1.0-1', arch: 'noarch', userInstalled: true })
    assert.deepEqual(packages.tsapp, { version: '3.0-1', arch: 'noarch', userInstalled: true })
    assert.deepEqual(packages.tsdep, { version: '2.0-1', arch: 'noarch', userInstalled: false }, 'a dependency is not user-installed')
    assert.equal(packages.tsextra, undefined)
  })

  it('refuses to rehearse a dnf change on a root without dnf: the plugin loads in the rehearsal, its programs are not there', async () => {
    // TwinSync runs the host's dnf with --installroot; a rehearsal runs every provider on the
    // root's own programs, and this Debian root has none of rpm, dnf or python3.
    const original = await readFile(join(cli.twinDir, 'system/packages/dnf.json'), 'utf8')
    const state = await dnfState()
    state.packages.tsextra = { version: '1.1-1', arch: 'noarch', userInstalled: true }
    await writeFile(join(cli.twinDir, 'system/packages/dnf.json'), JSON.stringify(state, null, 2) + '\n')
    try {
      const r = await cli.twinsync(['rehearse', '--json', '--root', root, '--repo', cli.twinDir])
      assert.equal(r.code, 2, r.stdout + r.stderr)
      const e = json<{ error: { code: string; message: string; nextStep?: string } }>(r).error
      assert.equal(e.code, 'REHEARSAL_UNAVAILABLE')
      assert.match(e.message, /The dnf provider \(twinsync-plugin-dnf\) does not work in the rehearsal's copy of the root: rpm is not installed/)
      assert.match(e.nextStep ?? '', /apply without --rehearse/)
      assert.equal(await rpmQ('tsextra'), 'package tsextra is not installed', 'nothing was applied')
    } finally {
      await writeFile(join(cli.twinDir, 'system/packages/dnf.json'), original)
    }
  })

  it('plans a repository file before the package from it, erases after, and applies through dnf', async () => {
    const state = await dnfState()
    delete state.packages.tshello
    state.packages.tsextra = { version: '1.1-1', arch: 'noarch', userInstalled: true }
    state.packages.tsfromb = { version: '0.9-1', arch: 'noarch', userInstalled: true }
    ;(state.packages.tsdep as { userInstalled: boolean }).userInstalled = true
    await writeFile(join(cli.twinDir, 'system/packages/dnf.json'), JSON.stringify(state, null, 2) + '\n')
    await mkdir(join(cli.twinDir, 'filesystem/etc/yum.repos.d'), { recursive: true })
    await writeFile(join(cli.twinDir, 'filesystem/etc/yum.repos.d/b.repo'), repoFile('b', join(work, 'repo-b')))

    const plan = await cli.twinsync(['plan', '--json', '--root', root, '--repo', cli.twinDir])
    assert.equal(plan.code, 0, plan.stdout + plan.stderr)
    const out = json<{ changes: Array<{ id: string; removal?: boolean; needs?: string[] }>; edges: Array<{ from: string; to: string; reason: string }> }>(plan)
    const ids = out.changes.map((c) => c.id).sort()
    assert.deepEqual(ids, ['dnf:erase:tshello', 'dnf:install:tsextra', 'dnf:install:tsfromb', 'dnf:mark-install:tsdep', 'files:create:/etc/yum.repos.d/b.repo'])
    assert.equal(out.changes.find((c) => c.id === 'dnf:erase:tshello')?.removal, true)
    const repoFirst = out.edges.find((e) => e.from === 'files:create:/etc/yum.repos.d/b.repo' && e.to === 'dnf:install:tsfromb')
    assert.match(repoFirst?.reason ?? '', /needs \/etc\/yum\.repos\.d\//)

    const apply = await cli.twinsync(['apply', '--yes', '--accept-high-risk', '--json', '--root', root, '--repo', cli.twinDir])
    assert.equal(apply.code, 0, apply.stdout + apply.stderr)
    assert.equal(await rpmQ('tsfromb'), 'tsfromb-0.9', 'the package from the repository the same plan added')
    assert.equal(await rpmQ('tsextra'), 'tsextra-1.1')
    assert.match(await rpmQ('tshello'), /not installed/)
    assert.equal(await rpmQ('tsapp'), 'tsapp-3.0')
  })

  it('after apply the machine matches the twin: a new plan is empty, and applying again changes nothing', async () => {
    const plan = await cli.twinsync(['plan', '--json', '--root', root, '--repo', cli.twinDir])
    assert.equal(plan.code, 0, plan.stderr)
    assert.deepEqual(json<{ changes: unknown[] }>(plan).changes, [])
    const again = await cli.twinsync(['apply', '--yes', '--accept-high-risk', '--root', root, '--repo', cli.twinDir])
    assert.equal(again.code, 0, again.stderr)
    const snap = await cli.twinsync(['snapshot', '--root', root, '--repo', cli.twinDir, '--json'])
    assert.equal(snap.code, 0, snap.stderr)
    const { packages } = await dnfState()
    assert.equal(packages.tsdep?.userInstalled, true, 'the mark was applied')
    assert.equal(packages.tshello, undefined)
  })
})
