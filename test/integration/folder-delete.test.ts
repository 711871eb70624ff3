import { strict as assert } from 'node:assert'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTempDir, removeTree } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'
import { editTwinJson } from '../support/twin-edit.js'

interface PlanJson {
  changes: Array<{ id: string; summary: string; data?: { below?: Array<{ path: string }> } }>
}
interface StatusJson {
  pending: { items: Array<{ id: string; reason: string }> }
}
type Manifest = { entries: Array<{ path: string }> }

/**
 * Deleting a folder the twin no longer has, through the real binary on a small hand-made root:
 * apply removes what the plan names and nothing the twin never knew (an ignored file, a dpkg
 * leftover); the folder that still holds them is kept, said with FILES_DELETE_KEPT and a next
 * step, and the deletion stays pending until a person decides.
 */
describe('apply deletes a folder only as far as the plan names its entries', function () {
  this.timeout(120_000)
  let cli: CliSandbox
  let root: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])
  const at = (path: string) => join(root, path)

  before(async () => {
    cli = await cliSandbox()
    await writeFile(cli.configFile, 'providers:\n  disabled: [apt, systemd, cron, autostart, processes, logs, hardware, network]\n')
    root = join(await makeTempDir('folder-delete'), 'root')
    await mkdir(at('etc/site/sub'), { recursive: true })
    await writeFile(at('etc/os-release'), 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n')
    await writeFile(at('etc/motd'), 'Welcome\n')
    await writeFile(at('etc/site/site.conf'), 'listen 80\n')
    await writeFile(at('etc/site/sub/b.conf'), 'b = 1\n')
    // Never in the twin: an ignored name (the built-in list) and a dpkg leftover.
    await writeFile(at('etc/site/private.key.bak'), 'a backup a person keeps here\n', { mode: 0o600 })
    await writeFile(at('etc/site/site.conf.dpkg-old'), 'listen 8080\n')
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, first.stdout + first.stderr)
  })
  after(async () => {
    await cli?.cleanup()
    if (root !== undefined) await removeTree(join(root, '..'))
  })

  it('keeps what the plan did not name, and the folder holding it: FILES_DELETE_KEPT, exit 1, still pending', async () => {
    await rm(join(cli.twinDir, 'filesystem/etc/site'), { recursive: true })
    await editTwinJson<Manifest>(cli.twinDir, 'system/files/manifest.json', (m) => {
      m.entries = m.entries.filter((e) => e.path !== '/etc/site' && !e.path.startsWith('/etc/site/'))
    })
    const plan = await twinsync('plan', '--json')
    const del = json<PlanJson>(plan).changes.find((c) => c.id === 'files:delete:/etc/site')
    assert.ok(del, plan.stdout)
    assert.deepEqual(del.data?.below?.map((e) => e.path), ['/etc/site/site.conf', '/etc/site/sub', '/etc/site/sub/b.conf'])

    const apply = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(apply.code, 1, apply.stdout + apply.stderr)
    assert.match(apply.stdout, /FAILED\s+Delete \/etc\/site and the 3 entries below it: \/etc\/site is kept, with 2 entries the plan did not name; 3 named entries were deleted\n/)
    assert.match(apply.stdout, /\/etc\/site\/private\.key\.bak \(ignored[^)]*\).*\[FILES_DELETE_KEPT\]/s)
    assert.match(apply.stdout, /\[FILES_DELETE_KEPT\]\n +Next step: Look at what is left in \/etc\/site: .*`twinsync discard files:delete:\/etc\/site --root [^`]+`/)
    assert.equal(await readFile(at('etc/site/private.key.bak'), 'utf8'), 'a backup a person keeps here\n')
    assert.equal(await readFile(at('etc/site/site.conf.dpkg-old'), 'utf8'), 'listen 8080\n')
    assert.equal(existsSync(at('etc/site/site.conf')), false, 'what the plan named is deleted')
    assert.equal(existsSync(at('etc/site/sub')), false)

    const status = await twinsync('status', '--json')
    assert.equal(status.code, 0, status.stderr)
    const item = json<StatusJson>(status).pending.items.find((i) => i.id === 'files:delete:/etc/site')
    assert.ok(item, `the deletion stays pending: ${status.stdout}`)
    assert.match(item.reason, /^failed in the apply of /)
    assert.match((await twinsync('plan')).stdout, /delete \/etc\/site  \[high risk\][\s\S]*Still pending from before:\n  .*\/etc\/site.*: still pending, failed in the apply of /)
  })

  it('discard keeps the folder: nothing planned any more, nothing else lost', async () => {
    const discard = await twinsync('discard', 'files:delete:/etc/site')
    assert.equal(discard.code, 0, discard.stdout + discard.stderr)
    const plan = await twinsync('plan', '--json')
    assert.deepEqual(json<PlanJson>(plan).changes, [], plan.stdout)
    assert.equal(json<StatusJson>(await twinsync('status', '--json')).pending.items.length, 0)
    assert.ok(existsSync(at('etc/site/private.key.bak')) && existsSync(at('etc/site/site.conf.dpkg-old')))
  })
})
