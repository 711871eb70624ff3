import { strict as assert } from 'node:assert'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { silentLogger } from '@twinsync/sdk'
import { chrootOk, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, runOk, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'
import { createContainer } from '../../core/src/container.js'
import { createTuiServices } from '../../core/src/tui/services.js'
import { countsPhraseOf } from '../../core/src/vocabulary.js'

type Counts = Record<string, number>
interface StatusOut {
  drift: boolean
  changes: Array<{ id: string; category: string; resource: string; summary: string; planned: string }>
}
interface HistoryOut {
  commit: string
  counts: Counts
  counted: string
}

const noPlugins = { runHook: async () => ({ successes: [], failures: [] }) } as unknown as Parameters<typeof createContainer>[0]['oclif']

/**
 * The same count everywhere (issue 23 item 2), on a Debian root with real dpkg and apt-mark:
 * status before a snapshot, then history, show and their --json after it, and the control
 * panel's status line, all count the items that moved — a package pulled in as a dependency
 * and a version that moved without a pin included, which a plan leaves alone.
 */
describe('counts agree across status, history, show, the TUI and --json (Debian root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir])
  /** Items per domain of status's drift, the way status counts them (one per resource). */
  const driftCounts = (s: StatusOut): Counts => {
    const by: Record<string, Set<string>> = {}
    for (const c of s.changes) (by[c.category] ??= new Set()).add(c.resource)
    return Object.fromEntries(Object.entries(by).map(([d, set]) => [d, set.size]))
  }
  const stateDomains = (c: Counts): Counts => Object.fromEntries(Object.entries(c).filter(([d]) => d === 'files' || d === 'packages'))
  const tuiDrift = async () => {
    const services = await createTuiServices(() => createContainer({ root: rootfs.dir, repo: cli.twinDir, configPath: cli.configFile, oclif: noPlugins, logger: silentLogger }), { configPath: cli.configFile })
    return (await services.drift(new AbortController().signal)).changes
  }
  /** Status before the snapshot, then the snapshot; history, show and the TUI must say what status said. */
  const snapshotAndCompare = async (beforeSnapshot?: () => Promise<void>) => {
    const status = json<StatusOut>(await twinsync('status', '--json'))
    const before = driftCounts(status)
    await beforeSnapshot?.()
    assert.equal(await tuiDrift(), Object.values(before).reduce((a, b) => a + b, 0), 'the status line counts the items status lists')
    assert.equal((await twinsync('snapshot')).code, 0)
    const [last] = json<HistoryOut[]>(await twinsync('history', '--json', '--limit', '1'))
    assert.ok(last !== undefined)
    assert.deepEqual(stateDomains(last.counts), before, `history ${JSON.stringify(last.counts)} and the status before the snapshot ${JSON.stringify(before)} disagree`)
    const shown = json<{ counts: Counts; domains: Record<string, Array<{ resource: string; summary: string }>> }>(await twinsync('show', last.commit, '--json'))
    assert.deepEqual(shown.counts, last.counts, 'show and history disagree')
    const text = (await twinsync('history', '--limit', '1')).stdout
    assert.ok(text.includes(countsPhraseOf(before)), `${text} should say ${countsPhraseOf(before)}`)
    assert.equal(json<StatusOut>(await twinsync('status', '--json')).drift, false, 'in sync after the snapshot')
    return { status, shown }
  }

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    // Three tiny packages built with dpkg-deb: app needs lib; app 2.0 is an upgrade nobody pinned.
    const debs = join(rootfs.dir, 'tmp/debs')
    await mkdir(debs, { recursive: true })
    for (const [pkg, version, depends] of [['lib', '1.0', ''], ['app', '1.0', 'lib'], ['app', '2.0', 'lib']] as const) {
      const build = join(cli.dir, `${pkg}-${version}`)
      await mkdir(join(build, 'DEBIAN'), { recursive: true })
      await mkdir(join(build, 'usr/share/doc', pkg), { recursive: true })
      await writeFile(join(build, 'usr/share/doc', pkg, 'README'), `${pkg} ${version}\n`)
      const control = `Package: ${pkg}\nVersion: ${version}\nArchitecture: all\nMaintainer: TwinSync tests <tests@example.invalid>\n${depends ? `Depends: ${depends}\n` : ''}Description: A tiny test package\n`
      await writeFile(join(build, 'DEBIAN/control'), control)
      await runOk(['dpkg-deb', '--build', '--root-owner-group', build, join(debs, `${pkg}_${version}_all.deb`)])
    }
    assert.equal((await twinsync('snapshot', '--init')).code, 0)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('a package installed with its dependency (marked automatic) and a file: 2 packages, 1 file everywhere', async () => {
    await chrootOk(rootfs.dir, 'dpkg', ['-i', '/tmp/debs/lib_1.0_all.deb', '/tmp/debs/app_1.0_all.deb'])
    await chrootOk(rootfs.dir, 'apt-mark', ['auto', 'lib'])
    await writeFile(join(rootfs.dir, 'etc/motd'), 'counted\n')
    const { status, shown } = await snapshotAndCompare(async () => {
      // What a person reads: the dependency is drift that no plan changes back, and says how it is kept.
      const text = (await twinsync('status')).stdout
      assert.match(text, /^Drift: the machine moved since the last snapshot \(1 file, 2 packages\)\. Applying now would undo all but what is marked;/m, text)
      assert.match(text, /^ {4}apt:install:lib {2}lib installed on the machine \(no plan changes it back; `twinsync adopt packages [^`]*` or a snapshot records it\)$/m, text)
    })
    assert.deepEqual(driftCounts(status), { files: 1, packages: 2 })
    const lib = status.changes.find((c) => c.resource === 'lib')
    assert.equal(lib?.summary, 'lib installed on the machine')
    assert.match(lib?.planned ?? '', /^nothing: a plan leaves it as it is/)
    assert.deepEqual(shown.domains.packages?.map((c) => c.summary).sort(), ['app installed', 'lib installed'])
  })

  it('an upgrade nobody pinned: 1 package everywhere, named with both versions; adopting it alone is refused with the domain to adopt', async () => {
    await chrootOk(rootfs.dir, 'dpkg', ['-i', '/tmp/debs/app_2.0_all.deb'])
    await rm(join(rootfs.dir, 'tmp/debs'), { recursive: true, force: true })
    const alone = await twinsync('adopt', 'apt:install:app')
    assert.equal(alone.code, 2, alone.stdout)
    assert.match(alone.stderr, /ITEM_INSEPARABLE/)
    assert.match(alone.stderr, /twinsync adopt packages/)
    const { status, shown } = await snapshotAndCompare()
    assert.deepEqual(driftCounts(status), { packages: 1 })
    assert.deepEqual(status.changes.map((c) => c.summary), ['app version changed (1.0 → 2.0) on the machine'])
    assert.deepEqual(shown.domains.packages?.map((c) => c.summary), ['app version changed (1.0 → 2.0)'])
  })
})
