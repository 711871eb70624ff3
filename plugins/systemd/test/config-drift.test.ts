import { strict as assert } from 'node:assert'
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configReadBy, LocalHost, MemoryCache } from '@twinsync/sdk'
import { configFilesOf, parseServiceShow, parseTimestamp, unitPackages, type ServiceStart } from '../src/config-drift.js'
import { diffSystemdState } from '../src/diff.js'
import type { SystemdState } from '../src/state.js'

const SHOW = `Id=nginx.service
ExecMainStartTimestamp=Mon 2026-11-30 05:07:33.854475 UTC
ExecReload={ path=/usr/sbin/nginx ; argv[]=/usr/sbin/nginx -g daemon on; master_process on; -s reload ; ignore_errors=no ; start_time=[Mon 2026-11-30 05:07:37.712688 UTC] ; stop_time=[Mon 2026-11-30 05:07:37.779136 UTC] ; pid=305 ; code=exited ; status=0 }
CanReload=yes
InactiveExitTimestamp=Mon 2026-11-30 05:07:33.753974 UTC
FragmentPath=/usr/lib/systemd/system/nginx.service
DropInPaths=/etc/systemd/system/nginx.service.d/limits.conf /usr/lib/systemd/system/service.d/10-timeout-abort.conf

Id=cron.service
ExecMainStartTimestamp=Mon 2026-11-30 05:07:33.725474 UTC
EnvironmentFiles=/etc/default/cron (ignore_errors=yes)
InactiveExitTimestamp=Mon 2026-11-30 05:07:33.734317 UTC
CanReload=no
FragmentPath=/lib/systemd/system/cron.service

Id=ssh.service
ExecReload={ path=/usr/sbin/sshd ; argv[]=/usr/sbin/sshd -t ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }
ExecReload={ path=/bin/kill ; argv[]=/bin/kill -HUP $MAINPID ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }
InactiveExitTimestamp=Mon 2026-11-30 05:07:33.761068 UTC
CanReload=yes
`

describe('services that run an older configuration', () => {
  it('reads start and reload times from systemctl show (the later wins), CanReload and EnvironmentFiles', () => {
    assert.equal(parseTimestamp('Mon 2026-11-30 05:07:37.712688 UTC'), Date.parse('2026-11-30T05:07:37Z') + 712.688)
    assert.equal(parseTimestamp('n/a'), undefined)
    const [nginx, cron, ssh] = parseServiceShow(SHOW)
    assert.deepEqual(nginx, { unit: 'nginx.service', loadedAt: Date.parse('2026-11-30T05:07:37Z') + 712.688, canReload: true, environmentFiles: [], fragmentPath: '/usr/lib/systemd/system/nginx.service', dropInPaths: ['/etc/systemd/system/nginx.service.d/limits.conf', '/usr/lib/systemd/system/service.d/10-timeout-abort.conf'] })
    assert.deepEqual(cron?.environmentFiles, ['/etc/default/cron'])
    assert.equal(cron?.canReload, false)
    assert.equal(cron?.loadedAt, Date.parse('2026-11-30T05:07:33Z') + 734.317, 'the later of the start times')
    assert.equal(ssh?.loadedAt, Date.parse('2026-11-30T05:07:33Z') + 761.068, 'a reload that never ran does not count')
  })

  it('a reload systemd forgot at a daemon-reload (start_time n/a) still counts: StateChangeTimestamp, when the last start or reload ended', () => {
    // As `systemctl show` says it on Debian 13 after `systemctl reload nginx` then `systemctl daemon-reload`.
    const forgot = `Id=nginx.service
ExecMainStartTimestamp=Thu 2026-12-03 06:06:41.138206 UTC
ExecReload={ path=/usr/sbin/nginx ; argv[]=/usr/sbin/nginx -g daemon on; master_process on; -s reload ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }
StateChangeTimestamp=Thu 2026-12-03 06:11:05.120000 UTC
InactiveExitTimestamp=Thu 2026-12-03 06:06:40.746474 UTC
CanReload=yes
`
    assert.equal(parseServiceShow(forgot)[0]?.loadedAt, Date.parse('2026-12-03T06:11:05Z') + 120)
    // Where systemd still says when the reload began, that is when the files were read, not when it ended.
    const known = forgot.replace('start_time=[n/a]', 'start_time=[Thu 2026-12-03 06:11:05.010000 UTC]')
    assert.equal(parseServiceShow(known)[0]?.loadedAt, Date.parse('2026-12-03T06:11:05Z') + 10)
  })

  describe('which files a service reads', () => {
    let root: string
    const start = (unit: string, extra: Partial<ServiceStart> = {}): ServiceStart => ({ unit, loadedAt: 0, canReload: true, environmentFiles: [], ...extra })
    // Real dpkg file lists in the test root, read the way the provider reads a machine's.
    const files = async (s: ServiceStart, lists: Record<string, string[]>) => {
      await rm(join(root, 'var/lib/dpkg/info'), { recursive: true, force: true })
      await mkdir(join(root, 'var/lib/dpkg/info'), { recursive: true })
      for (const [pkg, lines] of Object.entries(lists)) await writeFile(join(root, `var/lib/dpkg/info/${pkg}.list`), lines.join('\n') + '\n')
      return configFilesOf(new LocalHost(root), s, await unitPackages(new LocalHost(root)))
    }
    const put = async (path: string, text = 'x\n') => {
      await mkdir(join(root, path, '..'), { recursive: true })
      await writeFile(join(root, path), text)
    }

    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'twinsync-drift-'))
      for (const p of ['/etc/nginx/nginx.conf', '/etc/nginx/sites-available/site', '/etc/default/nginx', '/etc/init.d/nginx', '/etc/logrotate.d/nginx', '/etc/crontab', '/etc/cron.d/job', '/etc/systemd/journald.conf', '/etc/systemd/logind.conf', '/etc/systemd/system/demo.service', '/etc/ssh/sshd_config', '/etc/ssh/ssh_config', '/etc/default/cron']) await put(p)
      await symlink('../sites-available/site', join(root, 'etc/nginx/sites-enabled-site'))
    })
    afterEach(() => rm(root, { recursive: true, force: true }))

    it("a package's own /etc tree, not its init script, defaults or logrotate file; /usr/lib and /lib alike", async () => {
      const nginxList = ['/etc', '/etc/default/nginx', '/etc/init.d/nginx', '/etc/logrotate.d/nginx', '/etc/nginx', '/etc/nginx/nginx.conf', '/lib/systemd/system/nginx.service']
      assert.deepEqual(await files(start('nginx.service', { fragmentPath: '/usr/lib/systemd/system/nginx.service' }), { 'nginx-common': nginxList, other: ['/etc/crontab'] }), [
        '/etc/nginx/',
        '/etc/nginx/nginx.conf',
        '/etc/nginx/sites-available/',
        '/etc/nginx/sites-available/site',
        '/etc/nginx/sites-enabled-site',
      ])
    })

    it('cron re-reads its tables itself: only its EnvironmentFiles count; systemd-NAME reads NAME.conf; ssh its server files', async () => {
      const cronList = ['/etc/crontab', '/etc/cron.d', '/etc/default/cron', '/lib/systemd/system/cron.service']
      assert.deepEqual(await files(start('cron.service', { fragmentPath: '/lib/systemd/system/cron.service', environmentFiles: ['/etc/default/cron'] }), { cron: cronList }), ['/etc/default/cron'])
      assert.deepEqual(await files(start('systemd-journald.service', { fragmentPath: '/lib/systemd/system/systemd-journald.service' }), { systemd: ['/etc/systemd', '/etc/systemd/journald.conf', '/etc/systemd/logind.conf'] }), ['/etc/systemd/journald.conf'])
      assert.deepEqual(await files(start('ssh.service'), {}), ['/etc/ssh/sshd_config'])
      await put('/etc/ssh/moduli')
      assert.deepEqual(await files(start('ssh.service'), {}), ['/etc/ssh/moduli', '/etc/ssh/sshd_config'], 'what sshd -t also loads, by the same table apply checks with')
      // A unit of a package that ships /etc/systemd never reads the administrator's unit files.
      assert.deepEqual(await files(start('console-getty.service', { fragmentPath: '/lib/systemd/system/console-getty.service' }), { systemd: ['/etc/systemd', '/etc/systemd/system', '/lib/systemd/system/console-getty.service'] }), [])
    })
  })

  it('reads the one table of Debian services that apply checks and reloads by: a listed unit needs no dpkg list', async () => {
    const root = await mkdtemp(join(tmpdir(), 'twinsync-drift-'))
    try {
      for (const p of ['etc/nginx/nginx.conf', 'etc/postfix/main.cf', 'etc/mysql/my.cnf']) {
        await mkdir(join(root, p, '..'), { recursive: true })
        await writeFile(join(root, p), 'x\n')
      }
      const host = new LocalHost(root)
      const start = (unit: string): ServiceStart => ({ unit, loadedAt: 0, canReload: true, environmentFiles: [] })
      assert.deepEqual(await configFilesOf(host, start('nginx.service'), new Map()), ['/etc/nginx/', '/etc/nginx/nginx.conf'])
      assert.deepEqual(await configFilesOf(host, start('mariadb.service'), new Map()), ['/etc/mysql/', '/etc/mysql/my.cnf'])
      // Its own unit file and drop-ins, the administrator's (/etc/systemd/system): a package's under /usr/lib are not.
      const withUnitFiles = { ...start('nginx.service'), fragmentPath: '/usr/lib/systemd/system/nginx.service', dropInPaths: ['/etc/systemd/system/nginx.service.d/limits.conf', '/usr/lib/systemd/system/service.d/10-timeout-abort.conf'] }
      assert.deepEqual(await configFilesOf(host, withUnitFiles, new Map()), ['/etc/nginx/', '/etc/nginx/nginx.conf', '/etc/systemd/system/nginx.service.d/limits.conf'])
      assert.deepEqual(await configFilesOf(host, { ...start('mine.service'), fragmentPath: '/etc/systemd/system/mine.service' }, new Map()), ['/etc/systemd/system/mine.service'])
      // A drop-in written since the manager last reloaded is in no DropInPaths: found on disk, with its folder.
      await mkdir(join(root, 'etc/systemd/system/mine.service.d'), { recursive: true })
      await writeFile(join(root, 'etc/systemd/system/mine.service.d/new.conf'), '[Service]\nNice=5\n')
      assert.deepEqual(await configFilesOf(host, start('mine.service'), new Map()), ['/etc/systemd/system/mine.service.d/', '/etc/systemd/system/mine.service.d/new.conf'])
      // cron re-reads its tables itself: the table says it reads nothing at start.
      assert.deepEqual(configReadBy('cron.service'), [])
      assert.equal(configReadBy('unknown.service'), undefined)
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it("caches which package ships which unit until dpkg's info folder changes", async () => {
    const root = await mkdtemp(join(tmpdir(), 'twinsync-drift-'))
    try {
      const info = join(root, 'var/lib/dpkg/info')
      await mkdir(info, { recursive: true })
      await writeFile(join(info, 'nginx-common.list'), '/etc/nginx\n/etc/init.d/nginx\n/lib/systemd/system/nginx.service\n')
      const cache = new MemoryCache()
      const host = new LocalHost(root)
      assert.deepEqual([...(await unitPackages(host, cache)).entries()], [['/lib/systemd/system/nginx.service', [{ package: 'nginx-common', etcTops: ['init.d', 'nginx'] }]]])
      // Rewritten in place (dpkg never does that): the folder did not change, the cached answer stands.
      await writeFile(join(info, 'nginx-common.list'), '/lib/systemd/system/nginx.service\n')
      assert.equal((await unitPackages(host, cache)).get('/lib/systemd/system/nginx.service')?.[0]?.etcTops.length, 2)
      // dpkg renames a new list into place: the folder changes and the lists are read again.
      await writeFile(join(info, 'nginx-common.list-new'), '/lib/systemd/system/nginx.service\n')
      await rename(join(info, 'nginx-common.list-new'), join(info, 'nginx-common.list'))
      assert.deepEqual((await unitPackages(host, cache)).get('/lib/systemd/system/nginx.service'), [{ package: 'nginx-common', etcTops: [] }])
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  describe('the plan', () => {
    const state = (runtime: SystemdState['runtime']): SystemdState => ({ units: {}, startup: { wantedAtBoot: [], enabledTimers: [] }, ...(runtime === undefined ? {} : { runtime }) })

    it('reloads a service that can, restarts one that cannot, whatever the twin says; nothing when it stops anyway', () => {
      const actual = state({
        'nginx.service': { active: 'active', sub: 'running', staleConfig: ['/etc/nginx/nginx.conf', '/etc/nginx/conf.d/'], canReload: true },
        'cron.service': { active: 'active', sub: 'running', staleConfig: ['/etc/default/cron'], canReload: false },
        'old.service': { active: 'active', sub: 'running', staleConfig: ['/etc/old.conf'], canReload: true },
      })
      const desired = state({ 'nginx.service': { active: 'active', sub: 'running' }, 'old.service': { active: 'inactive', sub: 'dead' } })
      const { changes } = diffSystemdState(desired, actual)
      assert.deepEqual(changes.map((c) => [c.id, c.summary]), [
        ['systemd:stop:old.service', 'stop old.service'],
        ['systemd:restart:cron.service', 'cron.service runs an older configuration than /etc/default/cron: restart it'],
        ['systemd:reload:nginx.service', 'nginx.service runs an older configuration than /etc/nginx/nginx.conf (and 1 more): reload it'],
      ])
      assert.deepEqual(changes[2]?.data, { unit: 'nginx.service', staleConfig: ['/etc/nginx/nginx.conf', '/etc/nginx/conf.d/'] })
      // The twin's own record of an older configuration (a snapshot taken while it was stale) asks for nothing.
      assert.deepEqual(diffSystemdState(actual, desired).changes.map((c) => c.id), ['systemd:start:cron.service', 'systemd:start:old.service'])
    })

    it("a service whose own drop-in or unit file changed after it started: the manager reloads, then it restarts (a reload of the service reads neither)", () => {
      const actual = state({
        'nginx.service': { active: 'active', sub: 'running', staleConfig: ['/etc/systemd/system/nginx.service.d/limits.conf', '/etc/nginx/nginx.conf'], canReload: true },
        'mine.service': { active: 'active', sub: 'running', staleConfig: ['/etc/systemd/system/mine.service'], canReload: false },
      })
      const { changes } = diffSystemdState(state({ 'nginx.service': { active: 'active', sub: 'running' }, 'mine.service': { active: 'active', sub: 'running' } }), actual)
      assert.deepEqual(changes.map((c) => [c.id, c.summary, c.requires]), [
        ['systemd:daemon-reload:manager', 'reload systemd after unit file changes (mine.service, nginx.service.d/limits.conf)', undefined],
        ['systemd:restart:mine.service', 'mine.service runs an older configuration than /etc/systemd/system/mine.service: restart it', ['systemd:daemon-reload:manager']],
        ['systemd:restart:nginx.service', 'nginx.service runs an older configuration than /etc/systemd/system/nginx.service.d/limits.conf (and 1 more): restart it', ['systemd:daemon-reload:manager']],
      ])
    })
  })
})
