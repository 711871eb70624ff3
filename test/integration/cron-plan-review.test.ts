import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { ROOTFS_BUILD_TIMEOUT_MS, run } from '../bed/index.js'
import { json, useCliRoot } from '../support/cli.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'

interface Diagnostic {
  severity: string
  code: string
  summary: string
  detail?: string
  path?: string
}

/**
 * What cron silently leaves out, said by the plan (session 19): run-parts skips a script of
 * /etc/cron.daily named with a dot (backup.sh) or not executable, cron skips a file of
 * /etc/cron.d named with a dot and a line for a user the machine does not have; each only in a
 * log, if at all, and the twin's change "applied". Warnings with the way out; the plan still
 * applies. Real run-parts on the test bed's server root says the same.
 */
describe('cron: the plan warns of a script run-parts skips and a job for a user the machine lacks (server root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  const root = useCliRoot({ image: 'server' })
  const plan = async () => {
    const r = await root().twinsync('plan', '--json')
    return { code: r.code, diagnostics: json<{ diagnostics: Diagnostic[] }>(r).diagnostics, out: r.stdout + r.stderr }
  }
  const script = '#!/bin/sh\ntar -czf /var/backups/etc.tgz /etc\n'

  it('warns of backup.sh (a dot), rotate (not executable), job.sh in cron.d and a line of an unknown user; none of the good ones', async () => {
    await writeTwinFile(root().twinDir, 'filesystem/etc/cron.daily/backup.sh', script)
    await writeTwinFile(root().twinDir, 'filesystem/etc/cron.daily/rotate', script)
    await writeTwinFile(root().twinDir, 'filesystem/etc/cron.daily/report', script)
    await writeTwinFile(root().twinDir, 'filesystem/etc/cron.daily/old.disabled', script)
    await writeTwinFile(root().twinDir, 'filesystem/etc/cron.d/job.sh', '0 4 * * * root /bin/true\n')
    await writeTwinFile(root().twinDir, 'filesystem/etc/cron.d/nightly', '0 3 * * * root /bin/true\n30 3 * * * backupuser /usr/local/bin/backup\n')
    // Modes a person gives in the manifest: report executable, the others as written (0644).
    await editTwinJson<{ entries: Array<Record<string, unknown>> }>(root().twinDir, 'system/files/manifest.json', (m) => {
      m.entries.push({ path: '/etc/cron.daily/report', type: 'file', mode: '0755', uid: 0, gid: 0, owner: 'root', group: 'root', content: 'mirrored', size: script.length, sha256: createHash('sha256').update(script).digest('hex') })
      m.entries.sort((a, b) => ((a.path as string) < (b.path as string) ? -1 : 1))
    })
    const { code, diagnostics, out } = await plan()
    assert.equal(code, 0, out)
    const said = diagnostics.filter((d) => d.code.startsWith('CRON_')).map((d) => `${d.severity} ${d.code} ${d.path}`).sort()
    assert.deepEqual(said, [
      'warning CRON_FILE_SKIPPED /etc/cron.d/job.sh',
      'warning CRON_SCRIPT_SKIPPED /etc/cron.daily/backup.sh',
      'warning CRON_SCRIPT_SKIPPED /etc/cron.daily/rotate',
      'warning CRON_USER_UNKNOWN /etc/cron.d/nightly',
    ], out)
    const of = (path: string) => diagnostics.find((d) => d.path === path) as Diagnostic
    assert.match(of('/etc/cron.daily/backup.sh').summary, /run-parts never runs it: .*\(the "\." of "backup\.sh"\)/)
    assert.match(of('/etc/cron.daily/backup.sh').detail ?? '', /Rename it in the twin to backup /)
    assert.match(of('/etc/cron.daily/rotate').summary, /not executable \(mode 0644\)/)
    assert.match(of('/etc/cron.d/nightly').summary, /line 2: cron skips this job: user backupuser is not in the machine's \/etc\/passwd/)

    // What run-parts itself says of them once they are live: report runs, the others never do.
    const applied = await root().apply()
    assert.equal(applied.code, 0, applied.out)
    const runs = await run(['chroot', root().rootfs.dir, 'run-parts', '--test', '/etc/cron.daily'])
    assert.match(runs.stdout, /^\/etc\/cron\.daily\/report$/m, runs.stdout)
    assert.doesNotMatch(runs.stdout, /backup|rotate|old/, runs.stdout)
  })

  it('takes a user the plan adds to /etc/passwd as known', async () => {
    const nightly = '0 3 * * * root /bin/true\n45 3 * * * backupuser /usr/local/bin/backup\n'
    await writeTwinFile(root().twinDir, 'filesystem/etc/cron.d/nightly', nightly)
    assert.deepEqual((await plan()).diagnostics.filter((d) => d.code === 'CRON_USER_UNKNOWN').map((d) => d.summary.split(':')[0]), ['/etc/cron.d/nightly line 2'])
    await writeTwinFile(root().twinDir, 'filesystem/etc/passwd', `${await root().live('/etc/passwd')}backupuser:x:990:990::/nonexistent:/usr/sbin/nologin\n`)
    const { diagnostics, out } = await plan()
    assert.deepEqual(diagnostics.filter((d) => d.code === 'CRON_USER_UNKNOWN'), [], out)
  })
})
