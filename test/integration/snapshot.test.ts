import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'
import { cliSandbox, gitLog, json, type CliSandbox } from '../support/cli.js'

interface SnapshotJson {
  commit?: string
  skipped?: string
  packed?: { kind: string; looseAfter: number }
  repo: string
  summary: Record<string, { added: number; changed: number; removed: number; paths: string[] } | undefined>
  providers: Array<{ name: string; status: string }>
}

describe('twinsync snapshot of a Debian root file system (--root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const snapshot = async (...extra: string[]) => {
    const r = await cli.twinsync(['snapshot', '--root', rootfs.dir, '--repo', cli.twinDir, '--json', ...extra])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    return json<SnapshotJson>(r)
  }
  const twinFile = (path: string) => readFile(join(cli.twinDir, path), 'utf8')

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    await writeFile(join(rootfs.dir, 'etc/hostname'), 'twin-under-test\n')
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('takes a first snapshot: one commit with files, packages and facts of the root', async () => {
    const result = await snapshot('--init')
    assert.ok(result.commit, 'a commit was made')
    assert.deepEqual(await gitLog(cli.twinDir), [(await gitLog(cli.twinDir))[0], 'TwinSync init'])
    assert.match((await gitLog(cli.twinDir))[0] ?? '', /^first snapshot: \d+ files, /)
    for (const domain of ['files', 'packages', 'facts']) assert.ok(result.summary[domain]?.added, `${domain} in the summary`)
    assert.ok(result.providers.every((p) => p.status !== 'failed'), JSON.stringify(result.providers))
    assert.equal(await twinFile('filesystem/etc/hostname'), 'twin-under-test\n')
  })

  it('describes the root, not the host it runs on', async () => {
    const os = JSON.parse(await twinFile('system/os.json'))
    assert.equal(os.codename, 'bookworm')
    assert.equal(os.kernel.available, false, 'an offline root has no running kernel')
    const network = JSON.parse(await twinFile('system/network/network.json'))
    assert.equal(network.hostname, 'twin-under-test')
    assert.notEqual(network.hostname, hostname())
    assert.equal(network.interfaces.available, false)
    assert.equal(JSON.parse(await twinFile('system/processes/top.json')).available, false)
    assert.equal(JSON.parse(await twinFile('system/hardware.json')).available, false)
    const twin = JSON.parse(await twinFile('twin.json'))
    assert.equal(twin.hostname, 'twin-under-test')
  })

  it('makes no commit when nothing changed, and writes byte-identical files', async () => {
    const before = await gitLog(cli.twinDir)
    const result = await snapshot()
    assert.equal(result.commit, undefined)
    assert.equal(result.skipped, 'unchanged')
    assert.deepEqual(await gitLog(cli.twinDir), before)
  })

  it('commits one snapshot for a changed file, and its summary names the files domain', async () => {
    const before = await gitLog(cli.twinDir)
    await writeFile(join(rootfs.dir, 'etc/motd'), 'Maintenance on Friday\n')
    const result = await snapshot()
    assert.ok(result.commit)
    assert.equal((await gitLog(cli.twinDir)).length, before.length + 1)
    assert.deepEqual(Object.keys(result.summary), ['files'])
    assert.ok(result.summary.files?.paths.includes('filesystem/etc/motd'))
    assert.equal(await twinFile('filesystem/etc/motd'), 'Maintenance on Friday\n')
  })

  it('sets a snapshot where only volatile facts moved aside, and writes no object for it: none is left loose, nothing to pack', async () => {
    const before = await gitLog(cli.twinDir)
    const objects = () => execFileSync('git', ['-C', cli.twinDir, 'count-objects', '-v'], { encoding: 'utf8' })
    const stored = objects()
    await appendFile(join(rootfs.dir, 'var/log/syslog'), '2026-01-01T00:00:00 twin-under-test CRON[100]: (root) CMD (true)\n')
    const result = await snapshot('--if-changed')
    assert.equal(result.skipped, 'volatile-only')
    // From a clean twin the objects are written with the commit (atomic-snapshot.ts): none was made.
    assert.equal(result.packed, undefined)
    assert.equal(objects(), stored)
    assert.deepEqual(await gitLog(cli.twinDir), before)
    execFileSync('git', ['-C', cli.twinDir, 'fsck', '--full', '--strict'])
  })
})
