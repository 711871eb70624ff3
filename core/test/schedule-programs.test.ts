import { strict as assert } from 'node:assert'
import { chmod, chown, lchown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { pluginFolders, refuseChangeableByOthers } from '../src/services/schedule.js'

/**
 * Session 44 (attack): the schedule's units, cron line and apt hook run node and twinsync as root,
 * unattended; `enable` with a node from a user's nvm or a twinsync linked from a user's checkout
 * made that user root at the next tick. enableSchedule refuses (SCHEDULE_UNSAFE) before writing
 * anything for this machine's own root; what it asks of each program is tested here (a test that
 * enabled a schedule on `/` would write this host's /etc).
 */
describe('schedule enable: the programs root will run', () => {
  let dir: string
  before(async function () {
    if (process.geteuid?.() !== 0) throw new Error('this test needs root (chown to another uid)')
    dir = await mkdtemp(join(tmpdir(), 'twinsync-schedule-programs-'))
    for (const [path, mode, uid] of [
      ['root-only', 0o755, 0],
      ['bob', 0o755, 1000],
      ['shared', 0o775, 0],
      ['open', 0o1777, 0],
    ] as const) {
      await mkdir(join(dir, path))
      await chmod(join(dir, path), mode)
      await chown(join(dir, path), uid, uid === 0 ? 1000 : uid)
    }
    for (const [path, mode, uid] of [
      ['root-only/node', 0o755, 0],
      ['root-only/run.js', 0o644, 0],
      ['root-only/bobs.js', 0o644, 1000],
      ['root-only/everyones.js', 0o666, 0],
      ['bob/run.js', 0o644, 0],
      ['shared/run.js', 0o644, 0],
      ['open/run.js', 0o644, 0],
    ] as const) {
      await writeFile(join(dir, path), '')
      await chmod(join(dir, path), mode)
      await chown(join(dir, path), uid, 0)
    }
    await symlink(join(dir, 'bob', 'run.js'), join(dir, 'root-only', 'linked.js'))
    // bob's link in a sticky folder to root's own file: bob may remove it and make it again.
    await symlink(join(dir, 'root-only', 'run.js'), join(dir, 'open', 'bobs-link.js'))
    await lchown(join(dir, 'open', 'bobs-link.js'), 1000, 1000)
  })
  after(() => rm(dir, { recursive: true, force: true }))

  const unsafe = (...paths: string[]) => (e: unknown) =>
    isTwinSyncError(e) && e.code === 'SCHEDULE_UNSAFE' && paths.every((p) => (e.details?.changeable as Array<{ path: string }>).some((c) => c.path === join(dir, p)))

  it('refuses a program or a folder on its way that a user other than root owns or can write, as named or as its link resolves', async () => {
    const node = join(dir, 'root-only', 'node')
    await refuseChangeableByOthers([node, join(dir, 'root-only', 'run.js')])
    // A folder with the sticky bit (as /tmp) keeps root's entries root's.
    await refuseChangeableByOthers([node, join(dir, 'open', 'run.js')])
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'bob', 'run.js')]), unsafe('bob'))
    await assert.rejects(refuseChangeableByOthers([join(dir, 'bob', 'run.js'), join(dir, 'root-only', 'run.js')]), unsafe('bob'))
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'root-only', 'bobs.js')]), unsafe('root-only/bobs.js'))
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'root-only', 'everyones.js')]), unsafe('root-only/everyones.js'))
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'shared', 'run.js')]), unsafe('shared'))
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'root-only', 'linked.js')]), unsafe('bob'))
    await assert.rejects(refuseChangeableByOthers([node, join(dir, 'open', 'bobs-link.js')]), unsafe('open/bobs-link.js'))
    // Not root's schedule (this run is not root): nothing to refuse.
    await refuseChangeableByOthers([node, join(dir, 'bob', 'run.js')], 1000)
  })

  // Session 45: the configuration root's timer reads (--config, or root's default) and the twin
  // whose git settings it runs git with were not looked at: a --config file bob could write (its
  // plugins, its scope) made him root at the next tick as a program of his did.
  it('refuses a configuration file or a twin another user can change, by the same rule as the programs', async () => {
    const node = join(dir, 'root-only', 'node')
    const run = join(dir, 'root-only', 'run.js')
    await writeFile(join(dir, 'root-only', 'config.yaml'), '{}\n')
    await refuseChangeableByOthers([node, run], 0, { config: join(dir, 'root-only', 'config.yaml'), twin: join(dir, 'root-only', 'twin') })
    for (const [config, bad] of [
      [join(dir, 'root-only', 'bobs.js'), 'root-only/bobs.js'],
      [join(dir, 'root-only', 'everyones.js'), 'root-only/everyones.js'],
      [join(dir, 'bob', 'config.yaml'), 'bob'],
      [join(dir, 'open', 'bobs-link.js'), 'open/bobs-link.js'],
    ] as const) {
      await assert.rejects(refuseChangeableByOthers([node, run], 0, { config }), (e: unknown) => {
        assert.ok(unsafe(bad)(e), String(e))
        assert.match((e as Error).message, new RegExp(`and read ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, which another user can change`))
        assert.match((e as { nextStep?: string }).nextStep ?? '', /^Keep the configuration .* where only root can write, or name others with --config and --repo\.$/)
        return true
      })
    }
    // A twin whose .git another user owns: git's settings there are what root's git would run by.
    await mkdir(join(dir, 'root-only', 'bobs-twin', '.git'), { recursive: true })
    await chown(join(dir, 'root-only', 'bobs-twin', '.git'), 1000, 1000)
    await assert.rejects(refuseChangeableByOthers([node, run], 0, { twin: join(dir, 'root-only', 'bobs-twin') }), unsafe('root-only/bobs-twin/.git'))
    await assert.rejects(refuseChangeableByOthers([node, run], 0, { twin: join(dir, 'bob', 'twin') }), unsafe('bob'))
  })

  // Session 45's review (L5): the configuration and the twin were checked, not the plugins root's
  // run loads code from (oclif's data folder: `twinsync plugins install` and `link`).
  it("refuses plugins another user can change: oclif's data folder, its package.json, an installed plugin's folder, a linked plugin's folder, or a folder on their way", async () => {
    const node = join(dir, 'root-only', 'node')
    const run = join(dir, 'root-only', 'run.js')
    const dataDir = async (name: string, plugins: unknown[], owners: { data?: number; pjson?: number } = {}) => {
      const at = join(dir, 'root-only', name)
      await mkdir(join(at, 'node_modules'), { recursive: true })
      await chown(at, owners.data ?? 0, 0)
      await writeFile(join(at, 'package.json'), JSON.stringify({ private: true, oclif: { plugins } }))
      await chown(join(at, 'package.json'), owners.pjson ?? 0, 0)
      return at
    }
    const plugins = async (at: string) => ({ plugins: { dataDir: at, folders: await pluginFolders(at) } })
    // Root's alone: an installed plugin and one linked from a folder of root's.
    await mkdir(join(dir, 'root-only', 'roots-plugin'))
    const clean = await dataDir('data-clean', [{ name: 'twinsync-plugin-a', type: 'user' }, 'twinsync-plugin-b', { name: 'linked', type: 'link', root: join(dir, 'root-only', 'roots-plugin') }])
    await mkdir(join(clean, 'node_modules', 'twinsync-plugin-a'))
    assert.deepEqual(await pluginFolders(clean), [clean, join(clean, 'package.json'), join(clean, 'node_modules'), join(clean, 'node_modules', 'twinsync-plugin-a'), join(clean, 'node_modules', 'twinsync-plugin-b'), join(dir, 'root-only', 'roots-plugin')])
    await refuseChangeableByOthers([node, run], 0, await plugins(clean))
    // No plugin installed (no data folder yet): its place is still checked, nothing refused here.
    await refuseChangeableByOthers([node, run], 0, await plugins(join(dir, 'root-only', 'no-data')))
    const refused = (...paths: string[]) => (e: unknown) => {
      assert.ok(unsafe(...paths)(e), String(e))
      assert.match((e as Error).message, /and load the plugins of .*, which another user can change/)
      assert.match((e as { nextStep?: string }).nextStep ?? '', /^Keep the plugins root's run loads \(.*, and the folder of each plugin linked there\) where only root can write, or remove such a plugin \(`twinsync plugins uninstall NAME`, as root\)\.$/)
      return true
    }
    // A plugin linked from bob's folder (his checkout): whoever is bob is root at the next tick.
    await mkdir(join(dir, 'bob', 'plugin'), { recursive: true })
    const linked = await dataDir('data-linked', [{ name: 'bobs', type: 'link', root: join(dir, 'bob', 'plugin') }])
    await assert.rejects(refuseChangeableByOthers([node, run], 0, await plugins(linked)), refused('bob'))
    // An installed plugin's folder bob owns, the package.json bob owns (he lists what loads), the data folder bob owns.
    const installed = await dataDir('data-installed', ['bobs'])
    await mkdir(join(installed, 'node_modules', 'bobs'))
    await chown(join(installed, 'node_modules', 'bobs'), 1000, 1000)
    await assert.rejects(refuseChangeableByOthers([node, run], 0, await plugins(installed)), refused('root-only/data-installed/node_modules/bobs'))
    await assert.rejects(refuseChangeableByOthers([node, run], 0, await plugins(await dataDir('data-pjson', [], { pjson: 1000 }))), refused('root-only/data-pjson/package.json'))
    await assert.rejects(refuseChangeableByOthers([node, run], 0, await plugins(await dataDir('data-bobs', [], { data: 1000 }))), refused('root-only/data-bobs'))
    // A data folder under bob's folder.
    await assert.rejects(refuseChangeableByOthers([node, run], 0, await plugins(join(dir, 'bob', 'data'))), refused('bob'))
  })

  // Debian's /usr/local is root:staff, group-writable: `npm run setup` as root links twinsync into
  // /usr/local/bin, and the refusal's step ("set it up as root, as the README says") led back to
  // the same place. The step given must pass the check itself.
  it('a program linked from a group-writable folder (Debian\'s root:staff /usr/local): the next step runs it by its link\'s target, which passes, or takes the group\'s write away', async () => {
    const local = join(dir, 'local')
    await mkdir(join(local, 'bin'), { recursive: true })
    for (const d of [local, join(local, 'bin')]) {
      await chown(d, 0, 50)
      await chmod(d, 0o2775)
    }
    await symlink(join(dir, 'root-only', 'run.js'), join(local, 'bin', 'twinsync'))
    const node = join(dir, 'root-only', 'node')
    const again = (programs: readonly string[]) => [...programs, 'schedule', 'enable', '--every', '1h', '--config', '/etc/twinsync/config.yaml']
    let step = ''
    await assert.rejects(refuseChangeableByOthers([node, join(local, 'bin', 'twinsync')], 0, { again }), (e: unknown) => {
      assert.ok(unsafe('local', 'local/bin')(e), String(e))
      assert.match((e as Error).message, /local\/bin \(writable by group staff\)/)
      step = (e as { nextStep?: string }).nextStep ?? ''
      return true
    })
    const line = /^Run it by the paths their links lead to, which only root can change: `([^`]+)`; or, if no one but root is to write there, take the group's write away: `chmod g-w ([^`]+)`\.$/.exec(step)
    assert.ok(line, step)
    assert.equal(line[1], `${node} ${join(dir, 'root-only', 'run.js')} schedule enable --every 1h --config /etc/twinsync/config.yaml`)
    assert.deepEqual(line[2]?.split(' ').sort(), [join(dir, 'local'), join(dir, 'local', 'bin')].sort())
    // The line given runs what passes: its programs are root's alone.
    await refuseChangeableByOthers((line[1] ?? '').split(' ').slice(0, 2), 0, { again })
    // And so does the folder once the group's write is taken away.
    for (const d of [local, join(local, 'bin')]) await chmod(d, 0o2755)
    await refuseChangeableByOthers([node, join(local, 'bin', 'twinsync')], 0, { again })
  })
})
