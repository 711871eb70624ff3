import { strict as assert } from 'node:assert'
import { readFile, writeFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, runOk, type Rootfs } from '../bed/index.js'
import { cliSandbox, type CliSandbox } from '../support/cli.js'
import { writeTwinFile } from '../support/twin-edit.js'

/**
 * File capabilities, a POSIX ACL and a user.* attribute through the CLI on a Debian root, with
 * the real tools: an apply that rewrites the files keeps them, and `twinsync revert` to the
 * checkpoint puts back what the machine lost since.
 */
describe('extended attributes, ACLs and capabilities through apply and revert (CLI, real tools)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir])
  const tool = () => join(rootfs.dir, 'usr/local/bin/report')
  const conf = () => join(rootfs.dir, 'etc/report.conf')
  const attrs = async () => ({
    caps: (await runOk(['getcap', tool()])).stdout.replace(tool(), '').trim(),
    acl: (await runOk(['getfacl', '-c', '-n', '-E', conf()])).stdout.trim(),
    note: (await runOk(['getfattr', '--only-values', '-n', 'user.owner-team', conf()])).stdout,
  })

  before(async () => {
    rootfs = await freshRootfs()
    await writeFile(tool(), '#!/bin/sh\necho report\n')
    await chmod(tool(), 0o755)
    await runOk(['setcap', 'cap_net_bind_service=ep', tool()])
    await writeFile(conf(), 'level=1\n')
    await runOk(['setfacl', '-m', 'u:1000:r', conf()])
    await runOk(['setfattr', '-n', 'user.owner-team', '-v', 'ops', conf()])
    cli = await cliSandbox()
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, first.stderr)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('an apply that rewrites both files keeps their capability, ACL and attribute', async () => {
    const before = await attrs()
    assert.deepEqual(before, { caps: 'cap_net_bind_service=ep', acl: 'user::rw-\nuser:1000:r--\ngroup::r--\nmask::r--\nother::r--', note: 'ops' })
    const manifest = (await runOk(['git', '-C', cli.twinDir, 'show', 'HEAD:system/files/manifest.json'])).stdout
    assert.match(manifest, /"capabilities": "cap_net_bind_service=ep"/)
    await writeTwinFile(cli.twinDir, 'filesystem/usr/local/bin/report', '#!/bin/sh\necho report v2\n')
    await writeTwinFile(cli.twinDir, 'filesystem/etc/report.conf', 'level=2\n')
    const applied = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.equal(await readFile(conf(), 'utf8'), 'level=2\n')
    assert.deepEqual(await attrs(), before)
  })

  it('revert to the checkpoint puts back content, capability, ACL and attribute the machine lost', async () => {
    const checkpoint = (await runOk(['git', '-C', cli.twinDir, 'rev-parse', 'HEAD'])).stdout.trim()
    const before = await attrs()
    // By hand on the machine: edited in place (which drops the capability), ACL and note removed.
    await writeFile(tool(), '#!/bin/sh\necho hacked\n')
    await runOk(['setfacl', '-b', conf()])
    await runOk(['setfattr', '-x', 'user.owner-team', conf()])
    assert.equal((await runOk(['getcap', tool()])).stdout, '')
    const reverted = await twinsync('revert', checkpoint, '--yes', '--accept-high-risk')
    assert.equal(reverted.code, 0, reverted.stdout + reverted.stderr)
    assert.match(reverted.stdout, /capabilities none → cap_net_bind_service=ep/)
    assert.match(reverted.stdout, /set system\.posix_acl_access \(user::rw-,[^)]*\), set user\.owner-team/)
    assert.equal(await readFile(tool(), 'utf8'), '#!/bin/sh\necho report v2\n')
    assert.deepEqual(await attrs(), before)
    const plan = await twinsync('plan', '--json')
    assert.deepEqual((JSON.parse(plan.stdout) as { changes: unknown[] }).changes, [], 'nothing left to do')
  })
})
