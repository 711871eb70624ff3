import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { chmod, lstat, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, type CliSandbox } from '../support/cli.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'

interface Step {
  id: string
  status: string
  message?: string
  outputTail?: string
}
interface ApplyJson {
  journal: { steps: Step[] }
}

const SSHD = '/etc/ssh/sshd_config'
const SUDOERS = '/etc/sudoers.d/ops'
const MAIN_CF = '/etc/postfix/main.cf'
const UNIT = '/etc/systemd/system/report.service'
const CRON = '/etc/cron.d/report'
const GOOD_UNIT = '[Unit]\nDescription=Nightly report\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n'

/**
 * Every configuration checker run for real, by the apply path, on the server root (Debian 13
 * with openssh-server, sudo, postfix, systemd, cron), chrooted, not booted: a good change passes
 * the service's own checker, a broken one is refused with the checker's own words and the live
 * file stays exactly as it was.
 */
describe('configuration checkers against the real tools (server root, chroot)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir])
  const live = (path: string) => readFile(join(rootfs.dir, path), 'utf8')
  const sha = async (path: string) => createHash('sha256').update(await readFile(join(rootfs.dir, path))).digest('hex')
  const apply = async () => {
    const r = await twinsync('apply', '--yes', '--accept-high-risk', '--json')
    const steps = new Map(json<ApplyJson>(r).journal.steps.map((s) => [s.id, s]))
    return { code: r.code, steps, out: r.stdout + r.stderr }
  }

  before(async () => {
    rootfs = await freshRootfs('server')
    // What a booted system has and an unbooted tree lacks: sshd -t wants its privilege separation directory.
    await mkdir(join(rootfs.dir, 'run/sshd'), { recursive: true })
    await writeFile(join(rootfs.dir, SUDOERS), '%adm ALL=(root) /usr/bin/journalctl\n')
    await chmod(join(rootfs.dir, SUDOERS), 0o440)
    await writeFile(join(rootfs.dir, UNIT), GOOD_UNIT)
    cli = await cliSandbox()
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, first.stderr)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('refuses a broken sshd_config, sudoers file, postfix main.cf and unit file with each checker\'s own output; the live files are unchanged', async () => {
    const before = new Map<string, string>()
    for (const path of [SSHD, SUDOERS, MAIN_CF, UNIT, '/etc/passwd', '/etc/group']) before.set(path, await sha(path))
    // The account files, as a hand edit breaks them: a colon lost in one line.
    await writeTwinFile(cli.twinDir, 'filesystem/etc/passwd', (await live('/etc/passwd')).replace(/^games:x:5:60:games:\/usr\/games:/m, 'games:x:5:60:games:/usr/games'))
    await writeTwinFile(cli.twinDir, 'filesystem/etc/group', (await live('/etc/group')).replace(/^adm:x:4:/m, 'adm:x:4'))
    // PAM: a module name mistyped in common-auth (refused before it is written), and a new
    // service file that includes one /etc/pam.d lacks (found by the whole folder's check after
    // the writes, which puts everything back).
    before.set('/etc/pam.d/common-auth', await sha('/etc/pam.d/common-auth'))
    before.set('/etc/nsswitch.conf', await sha('/etc/nsswitch.conf'))
    await writeTwinFile(cli.twinDir, 'filesystem/etc/nsswitch.conf', (await live('/etc/nsswitch.conf')).replace(/^shadow:.*$/m, 'shadow:         fiels'))
    await writeTwinFile(cli.twinDir, 'filesystem/etc/pam.d/common-auth', (await live('/etc/pam.d/common-auth')).replace('pam_unix.so', 'pam_unixx.so'))
    await writeTwinFile(cli.twinDir, 'filesystem/etc/pam.d/report', '@include common-auth\n@include common-acount\n')
    await writeTwinFile(cli.twinDir, `filesystem${SSHD}`, `${await live(SSHD)}PermitRootLogin maybe-not\n`)
    await writeTwinFile(cli.twinDir, `filesystem${SUDOERS}`, '%adm ALL=(root /usr/bin/journalctl\n')
    await writeTwinFile(cli.twinDir, `filesystem${MAIN_CF}`, `${await live(MAIN_CF)}this line has no equals sign\n`)
    await writeTwinFile(cli.twinDir, `filesystem${UNIT}`, GOOD_UNIT.replace('ExecStart=/bin/true', 'ExecStart=relative/report'))

    const { code, steps, out } = await apply()
    assert.equal(code, 1, out)
    const sshd = steps.get(`files:replace:${SSHD}`)
    assert.equal(sshd?.status, 'failed', out)
    assert.match(sshd?.message ?? '', /sshd rejects the new content of \/etc\/ssh\/sshd_config; the live file is untouched|`sshd -t` rejects the new sshd configuration; the previous files are back; ssh\.service left alone/)
    assert.match(sshd?.outputTail ?? '', /unsupported option "maybe-not"/)

    const sudoers = steps.get(`files:replace:${SUDOERS}`)
    assert.equal(sudoers?.status, 'failed', out)
    assert.match(sudoers?.message ?? '', /visudo rejects the new content of \/etc\/sudoers\.d\/ops; the live file is untouched|`visudo -c` rejects the new sudo configuration; the previous files are back/)
    assert.match(sudoers?.outputTail ?? '', /syntax error/)

    const postfix = steps.get(`files:replace:${MAIN_CF}`)
    assert.equal(postfix?.status, 'failed', out)
    assert.equal(postfix?.message, '`postfix check` rejects the new postfix configuration; the previous files are back; postfix.service left alone')
    assert.match(postfix?.outputTail ?? '', /main\.cf, line \d+: missing '=' after attribute name: "this line has no equals sign"/)

    const unit = steps.get(`files:replace:${UNIT}`)
    assert.equal(unit?.status, 'failed', out)
    assert.equal(unit?.message, `\`systemd-analyze verify --man=no ${UNIT}\` rejects the new systemd units configuration; the previous files are back; nothing reloaded`)
    assert.match(unit?.outputTail ?? '', /Neither a valid executable name nor an absolute path: relative\/report/)

    const passwd = steps.get('files:replace:/etc/passwd')
    assert.equal(passwd?.status, 'failed', out)
    assert.match(passwd?.message ?? '', /pwck rejects the new content of \/etc\/passwd; the live file is untouched/)
    assert.match(passwd?.outputTail ?? '', /invalid password file entry/)
    const group = steps.get('files:replace:/etc/group')
    assert.equal(group?.status, 'failed', out)
    assert.match(group?.message ?? '', /grpck rejects the new content of \/etc\/group; the live file is untouched/)
    assert.match(group?.outputTail ?? '', /invalid group file entry/)

    const pam = 'the PAM check of /etc/pam.d (types, controls, modules, includes)'
    const auth = steps.get('files:replace:/etc/pam.d/common-auth')
    assert.equal(auth?.status, 'failed', out)
    assert.equal(auth?.message, `${pam} rejects the new content of /etc/pam.d/common-auth; the live file is untouched`)
    assert.match(auth?.outputTail ?? '', /\/etc\/pam\.d\/common-auth:\d+: module not found: pam_unixx\.so/)
    const report = steps.get('files:create:/etc/pam.d/report')
    assert.equal(report?.status, 'failed', out)
    assert.match(report?.message ?? '', new RegExp(`\`${pam.replace(/[()]/g, '\\$&')}\` rejects the new pam configuration; the previous files are back`))
    assert.match(report?.outputTail ?? '', /\/etc\/pam\.d\/report:2: @include of a file \/etc\/pam\.d does not have: common-acount/)
    assert.equal(await lstat(join(rootfs.dir, 'etc/pam.d/report')).then(() => true, () => false), false, 'the new PAM file is not live')
    const nss = steps.get('files:replace:/etc/nsswitch.conf')
    assert.equal(nss?.status, 'failed', out)
    assert.equal(nss?.message, '`getent passwd, group and shadow root` rejects the new nsswitch configuration; the previous files are back; nothing reloaded')
    assert.match(nss?.outputTail ?? '', /getent shadow root: no root in the shadow database/)

    for (const [path, hash] of before) assert.equal(await sha(path), hash, `${path} is exactly as it was`)
  })

  it('passes good changes to the same files through the same checkers, and applies them', async () => {
    await writeTwinFile(cli.twinDir, `filesystem${SSHD}`, `${await live(SSHD)}ClientAliveInterval 300\n`)
    await writeTwinFile(cli.twinDir, `filesystem${SUDOERS}`, '%adm ALL=(root) /usr/bin/journalctl, /usr/bin/systemctl status *\n')
    await writeTwinFile(cli.twinDir, `filesystem${MAIN_CF}`, `${await live(MAIN_CF)}message_size_limit = 20480000\n`)
    await writeTwinFile(cli.twinDir, `filesystem${UNIT}`, GOOD_UNIT.replace('Nightly report', 'Nightly report, checked'))
    await writeTwinFile(cli.twinDir, 'filesystem/etc/passwd', (await live('/etc/passwd')).replace(/^games:x:5:60:games:/m, 'games:x:5:60:Games:'))
    await writeTwinFile(cli.twinDir, 'filesystem/etc/group', (await live('/etc/group')).replace(/^adm:x:4:$/m, 'adm:x:4:root'))
    await writeTwinFile(cli.twinDir, 'filesystem/etc/pam.d/common-auth', await live('/etc/pam.d/common-auth'))
    await writeTwinFile(cli.twinDir, 'filesystem/etc/nsswitch.conf', (await live('/etc/nsswitch.conf')).replace(/^netgroup:.*$/m, 'netgroup:       files'))
    await writeTwinFile(cli.twinDir, 'filesystem/etc/pam.d/report', '@include common-auth\n@include common-account\n')
    await writeTwinFile(cli.twinDir, 'filesystem/etc/pam.d/su', (await live('/etc/pam.d/su')).replace('# auth       required   pam_wheel.so\n', 'auth       required   pam_wheel.so\n'))
    const { code, steps, out } = await apply()
    assert.equal(code, 0, out)
    const checked = (id: string) => steps.get(id)?.message ?? ''
    assert.match(checked(`files:replace:${SSHD}`), /checked: `sshd -t` passed/)
    assert.match(checked(`files:replace:${SUDOERS}`), /checked: `visudo -c` passed/)
    assert.match(checked(`files:replace:${MAIN_CF}`), /checked: `postfix check` passed/)
    assert.match(checked(`files:replace:${UNIT}`), new RegExp(`checked: \`systemd-analyze verify --man=no ${UNIT}\` passed`))
    assert.match(checked('files:replace:/etc/passwd'), /checked: `pwck -q -r` passed/)
    assert.match(checked('files:replace:/etc/group'), /checked: `grpck -q -r` passed/)
    assert.match(checked('files:replace:/etc/pam.d/su'), /checked: `the PAM check of \/etc\/pam\.d \(types, controls, modules, includes\)` passed/)
    assert.match(checked('files:create:/etc/pam.d/report'), /checked: `the PAM check/)
    assert.match(checked('files:replace:/etc/nsswitch.conf'), /checked: `getent passwd, group and shadow root` passed/)
    assert.match(await live('/etc/nsswitch.conf'), /^netgroup: {7}files$/m)
    assert.match(await live('/etc/pam.d/su'), /^auth {7}required {3}pam_wheel\.so$/m)
    assert.match(await live('/etc/passwd'), /^games:x:5:60:Games:/m)
    assert.match(await live('/etc/group'), /^adm:x:4:root$/m)
    assert.match(await live(SSHD), /^ClientAliveInterval 300$/m)
    assert.match(await live(SUDOERS), /systemctl status/)
    assert.match(await live(MAIN_CF), /^message_size_limit = 20480000$/m)
    assert.match(await live(UNIT), /Nightly report, checked/)
    assert.deepEqual(json<{ changes: unknown[] }>(await twinsync('plan', '--json')).changes, [], 'nothing left to do')
  })

  it('refuses a broken cron file when the plan is made, naming the line; a good one is applied', async () => {
    await writeTwinFile(cli.twinDir, `filesystem${CRON}`, '0 3 * * root /bin/true\n')
    const refused = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(refused.code, 2, refused.stdout + refused.stderr)
    assert.match(refused.stderr, /\/etc\/cron\.d\/report: line 1: day of week "root": "root" is not a number or name/)
    assert.match(refused.stderr, /Nothing was applied/)
    await assert.rejects(readFile(join(rootfs.dir, CRON)), { code: 'ENOENT' })

    await writeTwinFile(cli.twinDir, `filesystem${CRON}`, '0 3 * * * root /bin/true\n')
    const applied = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(applied.code, 0, applied.stdout + applied.stderr)
    assert.equal(await live(CRON), '0 3 * * * root /bin/true\n')
  })

  // Session 16: /usr/local/bin is in files.include and first on the ordinary PATH. A twin that
  // planted a `visudo` there (exit 0) had every later sudoers change "checked" by it: a broken
  // sudoers.d file went live.
  it('a visudo the twin planted in /usr/local/bin does not stand in for sudo\'s own: the broken sudoers file is still refused, the live file unchanged', async () => {
    const fake = '#!/bin/sh\nexit 0\n'
    await writeTwinFile(cli.twinDir, 'filesystem/usr/local/bin/visudo', fake)
    await editTwinJson<{ entries: Array<Record<string, unknown>> }>(cli.twinDir, 'system/files/manifest.json', (m) => {
      m.entries.push({ path: '/usr/local/bin/visudo', type: 'file', mode: '0755', uid: 0, gid: 0, owner: 'root', group: 'root', content: 'mirrored', size: fake.length, sha256: createHash('sha256').update(fake).digest('hex') })
      m.entries.sort((a, b) => (String(a.path) < String(b.path) ? -1 : 1))
    })
    const planted = await apply()
    assert.equal(planted.code, 0, planted.out)
    assert.equal((await lstat(join(rootfs.dir, 'usr/local/bin/visudo'))).mode & 0o777, 0o755, 'the planted program is in place, first on the ordinary PATH')

    const before = await sha(SUDOERS)
    await writeTwinFile(cli.twinDir, `filesystem${SUDOERS}`, '%adm ALL=(root /usr/bin/journalctl\n')
    const { code, steps, out } = await apply()
    assert.equal(code, 1, out)
    const step = steps.get(`files:replace:${SUDOERS}`)
    assert.equal(step?.status, 'failed', out)
    assert.match(step?.outputTail ?? '', /syntax error/, 'sudo\'s own visudo judged it')
    assert.equal(await sha(SUDOERS), before)
  })
})

