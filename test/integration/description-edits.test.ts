import { strict as assert } from 'node:assert'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, run } from '../bed/index.js'
import { commitTwin, json, useCliRoot } from '../support/cli.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'
import { tuiServices } from '../support/tui-services.js'
import { KEYS, openPanel } from '../../core/test/tui/harness.js'

interface StatusJson {
  pending: { count: number; items: Array<{ id: string; category: string; reason: string; code?: string; nextStep?: string }> }
}
interface PlanJson {
  changes: Array<{ id: string }>
  diagnostics: Array<{ code: string; severity: string; summary: string; detail?: string; change?: string }>
}
interface CronJson {
  jobs: Array<Record<string, unknown>>
}
type UnitsJson = { units: Record<string, { state: string; preset?: string }> }

const CRON_JSON = 'system/startup/cron.json'
const BACKUP_JOB = { command: '/usr/local/bin/backup', kind: 'system', line: 1, reboot: false, schedule: '0 2 * * *', source: '/etc/cron.d/backup', user: 'root' }

/**
 * cron.json describes the cron jobs; they are applied from the crontab files. A person who adds
 * a job to cron.json and commits asked for something no provider applies: through the real binary
 * on a Debian root it is said (status, plan), kept through snapshots, and dropped only by
 * `discard` or by the machine coming to match it. Facts and a unit's vendor preset alike.
 */
describe('an edit of a document that only describes the machine is never lost silently', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()
  const twinsync = (...args: string[]) => root().twinsync(...args)
  const status = () => root().statusJson<StatusJson>()
  const cronJobs = async () => (JSON.parse(await readFile(join(root().twinDir, CRON_JSON), 'utf8')) as CronJson).jobs
  const hasBackup = async () => (await cronJobs()).some((j) => j.command === BACKUP_JOB.command)

  it('a job added to cron.json and committed: pending with DESCRIPTION_EDIT_NOT_APPLIED and where cron jobs live, in status and plan', async () => {
    // The person puts the job where it would sort, as the machine's description lists it.
    await editTwinJson<CronJson>(root().twinDir, CRON_JSON, (c) => c.jobs.unshift(BACKUP_JOB))
    await commitTwin(root().twinDir, 'add a backup job')
    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => [i.id, i.code]), [['cron:describe:system/startup/cron.json', 'DESCRIPTION_EDIT_NOT_APPLIED']])
    assert.match(s.pending.items[0]?.nextStep ?? '', /filesystem\/etc\/cron\.d\/.*twinsync discard cron:describe:system\/startup\/cron\.json/)
    const text = await twinsync('status')
    assert.match(text.stdout, /cron:describe:system\/startup\/cron\.json .*never applied.*\[DESCRIPTION_EDIT_NOT_APPLIED\]\n\s+Next step: .*crontab files/)
    assert.equal((await twinsync('status', '--exit-code')).code, 1, 'not in sync')

    const plan = await twinsync('plan', '--json')
    const p = json<PlanJson>(plan)
    assert.deepEqual(p.changes, [])
    const said = p.diagnostics.filter((d) => d.code === 'DESCRIPTION_EDIT_NOT_APPLIED')
    assert.equal(said.length, 1, plan.stdout)
    assert.equal(said[0]?.severity, 'warning')
    assert.match(said[0]?.detail ?? '', /filesystem\/etc\/cron\.d\//)
    assert.equal(said[0]?.change, 'cron:describe:system/startup/cron.json', 'a left-out ask: a row of its own in the control panel, d discards it')
    const shown = (await twinsync('plan')).stdout
    assert.match(shown, /^No changes planned: 1 change the twin asks for is left out/m, 'never "No changes" in silence')
    assert.match(shown, /warning: cron: Change system\/startup\/cron\.json \(jobs\): left out, .* \[DESCRIPTION_EDIT_NOT_APPLIED\]\n  Next step: .*crontab files/)
  })

  it('the next snapshots keep it (before, the settle step wrote the machine\'s cron.json over it)', async () => {
    const snap = await twinsync('snapshot')
    assert.equal(snap.code, 0, snap.stderr)
    assert.ok(await hasBackup(), 'the job is still in the working twin')
    const intended = (await run(['git', '-C', root().twinDir, 'show', 'refs/twinsync/intended:system/startup/cron.json'])).stdout
    assert.match(intended, /\/usr\/local\/bin\/backup/, 'recorded in refs/twinsync/intended')
    await writeFile(join(root().rootfs.dir, 'etc/issue.net'), 'the machine moved\n')
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.ok(await hasBackup())
    assert.deepEqual((await status()).pending.items.map((i) => i.id), ['cron:describe:system/startup/cron.json'])
  })

  it('the machine comes to match it (the job put in /etc/cron.d): nothing pending, the twin clean', async () => {
    await writeFile(join(root().rootfs.dir, 'etc/cron.d/backup'), '0 2 * * * root /usr/local/bin/backup\n')
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.ok(await hasBackup())
    assert.deepEqual((await status()).pending.items, [])
    assert.equal((await run(['git', '-C', root().twinDir, 'status', '--porcelain'])).stdout, '')
  })

  it('a fact and a unit\'s vendor preset edited: pending, kept through a snapshot, dropped only by discard', async () => {
    await editTwinJson<Record<string, unknown>>(root().twinDir, 'system/os.json', (o) => (o.codename = 'edited'))
    let unit = ''
    await editTwinJson<UnitsJson>(root().twinDir, 'system/services/units.json', (u) => {
      unit = Object.keys(u.units).find((name) => u.units[name]?.preset === 'enabled') as string
      ;(u.units[unit] as { preset: string }).preset = 'disabled'
    })
    assert.ok(unit, 'a unit with a vendor preset')
    const presetId = `systemd:describe:system/services/units.json#units/${unit}/preset`
    const ids = async () => (await status()).pending.items.map((i) => i.id).sort()
    assert.deepEqual(await ids(), ['os:describe:system/os.json', presetId].sort())
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual(await ids(), ['os:describe:system/os.json', presetId].sort(), 'kept through the snapshot')

    const one = await twinsync('discard', presetId)
    assert.equal(one.code, 0, one.stdout + one.stderr)
    assert.deepEqual(await ids(), ['os:describe:system/os.json'])
    const units = JSON.parse(await readFile(join(root().twinDir, 'system/services/units.json'), 'utf8')) as UnitsJson
    assert.equal(units.units[unit]?.preset, 'enabled')
    const facts = await twinsync('discard', 'facts')
    assert.equal(facts.code, 0, facts.stdout + facts.stderr)
    assert.deepEqual((await status()).pending.items, [])
    assert.match((await twinsync('status')).stdout, /^In sync/)
  })
  // The edits whose meaning depends on the value: the plan turns them into nothing (Provider.unapplied, the files
  // manifest's described fields). Before, the next snapshot wrote the machine's values over them, silently.
  const APT_JSON = 'system/packages/apt.json'
  const UNITS_JSON = 'system/services/units.json'
  type AptJson = { packages: Record<string, { version?: string; manual: boolean }> }
  const edited = { pkg: '', version: '0.0-edited', stateUnit: 'apt-daily-upgrade.timer', goneUnit: 'debug-shell.service' }
  const ids = () => ({
    version: `apt:describe:${APT_JSON}#packages/${edited.pkg}/version`,
    state: `systemd:describe:${UNITS_JSON}#units/${edited.stateUnit}/state`,
    gone: `systemd:describe:${UNITS_JSON}#units/${edited.goneUnit}`,
  })
  const twinJson = async <T>(path: string) => JSON.parse(await readFile(join(root().twinDir, path), 'utf8')) as T
  const pendingIds = async () => (await status()).pending.items.map((i) => i.id).sort()

  it('a version without a pin, a unit state no verb makes, a unit taken out: pending with DESCRIPTION_EDIT_NOT_APPLIED in status and plan', async () => {
    await editTwinJson<AptJson>(root().twinDir, APT_JSON, (a) => {
      edited.pkg = Object.keys(a.packages).find((p) => a.packages[p]?.manual === true && !p.includes(':')) as string
      ;(a.packages[edited.pkg] as { version: string }).version = edited.version
    })
    assert.ok(edited.pkg, 'a manually installed package')
    await editTwinJson<UnitsJson>(root().twinDir, UNITS_JSON, (u) => {
      assert.ok(u.units[edited.stateUnit] !== undefined && u.units[edited.goneUnit] !== undefined, Object.keys(u.units).join(' '))
      ;(u.units[edited.stateUnit] as { state: string }).state = 'static'
      delete u.units[edited.goneUnit]
    })
    await commitTwin(root().twinDir, 'edits the plan turns into nothing')
    const s = await status()
    const byId = new Map(s.pending.items.map((i) => [i.id, i]))
    assert.deepEqual([...byId.keys()].sort(), Object.values(ids()).sort(), JSON.stringify(s.pending.items, null, 2))
    for (const item of byId.values()) assert.equal(item.code, 'DESCRIPTION_EDIT_NOT_APPLIED')
    assert.match(byId.get(ids().version)?.nextStep ?? '', /apt-pins\.json/)
    assert.match(byId.get(ids().state)?.nextStep ?? '', /"static" is not a state TwinSync sets/)
    assert.match(byId.get(ids().gone)?.nextStep ?? '', /changes nothing on the machine/)

    const p = json<PlanJson>(await twinsync('plan', '--json'))
    assert.deepEqual(p.changes, [])
    assert.deepEqual(p.diagnostics.filter((d) => d.code === 'DESCRIPTION_EDIT_NOT_APPLIED').map((d) => d.change).sort(), Object.values(ids()).sort())
  })

  it('the next snapshot keeps them in the twin (before: it wrote the machine\'s values over them)', async () => {
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.equal((await twinJson<AptJson>(APT_JSON)).packages[edited.pkg]?.version, edited.version)
    const units = await twinJson<UnitsJson>(UNITS_JSON)
    assert.equal(units.units[edited.stateUnit]?.state, 'static')
    assert.equal(units.units[edited.goneUnit], undefined)
    assert.deepEqual(await pendingIds(), Object.values(ids()).sort())
  })

  it('discard drops one; the machine coming to match the other (the unit file gone) clears it', async () => {
    const one = await twinsync('discard', ids().version, ids().state)
    assert.equal(one.code, 0, one.stdout + one.stderr)
    assert.notEqual((await twinJson<AptJson>(APT_JSON)).packages[edited.pkg]?.version, edited.version)
    assert.notEqual((await twinJson<UnitsJson>(UNITS_JSON)).units[edited.stateUnit]?.state, 'static')
    assert.deepEqual(await pendingIds(), [ids().gone])
    await rm(join(root().rootfs.dir, 'usr/lib/systemd/system', edited.goneUnit))
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual((await status()).pending.items, [])
    assert.equal((await run(['git', '-C', root().twinDir, 'status', '--porcelain'])).stdout, '')
  })

  // The files manifest: what it records of a path that no apply sets (size, sha256, package…) and a
  // uid beside an owner name that resolves (the name wins). Before (session 14), `status` said
  // "In sync" and the next snapshot wrote the machine's values over them, silently.
  const MANIFEST = 'system/files/manifest.json'
  type ManifestEntryJson = { path: string; size?: number; sha256?: string; package?: string; owner?: string; uid: number }
  type ManifestJson = { entries: ManifestEntryJson[] }
  /** A file whose name has a space, an "=" and a non-ASCII letter (ids and discard by id must hold it). */
  const ODD = '/etc/odd name=é.conf'
  const fileIds = {
    size: `files:describe:${MANIFEST}#entries/path=/etc/issue.net/size`,
    pkg: `files:describe:${MANIFEST}#entries/path=/etc/issue.net/package`,
    sha: `files:describe:${MANIFEST}#entries/path=/etc/issue/sha256`,
    uid: `files:describe:${MANIFEST}#entries/path=/etc/default/uid`,
    odd: `files:describe:${MANIFEST}#entries/path=${ODD}/size`,
  }
  const entryOf = async (path: string) => (await twinJson<ManifestJson>(MANIFEST)).entries.find((e) => e.path === path)

  it('the files manifest: size, package, sha256, a uid beside a resolving owner, an odd path\'s size: pending with DESCRIPTION_EDIT_NOT_APPLIED in status and plan', async () => {
    await writeFile(join(root().rootfs.dir, ODD.slice(1)), 'odd\n')
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual(await pendingIds(), [])
    await editTwinJson<ManifestJson>(root().twinDir, MANIFEST, (m) => {
      const at = (path: string) => {
        const e = m.entries.find((x) => x.path === path)
        assert.ok(e, path)
        return e
      }
      assert.ok(at('/etc/issue.net').package !== undefined && at('/etc/issue').sha256 !== undefined)
      at('/etc/issue.net').size = 5
      at('/etc/issue.net').package = 'edited-package'
      at('/etc/issue').sha256 = 'f'.repeat(64)
      assert.equal(at('/etc/default').owner, 'root')
      at('/etc/default').uid = 4242
      at(ODD).size = 99
    })
    await commitTwin(root().twinDir, 'edits of what the manifest only records')
    const s = await status()
    const byId = new Map(s.pending.items.map((i) => [i.id, i]))
    assert.deepEqual([...byId.keys()].sort(), Object.values(fileIds).sort(), JSON.stringify(s.pending.items, null, 2))
    for (const item of byId.values()) assert.equal(item.code, 'DESCRIPTION_EDIT_NOT_APPLIED')
    assert.match(byId.get(fileIds.size)?.nextStep ?? '', /follows from its content/)
    assert.match(byId.get(fileIds.uid)?.nextStep ?? '', /"owner"/)
    assert.equal((await twinsync('status', '--exit-code')).code, 1, 'not in sync')
    const p = json<PlanJson>(await twinsync('plan', '--json'))
    assert.deepEqual(p.changes, [])
    assert.deepEqual(p.diagnostics.filter((d) => d.code === 'DESCRIPTION_EDIT_NOT_APPLIED').map((d) => d.change).sort(), Object.values(fileIds).sort())
  })

  it('the next snapshot keeps the manifest edits (before: it wrote the machine\'s values over them)', async () => {
    await writeFile(join(root().rootfs.dir, 'etc/motd'), 'the machine moved\n')
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.equal((await entryOf('/etc/issue.net'))?.size, 5)
    assert.equal((await entryOf('/etc/issue.net'))?.package, 'edited-package')
    assert.equal((await entryOf('/etc/issue'))?.sha256, 'f'.repeat(64))
    assert.equal((await entryOf('/etc/default'))?.uid, 4242)
    assert.equal((await entryOf(ODD))?.size, 99)
    assert.deepEqual(await pendingIds(), Object.values(fileIds).sort())
  })

  it('discard by id (the odd path\'s too) and by provider; then a snapshot settles: nothing pending, the twin clean', async () => {
    const some = await twinsync('discard', fileIds.odd, fileIds.uid)
    assert.equal(some.code, 0, some.stdout + some.stderr)
    assert.equal((await entryOf(ODD))?.size, 4)
    assert.equal((await entryOf('/etc/default'))?.uid, 0)
    assert.deepEqual(await pendingIds(), [fileIds.pkg, fileIds.sha, fileIds.size].sort())
    const rest = await twinsync('discard', 'files')
    assert.equal(rest.code, 0, rest.stdout + rest.stderr)
    assert.deepEqual(await pendingIds(), [])
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual(await pendingIds(), [])
    assert.equal((await run(['git', '-C', root().twinDir, 'status', '--porcelain'])).stdout, '')
    assert.match((await twinsync('status')).stdout, /^In sync/)
  })

  // An element added by hand to a document that only describes the machine, then discarded: its
  // fields are each a description edit (autostart.json's entries are applied from the .desktop
  // files). Before session 39, discard put back each field alone and left the element behind
  // (`{ "path": … }`, later seven `{}`), which the provider's load refuses: status said "Not
  // compared" for the whole document, the twin broken by a discard.
  it('an autostart entry added to autostart.json by hand, then discarded: the entry goes whole, nothing pending, the document whole', async () => {
    const AUTOSTART = 'system/startup/autostart.json'
    const added = '/etc/xdg/autostart/added-by-hand.desktop'
    type AutostartJson = { entries: Array<Record<string, unknown>> }
    const before = await twinJson<AutostartJson>(AUTOSTART)
    await editTwinJson<AutostartJson>(root().twinDir, AUTOSTART, (a) => {
      a.entries.push({ path: added, scope: 'system', name: 'by hand', exec: '/usr/bin/true', enabled: true, hidden: false, onlyShowIn: [], notShowIn: [] })
    })
    await commitTwin(root().twinDir, 'an autostart entry by hand')
    const asked = await pendingIds()
    assert.ok(asked.length > 0 && asked.every((id) => id.startsWith(`autostart:describe:${AUTOSTART}#entries/path=${added}/`)), asked.join('\n'))
    const discarded = await twinsync('discard', 'startup')
    assert.equal(discarded.code, 0, discarded.stdout + discarded.stderr)
    assert.deepEqual((await twinJson<AutostartJson>(AUTOSTART)).entries, before.entries, 'the entry gone whole, the others as they were')
    assert.deepEqual(await pendingIds(), [])
    const s = await twinsync('status', '--exit-code')
    assert.equal(s.code, 0, s.stdout + s.stderr)
    assert.doesNotMatch(s.stdout, /not compared/i)
  })
})

describe('the control panel shows a description edit as a left-out ask, and d discards it (the TUI services over a real container)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot()

  it('its own row on the plan screen; d drops that edit alone, the file edit beside it stays pending', async () => {
    await writeTwinFile(root().twinDir, 'filesystem/etc/motd', 'Intended motd\n')
    await editTwinJson<CronJson>(root().twinDir, CRON_JSON, (c) => c.jobs.unshift(BACKUP_JOB))
    const services = await tuiServices(root())
    const panel = openPanel(services, [{ name: 'menu' }, { name: 'plan' }])
    try {
      await panel.waitFor('Plan: 1 change', 60_000)
      await panel.press(KEYS.down) // "Apply these changes…"
      await panel.press(KEYS.down) // the left-out ask
      await panel.waitFor(/❯ .*system\/startup\/cron\.json/)
      await panel.press('d')
      await panel.waitFor('Discarded the intent of', 60_000)
      await panel.waitFor('Plan: 1 change', 60_000)
    } finally {
      await panel.close()
    }
    const s = json<StatusJson>(await root().cli.twinsync(['status', '--json', '--root', root().rootfs.dir, '--repo', root().twinDir]))
    assert.deepEqual(s.pending.items.map((i) => i.id), ['files:replace:/etc/motd'], 'the edit beside it is still asked for')
    assert.ok(!(await readFile(join(root().twinDir, CRON_JSON), 'utf8')).includes(BACKUP_JOB.command), 'the cron.json edit is discarded')
  })
})
