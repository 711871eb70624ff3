import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS } from '../bed/index.js'
import { json, useCliRoot } from '../support/cli.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'

interface ManifestEntry {
  path: string
  mode?: string
  [key: string]: unknown
}

const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key'
const HBA = '/etc/postgresql/17/main/pg_hba.conf'
const UNIT = '/etc/systemd/system/report.service'
const DROP_IN = '/etc/systemd/system/report.service.d/exec.conf'
const LE_OPTIONS = '/etc/letsencrypt/options-ssl-nginx.conf'

/**
 * Changes the service would not run as approved, and says so only in its log: a checker that
 * only warns (sshd -t on a host key it would ignore), one that could not ask the stopped
 * cluster (pg_hba.conf), a service with no checker that ignores a file whole (cron). Real tools
 * on the server root, chrooted.
 */
describe('configuration checks: what a service would quietly not run (server root, chroot)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({
    image: 'server',
    // What a booted system has and an unbooted tree lacks: sshd -t wants its privilege separation directory.
    prepare: async (dir) => {
      await mkdir(join(dir, 'run/sshd'), { recursive: true })
      // A unit whose ExecStart only its drop-in gives.
      await mkdir(join(dir, `${DROP_IN}/..`), { recursive: true })
      await writeFile(join(dir, UNIT), '[Unit]\nDescription=Nightly report\n\n[Service]\nType=oneshot\n')
      await writeFile(join(dir, DROP_IN), '[Service]\nExecStart=/bin/true\n')
      // What certbot leaves: nginx includes a file of /etc/letsencrypt.
      await mkdir(join(dir, 'etc/letsencrypt'), { recursive: true })
      await writeFile(join(dir, LE_OPTIONS), 'ssl_session_timeout 1440m;\n')
      await writeFile(join(dir, 'etc/nginx/conf.d/le.conf'), `include ${LE_OPTIONS};\n`)
    },
  })
  const exists = (path: string) => lstat(join(root().rootfs.dir, path)).then(() => true, () => false)
  /** A file the twin no longer asks for: its document and its manifest entry gone. */
  const removeFromTwin = async (path: string) => {
    const document = await readFile(join(root().twinDir, `filesystem${path}`), 'utf8')
    let entry: ManifestEntry | undefined
    await rm(join(root().twinDir, `filesystem${path}`))
    await editTwinJson<{ entries: ManifestEntry[] }>(root().twinDir, 'system/files/manifest.json', (m) => {
      entry = m.entries.find((e) => e.path === path)
      m.entries = m.entries.filter((e) => e.path !== path)
    })
    /** Ask for the file again as it was (so the next test's apply does not check the removal again). */
    return async () => {
      await writeTwinFile(root().twinDir, `filesystem${path}`, document)
      await editTwinJson<{ entries: ManifestEntry[] }>(root().twinDir, 'system/files/manifest.json', (m) => {
        if (entry !== undefined) m.entries.push(entry)
        m.entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      })
    }
  }
  const sha = async (path: string) => createHash('sha256').update(await readFile(join(root().rootfs.dir, path))).digest('hex')
  const modeOf = async (path: string) => ((await lstat(join(root().rootfs.dir, path))).mode & 0o7777).toString(8)
  const setMode = (path: string, mode: string) =>
    editTwinJson<{ entries: ManifestEntry[] }>(root().twinDir, 'system/files/manifest.json', (m) => {
      const entry = m.entries.find((e) => e.path === path)
      assert.ok(entry !== undefined, `${path} is in the manifest`)
      entry.mode = mode
    })

  it('refuses a host key made group-readable: sshd -t exits 0, but sshd would ignore the key', async () => {
    assert.equal(await modeOf(HOST_KEY), '600')
    await setMode(HOST_KEY, '0640')
    const { code, steps, out } = await root().apply()
    assert.equal(code, 1, out)
    const step = [...steps.values()].find((s) => s.id.endsWith(`:${HOST_KEY}`))
    assert.equal(step?.status, 'failed', out)
    assert.match(step?.message ?? '', /`sshd -t` rejects the new sshd configuration; the previous files are back/)
    assert.match(step?.outputTail ?? '', /Permissions 0640 for '\/etc\/ssh\/ssh_host_ed25519_key' are too open[\s\S]*This private key will be ignored/)
    assert.equal(await modeOf(HOST_KEY), '600', 'the key keeps its mode')
    await setMode(HOST_KEY, '0600')
  })

  it('parses pg_hba.conf with a throwaway cluster when the cluster does not answer: a broken line is refused', async () => {
    // Not booted: the cluster does not run, as on a machine where it is stopped.
    const before = await sha(HBA)
    const live = await root().live(HBA)
    await writeTwinFile(root().twinDir, `filesystem${HBA}`, `${live}host all all 192.0.2.0/33 scram-sha-256\n`)
    const refused = await root().apply()
    assert.equal(refused.code, 1, refused.out)
    const step = refused.steps.get(`files:replace:${HBA}`)
    assert.equal(step?.status, 'failed', refused.out)
    assert.match(step?.message ?? '', /rejects the new postgresql configuration; the previous files are back; postgresql\.service left alone/)
    assert.match(step?.outputTail ?? '', /pg_hba\.conf line \d+: invalid CIDR mask in address "192\.0\.2\.0\/33"/)
    assert.equal(await sha(HBA), before, 'the live pg_hba.conf is as it was')
    // Each test its own clean state: the refused change is not asked for any more (else every
    // later apply checks it again, with a throwaway cluster each time).
    await writeTwinFile(root().twinDir, `filesystem${HBA}`, live)

    // A good pg_hba.conf passing the same way: config-checks-services.test.ts (its postgresql.conf change runs it).
  })

  it('refuses a system crontab cron would ignore: group-writable (after the write, mode back) or without its last newline (in the plan)', async () => {
    assert.equal(await modeOf('/etc/crontab'), '644')
    await setMode('/etc/crontab', '0664')
    const { code, steps, out } = await root().apply()
    assert.equal(code, 1, out)
    const step = steps.get('files:chmod:/etc/crontab')
    assert.equal(step?.status, 'failed', out)
    assert.match(step?.message ?? '', /^`cron's own rules for \/etc\/crontab .*` rejects the new cron configuration; the previous files are back; nothing reloaded/)
    assert.match(step?.outputTail ?? '', /\/etc\/crontab: cron ignores this whole file: INSECURE MODE \(group\/other writable\): mode 664/)
    assert.equal(await modeOf('/etc/crontab'), '644', 'the crontab keeps its mode')
    await setMode('/etc/crontab', '0644')

    await writeTwinFile(root().twinDir, 'filesystem/etc/cron.d/nightly', '0 3 * * * root /bin/true')
    const plan = await root().twinsync('plan', '--json')
    const said = json<{ diagnostics: Array<{ code: string; severity: string; summary: string }> }>(plan).diagnostics.find((d) => d.code === 'CONTENT_INVALID')
    assert.match(said?.summary ?? '', /^\/etc\/cron\.d\/nightly: no newline at the end: cron would ignore the whole file/, plan.stdout + plan.stderr)
    assert.equal(said?.severity, 'error')
  })

  it('judges a removal too: pg_hba.conf removed (the cluster would not start) and the drop-in that gave a unit its ExecStart; both are put back', async () => {
    // What the tests above left asked for (a crontab the plan refuses): not asked for any more.
    await rm(join(root().twinDir, 'filesystem/etc/cron.d/nightly'), { force: true })
    const restoreHba = await removeFromTwin(HBA)
    const restoreDropIn = await removeFromTwin(DROP_IN)
    const { code, steps, out } = await root().apply()
    assert.equal(code, 1, out)
    const pg = steps.get(`files:delete:${HBA}`)
    assert.equal(pg?.status, 'failed', out)
    assert.match(pg?.message ?? '', /rejects the new postgresql configuration; the previous files are back/)
    assert.match(pg?.outputTail ?? '', /could not open file "\/etc\/postgresql\/17\/main\/pg_hba\.conf"/)
    const unit = steps.get(`files:delete:${DROP_IN}`)
    assert.equal(unit?.status, 'failed', out)
    assert.match(unit?.message ?? '', /`systemd-analyze verify --man=no report\.service` rejects the new systemd units configuration/)
    assert.match(unit?.outputTail ?? '', /Service has no ExecStart=/)
    assert.equal(await exists(HBA), true, 'pg_hba.conf is back')
    assert.equal(await root().live(DROP_IN), '[Service]\nExecStart=/bin/true\n', 'the drop-in is back')
    await restoreHba()
    await restoreDropIn()
  })

  it('checks a file outside /etc/nginx that nginx includes (certbot\'s options-ssl-nginx.conf) with nginx -t, and puts it back', async () => {
    const before = await sha(LE_OPTIONS)
    await writeTwinFile(root().twinDir, `filesystem${LE_OPTIONS}`, 'ssl_session_timeout 1440m\n')
    const { code, steps, out } = await root().apply()
    assert.equal(code, 1, out)
    assert.deepEqual([...steps.keys()], [`files:replace:${LE_OPTIONS}`], 'no refused change of an earlier test is carried into this apply')
    const step = steps.get(`files:replace:${LE_OPTIONS}`)
    assert.equal(step?.status, 'failed', out)
    assert.match(step?.message ?? '', /`nginx -t` rejects the new nginx configuration; the previous files are back/)
    assert.match(step?.outputTail ?? '', /unexpected end of file, expecting ";" or "}" in \/etc\/letsencrypt\/options-ssl-nginx\.conf/)
    assert.equal(await sha(LE_OPTIONS), before, 'the live file is as it was')
  })

  // Session 26: systemd loads drop-ins from set-property's /etc/systemd/system.control too (read
  // before /etc/systemd/system). Before, only /etc/systemd/system's were verified: this one went
  // live unchecked (the step "applied"), and the unit would not start at its next restart.
  it('verifies a drop-in in /etc/systemd/system.control as one in /etc/systemd/system, and puts it back', async () => {
    await writeTwinFile(root().twinDir, `filesystem${LE_OPTIONS}`, 'ssl_session_timeout 1440m;\n')
    const CONTROL = '/etc/systemd/system.control/report.service.d/50-exec.conf'
    await writeTwinFile(root().twinDir, `filesystem${CONTROL}`, '[Service]\nExecStartPre=relative/path\n')
    const { code, steps, out } = await root().apply()
    assert.equal(code, 1, out)
    const step = steps.get(`files:create:${CONTROL}`)
    assert.equal(step?.status, 'failed', out)
    assert.match(step?.message ?? '', /`systemd-analyze verify --man=no report\.service` rejects the new systemd units configuration; the previous files are back/)
    assert.match(step?.outputTail ?? '', /50-exec\.conf:2: Neither a valid executable name nor an absolute path/)
    assert.equal(await exists(CONTROL), false, 'the drop-in is not live')
    await rm(join(root().twinDir, `filesystem${CONTROL}`))
  })

  // Session 27: a whole unit file (not a drop-in) in system.control or system.attached was high
  // risk but never verified: this one went live ("applied"), and the manager would refuse the unit
  // at its next daemon-reload. Now every folder of the unit path is checked as /etc/systemd/system.
  it('verifies a whole unit file in /etc/systemd/system.control and system.attached as one in /etc/systemd/system: a bad one put back, a good one applied', async () => {
    const BAD = '/etc/systemd/system.control/ctl-report.service'
    const GOOD = '/etc/systemd/system.attached/att-report.service'
    await writeTwinFile(root().twinDir, `filesystem${BAD}`, '[Unit]\nDescription=Control report\n\n[Service]\nType=oneshot\nExecStart=relative/path\n')
    const refused = await root().apply()
    assert.equal(refused.code, 1, refused.out)
    const bad = refused.steps.get(`files:create:${BAD}`)
    assert.equal(bad?.status, 'failed', refused.out)
    assert.match(bad?.message ?? '', /`systemd-analyze verify --man=no \/etc\/systemd\/system\.control\/ctl-report\.service` rejects the new systemd units configuration; the previous files are back/)
    assert.match(bad?.outputTail ?? '', /ctl-report\.service:6: Neither a valid executable name nor an absolute path/)
    assert.equal(await exists(BAD), false, 'the unit file is not live')
    await rm(join(root().twinDir, `filesystem${BAD}`))
    // The same check passes a good one (a unit of the same group failing would have put it back too).
    const text = '[Unit]\nDescription=Attached report\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n'
    await writeTwinFile(root().twinDir, `filesystem${GOOD}`, text)
    const passed = await root().apply()
    assert.equal(passed.code, 0, passed.out)
    assert.equal(passed.steps.get(`files:create:${GOOD}`)?.status, 'applied', passed.out)
    assert.equal(await root().live(GOOD), text)
  })
})
