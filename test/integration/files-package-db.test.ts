import { strict as assert } from 'node:assert'
import { mkdir, rename, rmdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, run } from '../bed/index.js'
import { json, useCliRoot } from '../support/cli.js'

interface Snapshot {
  commit?: string
  skipped?: string
  providers: Array<{ name: string; status: string }>
  diagnostics: Array<{ code: string; provider?: string }>
}

/**
 * The files provider tells a packaged file from a changed one by dpkg's database. When that
 * cannot be read, no file's origin can be told: the files provider fails whole (its part of the
 * twin stays as the last snapshot has it), never reports each file unreadable and "left out",
 * which committed the machine's whole /etc as removed (dpkg's status file made a folder: 111
 * files removed). Real CLI, debootstrap root.
 */
describe('an unreadable package database fails the files collect whole, and loses no file from the twin (debootstrap root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({ init: ['--json'] })
  const twinsync = (...args: string[]) => root().twinsync(...args, '--json')
  const head = async () => (await run(['git', '-C', root().twinDir, 'rev-parse', 'HEAD'])).stdout.trim()
  const tracked = async () => (await run(['git', '-C', root().twinDir, 'ls-tree', '-r', '--name-only', 'HEAD', 'filesystem/etc'])).stdout.trim().split('\n')

  it('says FILES_PACKAGES_UNREADABLE, makes no commit that removes a file, and collects as before once the database is back', async () => {
    const before = await head()
    const files = await tracked()
    assert.ok(files.includes('filesystem/etc/adduser.conf'), files.join(' '))
    const status = join(root().rootfs.dir, 'var/lib/dpkg/status')
    await rename(status, `${status}.kept`)
    await mkdir(status)
    const broken = await twinsync('snapshot')
    assert.equal(broken.code, 1, broken.stdout + broken.stderr)
    const result = json<Snapshot>(broken)
    assert.equal(result.providers.find((p) => p.name === 'files')?.status, 'failed')
    assert.ok(result.diagnostics.some((d) => d.code === 'FILES_PACKAGES_UNREADABLE'), JSON.stringify(result.diagnostics.map((d) => d.code)))
    assert.equal(result.diagnostics.some((d) => d.code === 'FILES_UNREADABLE'), false, 'no file is reported unreadable for it')
    assert.deepEqual(await tracked(), files, 'every file of the twin is still there')
    assert.equal(result.commit, undefined)
    assert.equal(await head(), before)

    await rmdir(status)
    await rename(`${status}.kept`, status)
    const again = await twinsync('snapshot')
    assert.equal(again.code, 0, again.stdout + again.stderr)
    assert.deepEqual(await tracked(), files)
  })
})
