import { strict as assert } from 'node:assert'
import { mkdir, rm, writeFile, lstat } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { commitTwin, json, useCliRoot } from '../support/cli.js'
import { editTwinJson } from '../support/twin-edit.js'

interface StatusJson {
  pending: { count: number; items: Array<{ id: string; reason: string; code?: string; nextStep?: string }> }
}
type UnitsJson = { units: Record<string, { state: string; preset?: string; hash?: string }> }

const UNITS_JSON = 'system/services/units.json'
const UNIT = 'ctl-only.service'
const CTL_FILE = `etc/systemd/system.control/${UNIT}`
const TWIN_FILE = `filesystem/${CTL_FILE}`
const WANTS_LINK = `etc/systemd/system/multi-user.target.wants/${UNIT}`

/**
 * Session 28: the systemd provider looked only in filesystem/etc/systemd/system/ for "the twin
 * keeps this unit's file". A unit whose whole unit file is in /etc/systemd/system.control (an
 * /etc folder of the unit path), enabled by the real `systemctl --root`, on a Debian root:
 * - taken out of units.json only: pending, told to delete filesystem/etc/systemd/system.control/…
 *   (before: filesystem/etc/systemd/system/ctl-only.service, a file the twin does not have);
 * - taken out with its file: the file's delete and the unit's disable are planned, nothing is said
 *   to change nothing (before: "Taking ctl-only.service out of units.json changes nothing…" beside
 *   the delete, since units.json records a hash only for /etc/systemd/system's files), and after
 *   the apply and a snapshot nothing is pending.
 */
describe('systemd: a unit whose file is in /etc/systemd/system.control, taken out of the twin', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({
    prepare: async (dir) => {
      await mkdir(join(dir, 'etc/systemd/system.control'), { recursive: true })
      await writeFile(join(dir, CTL_FILE), '[Unit]\nDescription=only system.control has me\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n')
      await runOk(['systemctl', '--root', dir, 'enable', UNIT])
    },
  })
  const twinsync = (...args: string[]) => root().twinsync(...args)
  const describeId = `systemd:describe:${UNITS_JSON}#units/${UNIT}`

  it('the snapshot recorded it: enabled, no hash (system.control), its file mirrored', async () => {
    const units = JSON.parse((await runOk(['git', '-C', root().twinDir, 'show', `HEAD:${UNITS_JSON}`])).stdout) as UnitsJson
    assert.equal(units.units[UNIT]?.state, 'enabled')
    assert.equal(units.units[UNIT]?.hash, undefined)
    await runOk(['git', '-C', root().twinDir, 'cat-file', '-e', `HEAD:${TWIN_FILE}`])
  })

  it('taken out of units.json only: pending, told to delete its system.control file in the twin', async () => {
    await editTwinJson<UnitsJson>(root().twinDir, UNITS_JSON, (u) => {
      delete u.units[UNIT]
    })
    await commitTwin(root().twinDir, `take ${UNIT} out of units.json`)
    const s = await root().statusJson<StatusJson>()
    const item = s.pending.items.find((i) => i.id === describeId)
    assert.ok(item !== undefined, JSON.stringify(s.pending.items, null, 2))
    assert.match(item.nextStep ?? '', /changes nothing on the machine/)
    assert.match(item.nextStep ?? '', /delete its unit file \(filesystem\/etc\/systemd\/system\.control\/ctl-only\.service\)/)
    assert.doesNotMatch(item.nextStep ?? '', /filesystem\/etc\/systemd\/system\/ctl-only/)
  })

  it('its file taken out too: the delete and the disable are planned, nothing said to change nothing; applied, nothing pending', async () => {
    await rm(join(root().twinDir, TWIN_FILE))
    await commitTwin(root().twinDir, `delete ${UNIT}'s file`)
    const s = await root().statusJson<StatusJson>()
    assert.deepEqual(s.pending.items.filter((i) => i.id === describeId), [], JSON.stringify(s.pending.items, null, 2))
    const ids = await root().planIds()
    assert.ok(ids.includes(`files:delete:/${CTL_FILE}`), ids.join(' '))
    assert.ok(ids.includes(`systemd:disable:${UNIT}`), ids.join(' '))
    const plan = json<{ diagnostics: Array<{ code: string; change?: string }> }>(await twinsync('plan', '--json'))
    assert.deepEqual(plan.diagnostics.filter((d) => d.change === describeId), [])

    const applied = await root().apply()
    assert.equal(applied.code, 0, applied.out)
    await assert.rejects(lstat(join(root().rootfs.dir, CTL_FILE)), /ENOENT/)
    await assert.rejects(lstat(join(root().rootfs.dir, WANTS_LINK)), /ENOENT/, 'systemctl --root disabled it')
    assert.deepEqual((await root().statusJson<StatusJson>()).pending.items, [])
    assert.deepEqual(await root().planIds(), [])
  })
})
