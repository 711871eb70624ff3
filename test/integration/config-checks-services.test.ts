import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { lstat, mkdir, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, run } from '../bed/index.js'
import { json, type Step, TWINSYNC_BIN, useCliRoot } from '../support/cli.js'
import { applyWaitingOnChecker } from '../support/processes.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'

interface ManifestEntry {
  path: string
  type: string
  target?: string
  [key: string]: unknown
}

const PG = '/etc/postgresql/17/main/postgresql.conf'
const DROP_IN = '/etc/systemd/system/cron.service.d/override.conf'
const DOC_UNIT = '/etc/systemd/system/docs.service'
const DOC_UNIT_TEXT = '[Unit]\nDescription=A unit whose manual page is not installed\nDocumentation=man:docs(8)\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n'

/**
 * A configuration is checked by its own service's checker before it is live, whatever file of
 * the service changes: fragments in include folders, symlinks into them, drop-ins, services that
 * had no checker (postgresql, fstab), and plans whose files of one service are written in several
 * waves (a folder, then the file in it). Real tools, chrooted into the test bed's server root.
 */
describe('configuration checks: include folders, drop-ins, more services, files of one service in several waves (server root, chroot)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({
    image: 'server',
    prepare: async (dir) => {
      // What a booted system has and an unbooted tree lacks: sshd -t wants its privilege separation directory.
      await mkdir(join(dir, 'run/sshd'), { recursive: true })
      await writeFile(join(dir, DOC_UNIT), DOC_UNIT_TEXT)
    },
  })
  const live = (path: string) => root().live(path)
  const exists = (path: string) => lstat(join(root().rootfs.dir, path)).then(() => true, () => false)
  const sha = async (path: string) => createHash('sha256').update(await readFile(join(root().rootfs.dir, path))).digest('hex')
  const apply = () => root().apply()
  /** The twin no longer asks for a path: its document (if any) and its manifest entry (if any) gone. */
  const removeEntry = async (path: string) => {
    await rm(join(root().twinDir, `filesystem${path}`), { recursive: true, force: true })
    await editTwinJson<{ entries: ManifestEntry[] }>(root().twinDir, 'system/files/manifest.json', (m) => {
      m.entries = m.entries.filter((e) => e.path !== path)
    })
  }
  /** A folder or symlink the twin asks for (the manifest holds what git cannot). */
  const addEntry = (entry: Partial<ManifestEntry> & { path: string; type: string }) =>
    editTwinJson<{ entries: ManifestEntry[] }>(root().twinDir, 'system/files/manifest.json', (m) => {
      // Only what a snapshot records for such an entry (a folder with files in it is not "empty").
      const like = m.entries.find((e) => e.path === '/etc/nginx/conf.d') as ManifestEntry
      const { origin: _origin, empty: _empty, content: _content, ...base } = like
      m.entries = m.entries.filter((e) => e.path !== entry.path)
      m.entries.push({ ...base, ...(entry.type === 'symlink' ? { mode: '0777' } : {}), ...entry })
      m.entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    })

  it('refuses a broken fragment in every include folder, a symlink to a broken site, a drop-in, postgresql.conf and fstab, each with its checker\'s own words; nothing broken is live', async () => {
    const kept = new Map<string, string>()
    for (const path of ['/etc/nginx/nginx.conf', '/etc/ssh/sshd_config', '/etc/postfix/master.cf', PG, '/etc/fstab', DOC_UNIT]) kept.set(path, await sha(path))
    await writeTwinFile(root().twinDir, 'filesystem/etc/nginx/conf.d/x.conf', 'server { listen 8091; not_a_directive on; }\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/ssh/sshd_config.d/x.conf', 'PasswordAuthentication perhaps\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/postfix/master.cf', `${await live('/etc/postfix/master.cf')}broken line\n`)
    await writeTwinFile(root().twinDir, `filesystem${DROP_IN}`, '[Service]\nExecStartPre=relative/prepare\n')
    await writeTwinFile(root().twinDir, `filesystem${PG}`, `${await live(PG)}shared_buffers = lots\n`)
    await writeTwinFile(root().twinDir, 'filesystem/etc/fstab', `${await live('/etc/fstab')}UUID=0b1e-cafe /srv/data ext4 defaults 0 2\n`)
    await writeTwinFile(root().twinDir, `filesystem${DOC_UNIT}`, DOC_UNIT_TEXT.replace('ExecStart=/bin/true', 'ExecStart=relative/report'))
    await addEntry({ path: '/etc/systemd/system/cron.service.d', type: 'directory' })

    const { code, steps, out } = await apply()
    assert.equal(code, 1, out)
    const failed = (id: string, message: RegExp, tail: RegExp) => {
      const step = steps.get(id)
      assert.equal(step?.status, 'failed', `${id}: ${out}`)
      assert.match(step?.message ?? '', message, `${id}: ${step?.message}`)
      assert.match(step?.outputTail ?? '', tail, `${id}: ${step?.outputTail}`)
    }
    failed('files:create:/etc/nginx/conf.d/x.conf', /`nginx -t` rejects the new nginx configuration; the previous files are back/, /unknown directive "not_a_directive" in \/etc\/nginx\/conf\.d\/x\.conf/)
    failed('files:create:/etc/ssh/sshd_config.d/x.conf', /`sshd -t` rejects the new sshd configuration; the previous files are back; ssh\.service left alone/, /unsupported option "perhaps"/)
    failed('files:replace:/etc/postfix/master.cf', /`postfix check` rejects/, /master\.cf: line \d+: bad field count/)
    // One run per unit, each failing one named: the drop-in is verified as part of cron.service.
    const units = new RegExp(`\`systemd-analyze verify --man=no cron\\.service; systemd-analyze verify --man=no ${DOC_UNIT}\` rejects the new systemd units configuration`)
    failed(`files:create:${DROP_IN}`, units, /override\.conf:2: Neither a valid executable name nor an absolute path: relative\/prepare/)
    failed(`files:replace:${DOC_UNIT}`, units, /docs\.service:\d+: Neither a valid executable name nor an absolute path: relative\/report/)
    failed(`files:replace:${PG}`, /`postgres -C data_directory on the cluster of \/etc\/postgresql\/17\/main\/postgresql\.conf, .*` rejects the new postgresql configuration/, /invalid value for parameter "shared_buffers": "lots"/)
    failed('files:replace:/etc/fstab', /`findmnt --verify --tab-file \/etc\/fstab` rejects the new fstab configuration/, /unreachable on boot required source: UUID=0b1e-cafe/)

    for (const [path, hash] of kept) assert.equal(await sha(path), hash, `${path} is exactly as it was`)
    for (const path of ['/etc/nginx/conf.d/x.conf', '/etc/ssh/sshd_config.d/x.conf', DROP_IN]) {
      assert.equal(await exists(path), false, `${path} is not live`)
    }
    // Each test its own clean state: the refused changes are not asked for any more (else the
    // next test's apply checks every one of them again).
    for (const path of ['/etc/postfix/master.cf', PG, '/etc/fstab', DOC_UNIT]) await writeTwinFile(root().twinDir, `filesystem${path}`, await live(path))
    // (The drop-in's folder was made and stays: the twin keeps asking for it.)
    for (const path of ['/etc/nginx/conf.d/x.conf', '/etc/ssh/sshd_config.d/x.conf', DROP_IN]) await removeEntry(path)
  })

  it('refuses a new site enabled by a symlink when the site is broken: both are put back', async () => {
    await writeTwinFile(root().twinDir, 'filesystem/etc/nginx/conf.d/x.conf', 'server { listen 8091; return 204; }\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/nginx/sites-available/broken', 'server { listen 8092; location / { return 200 "x" } }\n')
    await addEntry({ path: '/etc/nginx/sites-enabled/broken', type: 'symlink', target: '../sites-available/broken' })
    const { steps, out } = await apply()
    assert.deepEqual([...steps.keys()].sort(), ['files:create:/etc/nginx/conf.d/x.conf', 'files:create:/etc/nginx/sites-available/broken', 'files:create:/etc/nginx/sites-enabled/broken'], 'no refused change of the test above is carried into this apply')
    for (const id of ['files:create:/etc/nginx/sites-available/broken', 'files:create:/etc/nginx/sites-enabled/broken', 'files:create:/etc/nginx/conf.d/x.conf']) {
      assert.equal(steps.get(id)?.status, 'failed', `${id}: ${out}`)
      assert.match(steps.get(id)?.outputTail ?? '', /unexpected "}" in \/etc\/nginx\/sites-enabled\/broken:1/)
    }
    for (const path of ['/etc/nginx/conf.d/x.conf', '/etc/nginx/sites-available/broken', '/etc/nginx/sites-enabled/broken']) assert.equal(await exists(path), false, `${path} is not live`)
  })

  it('passes good changes to a drop-in, postgresql.conf and fstab through the same checkers', async () => {
    // Good ones in place of the refused ones above (the site's stays asked for; the others were taken back).
    await writeTwinFile(root().twinDir, 'filesystem/etc/nginx/conf.d/x.conf', 'server { listen 8091; return 204; }\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/nginx/sites-available/broken', 'server { listen 8092; location / { return 200 "x"; } }\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/ssh/sshd_config.d/x.conf', 'PasswordAuthentication no\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/postfix/master.cf', await live('/etc/postfix/master.cf'))
    await writeTwinFile(root().twinDir, `filesystem${DROP_IN}`, '[Service]\nNice=5\n')
    await writeTwinFile(root().twinDir, `filesystem${PG}`, `${await live(PG)}work_mem = 8MB\n`)
    await writeTwinFile(root().twinDir, 'filesystem/etc/fstab', `${await live('/etc/fstab')}tmpfs /tmp tmpfs defaults,size=64m 0 0\n`)
    await writeTwinFile(root().twinDir, `filesystem${DOC_UNIT}`, DOC_UNIT_TEXT.replace('Description=A unit', 'Description=Still a unit'))
    const { code, steps, out } = await apply()
    assert.equal(code, 0, out)
    const passed = (id: string, command: RegExp) => assert.match(steps.get(id)?.message ?? '', command, `${id}: ${out}`)
    passed(`files:create:${DROP_IN}`, /checked: `.*systemd-analyze verify --man=no cron\.service[;`]/)
    passed(`files:replace:${DOC_UNIT}`, /checked: `.*systemd-analyze verify --man=no \/etc\/systemd\/system\/docs\.service[;`]/)
    passed(`files:replace:${PG}`, /checked: `postgres -C data_directory on the cluster of \/etc\/postgresql\/17\/main\/postgresql\.conf/)
    passed('files:replace:/etc/fstab', /checked: `findmnt --verify --tab-file \/etc\/fstab` passed/)
    passed('files:create:/etc/nginx/sites-enabled/broken', /checked: `nginx -t` passed/)
    assert.equal(await readlink(join(root().rootfs.dir, '/etc/nginx/sites-enabled/broken')), '../sites-available/broken')
    assert.match(await live(PG), /^work_mem = 8MB$/m)
    assert.equal(await live(DROP_IN), '[Service]\nNice=5\n')
  })

  it('checks the files of one service written in two waves together: each alone invalid, together valid, is applied', async () => {
    // conf.d/use.conf proxies to an upstream that extra/up.conf defines; extra/ is a new folder,
    // so up.conf is written a wave after use.conf. Checked after the first wave, use.conf fails.
    await addEntry({ path: '/etc/nginx/extra', type: 'directory' })
    await writeTwinFile(root().twinDir, 'filesystem/etc/nginx/extra/up.conf', 'upstream backend { server 127.0.0.1:9000; }\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/nginx/conf.d/use.conf', 'include /etc/nginx/extra/*.conf;\nserver { listen 8093; location / { proxy_pass http://backend; } }\n')
    const { code, steps, out } = await apply()
    assert.equal(code, 0, out.slice(0, 3000))
    for (const id of ['files:create:/etc/nginx/conf.d/use.conf', 'files:mkdir:/etc/nginx/extra', 'files:create:/etc/nginx/extra/up.conf']) {
      assert.equal(steps.get(id)?.status, 'applied', `${id}: ${out}`)
      assert.equal(steps.get(id)?.message, 'checked: `nginx -t` passed')
    }
  })

  it('puts back every file of the service when the final set fails, though each alone is valid (written in two waves)', async () => {
    // Both define the upstream "dup": each is valid nginx alone, together they are not.
    await addEntry({ path: '/etc/nginx/more', type: 'directory' })
    await writeTwinFile(root().twinDir, 'filesystem/etc/nginx/more/dup.conf', 'upstream dup { server 127.0.0.1:9001; }\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/nginx/conf.d/dup.conf', 'include /etc/nginx/more/*.conf;\nupstream dup { server 127.0.0.1:9002; }\n')
    const before = await sha('/etc/nginx/nginx.conf')
    const { code, steps, out } = await apply()
    assert.equal(code, 1, out.slice(0, 3000))
    for (const id of ['files:create:/etc/nginx/conf.d/dup.conf', 'files:mkdir:/etc/nginx/more', 'files:create:/etc/nginx/more/dup.conf']) {
      assert.equal(steps.get(id)?.status, 'failed', `${id}: ${out}`)
      assert.match(steps.get(id)?.outputTail ?? '', /duplicate upstream "dup"/)
    }
    for (const path of ['/etc/nginx/conf.d/dup.conf', '/etc/nginx/more']) assert.equal(await exists(path), false, `${path} was put back (absent)`)
    assert.equal(await sha('/etc/nginx/nginx.conf'), before)
  })
})


/**
 * kill -9 while the checker runs (the new file is live, the checker has not decided): the next
 * apply must finish the check before anything else and put the old file back, never leave the
 * broken one live. The window is real: the new nginx file includes a FIFO, so `nginx -t` waits.
 */
describe('configuration checks across kill -9 (server root, chroot)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({ image: 'server' })
  const HANG = '/etc/nginx/conf.d/hang.conf'
  const FIFO = 'run/twinsync-test-hang'
  const exists = (path: string) => lstat(join(root().rootfs.dir, path)).then(() => true, () => false)

  it('puts the old file back on the next apply when the apply was killed between the write and the checker\'s verdict', async () => {
    assert.equal((await run(['mkfifo', join(root().rootfs.dir, FIFO)])).code, 0)
    await writeTwinFile(root().twinDir, `filesystem${HANG}`, `include /${FIFO};\n`)
    // The checker runs in its sandbox, where the FIFO is the overlay's own (no writer from here
    // reaches it): nginx -t waits on it for good. It is seen as an nginx process of the apply's
    // that lasts, once the new file is live (the baseline before the write ends at once).
    const { child, exited, waiting } = await applyWaitingOnChecker(TWINSYNC_BIN, ['apply', '--yes', '--accept-high-risk', '--root', root().rootfs.dir, '--repo', root().twinDir], root().cli.env(), () => exists(HANG))
    assert.equal(await exists(HANG), true, 'the new file is live while its checker runs')
    child.kill('SIGKILL')
    await exited
    // Its sandbox ends with it (unshare --kill-child): those processes were started by the apply.
    for (const p of waiting) if (p.comm === 'unshare') process.kill(p.pid, 'SIGKILL')
    await rm(join(root().rootfs.dir, FIFO))
    assert.equal(await exists(HANG), true, 'killed before the verdict: the broken file is still live')

    const next = await root().twinsync('apply', '--yes', '--accept-high-risk', '--json')
    assert.equal(next.code, 1, next.stdout + next.stderr)
    const report = json<{ checksFinished?: Array<{ service: string; restored: string[] }>; journal: { diagnostics: Array<{ code: string; summary: string }> } }>(next)
    assert.deepEqual(report.checksFinished?.map((f) => [f.service, f.restored]), [['nginx', [HANG]]])
    const said = report.journal.diagnostics.find((d) => d.code === 'CONFIG_RESTORED')
    assert.match(said?.summary ?? '', /nginx: an interrupted apply wrote \/etc\/nginx\/conf\.d\/hang\.conf and was killed before its check ended; `nginx -t` rejects the live configuration: .*so the previous files are back/)
    assert.equal(await exists(HANG), false, 'the old state (no such file) is back')
    await assert.rejects(readFile(join(root().twinDir, '.git/twinsync/config-checks-pending.json')), { code: 'ENOENT' })

    // The twin still asks for it: the next apply writes it, checks it, and puts it back again.
    const again = await root().twinsync('apply', '--yes', '--accept-high-risk', '--json')
    assert.equal(again.code, 1, again.stdout + again.stderr)
    const step = json<{ journal: { steps: Step[] } }>(again).journal.steps.find((s) => s.id === `files:create:${HANG}`)
    assert.match(step?.message ?? '', /`nginx -t` rejects the new nginx configuration; the previous files are back/)
    assert.equal(await exists(HANG), false)
  })
})
