import { strict as assert } from 'node:assert'
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, runOk } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { json } from '../support/cli.js'
import { PlantedRoot } from '../support/planted-root.js'

interface Diagnostic {
  code: string
  severity?: string
  summary: string
  path?: string
  provider?: string
  change?: string
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const DIGITS = '0123456789'
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789'

/**
 * Session 25 (left open by session 24): a systemd unit, timer or `.wants` link, a cron.d file or
 * a spool crontab named with a token. The core's guard redacted the name in units.json,
 * systemd.json and cron.json (`<redacted>.service`): no leak, but `plan` refused the whole systemd
 * part (NAME_INVALID) until the unit was renamed, the redacted name was drift, and a spool crontab
 * named like a user (`tk_…`) had its document left out and its crontab planned for delete. Now
 * the cron and systemd providers hold such a name out at collect (SYSTEMD_NAME_SECRET,
 * CRON_NAME_SECRET), as autostart does, and the diary of a snapshot that drops a name a twin
 * from before still holds never spells it.
 */
describe('a secret in the name of a systemd unit or a cron job never reaches a commit and never blocks a plan', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: PlantedRoot
  let snapshots: Diagnostic[][]
  const unit = `ghp_${fakeChars('s25-names-unit', 36)}`
  const timer = `AKIA${fakeChars('s25-names-timer', 16, UPPER)}`
  const wanted = `xoxb-${fakeChars('s25-names-wants1', 10, DIGITS)}-${fakeChars('s25-names-wants2', 13, DIGITS)}-${fakeChars('s25-names-wants3', 24)}`
  const cronD = `ghp_${fakeChars('s25-names-crond', 36)}`
  const cronOff = `AKIA${fakeChars('s25-names-cronoff', 16, UPPER)}`
  const spoolUser = `tk_${fakeChars('s25-names-spool', 29, LOWER)}`
  const spoolOther = `ghp_${fakeChars('s25-names-spool2', 36)}`
  const system = '/etc/systemd/system'
  const service = (what: string) => `[Unit]\nDescription=${what}\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n`
  const link = async (at: string, to: string) => {
    await mkdir(dirname(join(root.rootfs.dir, at)), { recursive: true })
    await symlink(to, join(root.rootfs.dir, at))
  }
  const snapshot = async (...args: string[]): Promise<Diagnostic[]> => {
    const r = await root.twinsync(['snapshot', '--json', ...args])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    return json<{ diagnostics?: Diagnostic[] }>(r).diagnostics ?? []
  }
  const git = async (...args: string[]) => (await runOk(['git', '-C', root.cli.twinDir, ...args])).stdout

  before(async () => {
    root = await PlantedRoot.create({ image: 'base', include: ['/etc'] })
    for (const [kind, value] of [
      ['unit name', unit],
      ['timer name', timer],
      ['.wants link name', wanted],
      ['cron.d file name', cronD],
      ['cron.d file cron skips', cronOff],
      ['spool crontab named like a user', spoolUser],
      ['spool file not a user name', spoolOther],
    ] as const) root.secret(kind, value)
    await root.plant(`${system}/clean-app.service`, service('clean'))
    await link(`${system}/multi-user.target.wants/clean-app.service`, `${system}/clean-app.service`)
    await root.plant(`${system}/${unit}.service`, service('agent'))
    await link(`${system}/multi-user.target.wants/${unit}.service`, `${system}/${unit}.service`)
    await root.plant(`${system}/${timer}.timer`, '[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n')
    await root.plant(`${system}/${timer}.service`, '[Service]\nExecStart=/bin/true\n')
    await link(`${system}/timers.target.wants/${timer}.timer`, `${system}/${timer}.timer`)
    // A link left behind: its unit file is gone, the name is only the link's.
    await link(`${system}/multi-user.target.wants/${wanted}.service`, `${system}/${wanted}.service`)
    await root.plant(`/etc/cron.d/${cronD}`, '17 3 * * * root /bin/true\n')
    await root.plant(`/etc/cron.d/${cronOff}.disabled`, '17 4 * * * root /bin/true\n')
    await root.plant('/etc/cron.d/clean-job', '17 5 * * * root /bin/true\n')
    await root.plant(`/var/spool/cron/crontabs/${spoolUser}`, '0 4 * * * /bin/true\n', 0o600)
    await root.plant(`/var/spool/cron/crontabs/${spoolOther}`, '0 4 * * * /bin/true\n', 0o600)
    await root.plant('/var/spool/cron/crontabs/root', '0 5 * * * /bin/true\n', 0o600)
    snapshots = [await snapshot('--init'), await snapshot()]
  })
  after(async () => {
    await root?.cleanup()
  })

  it('no object of the twin holds the tokens, and no document lists them redacted', async () => {
    await root.assertNoneLeaked()
    assert.deepEqual(root.leaked(await git('log', '-p', '--all', '--format=%s%n%b')), [])
    assert.deepEqual(root.leaked(await git('ls-tree', '-r', '--name-only', 'HEAD')), [])
    for (const doc of ['system/services/units.json', 'system/startup/systemd.json', 'system/startup/cron.json']) {
      const text = await git('show', `HEAD:${doc}`)
      assert.ok(!text.includes('<redacted>'), `${doc} lists a redacted name:\n${text}`)
    }
    assert.match(await git('show', 'HEAD:system/services/units.json'), /"clean-app\.service"/)
    assert.match(await git('show', 'HEAD:system/startup/cron.json'), /\/etc\/cron\.d\/clean-job/)
  })

  it('each snapshot says what it held out: the folder and the rule, never the name', () => {
    for (const [i, list] of snapshots.entries()) {
      const said = (code: string) => list.filter((d) => d.code === code).map((d) => `${d.path ?? ''} | ${d.summary}`).sort()
      const systemd = said('SYSTEMD_NAME_SECRET')
      assert.ok(systemd.some((l) => l.startsWith(`${system} |`) && /\(github\)/.test(l)), `snapshot ${i}: ${systemd.join('\n')}`)
      assert.ok(systemd.some((l) => l.startsWith(`${system} |`) && /\(aws-access-key\)/.test(l)), `snapshot ${i}: ${systemd.join('\n')}`)
      assert.ok(systemd.some((l) => l.startsWith(`${system}/multi-user.target.wants |`) && /\(slack/.test(l)), `snapshot ${i}: ${systemd.join('\n')}`)
      const cron = said('CRON_NAME_SECRET')
      assert.ok(cron.some((l) => l.startsWith('/etc/cron.d |') && /\(github\)/.test(l)), `snapshot ${i}: ${cron.join('\n')}`)
      assert.ok(cron.some((l) => l.startsWith('/etc/cron.d |') && /\(aws-access-key\)/.test(l)), `snapshot ${i}: ${cron.join('\n')}`)
      assert.ok(cron.some((l) => l.startsWith('/var/spool/cron/crontabs |') && /\(provider-token\)/.test(l)), `snapshot ${i}: ${cron.join('\n')}`)
      assert.ok(cron.some((l) => l.startsWith('/var/spool/cron/crontabs |') && /\(github\)/.test(l)), `snapshot ${i}: ${cron.join('\n')}`)
      // Nothing was left for the core's guard to redact or leave out.
      const guard = list.filter((d) => (d.code === 'SECRET_REDACTED' || d.code === 'SECRET_IN_NAME') && (d.provider === 'systemd' || d.provider === 'cron'))
      assert.deepEqual(guard, [], `snapshot ${i}`)
    }
    assert.deepEqual(root.leaked(JSON.stringify(snapshots)), [])
  })

  it('status shows no drift, plan plans nothing and refuses nothing for them', async () => {
    const status = await root.twinsync(['status', '--json'])
    assert.equal(status.code, 0, status.stdout + status.stderr)
    assert.equal(json<{ drift: boolean }>(status).drift, false, status.stdout)
    const plan = await root.twinsync(['plan', '--json'])
    assert.equal(plan.code, 0, plan.stdout + plan.stderr)
    const planned = json<{ changes: unknown[]; diagnostics?: Diagnostic[] }>(plan)
    assert.deepEqual(planned.changes, [], plan.stdout)
    assert.deepEqual((planned.diagnostics ?? []).filter((d) => d.severity === 'error'), [], plan.stdout)
    const startup = await root.twinsync(['startup', '--json'])
    assert.equal(startup.code, 0, startup.stdout + startup.stderr)
    assert.match(startup.stdout, /clean-app\.service/)
    // The table lacks them, and says so by folder and rule.
    const notes = (json<{ diagnostics?: Diagnostic[] }>(startup).diagnostics ?? []).map((d) => d.code)
    assert.ok(notes.includes('SYSTEMD_NAME_SECRET') && notes.includes('CRON_NAME_SECRET'), startup.stdout)
    await root.assertNoneLeaked()
  })

  it('the rest of the systemd and cron parts plans as usual', async () => {
    const twin = root.cli.twinDir
    const unitsPath = join(twin, 'system/services/units.json')
    const units = JSON.parse(await readFile(unitsPath, 'utf8')) as { units: Record<string, { state: string }> }
    assert.equal(units.units['clean-app.service']?.state, 'enabled')
    ;(units.units['clean-app.service'] as { state: string }).state = 'disabled'
    await writeFile(unitsPath, `${JSON.stringify(units, null, 2)}\n`)
    await writeFile(join(twin, 'filesystem/var/spool/cron/crontabs/root'), '0 5 * * * /bin/true\n0 6 * * * /bin/true\n')
    try {
      const plan = await root.twinsync(['plan', '--json'])
      assert.equal(plan.code, 0, plan.stdout + plan.stderr)
      const planned = json<{ changes: Array<{ id: string }>; diagnostics?: Diagnostic[] }>(plan)
      assert.deepEqual(planned.changes.map((c) => c.id).sort(), ['cron:replace:/var/spool/cron/crontabs/root', 'systemd:disable:clean-app.service'], plan.stdout)
      assert.deepEqual((planned.diagnostics ?? []).filter((d) => d.severity === 'error'), [], plan.stdout)
      await root.assertNoneLeaked()
    } finally {
      await git('checkout', '--', '.')
    }
  })

  it('a twin from before that holds such a name: the snapshot that drops it never spells it in its diary', async () => {
    // What session 23's snapshot made of a crontab named like a user, and of a unit file so named
    // (the files provider mirrored it then): documents under the token's name.
    const twin = root.cli.twinDir
    await writeFile(join(twin, 'filesystem/var/spool/cron/crontabs', spoolUser), '0 4 * * * /bin/true\n')
    await writeFile(join(twin, `filesystem${system}`, `${unit}.service`), service('agent'))
    await git('add', '-A')
    await git('commit', '-q', '-m', 'TwinSync snapshot 2026-11-01T10:00:00Z')
    await git('update-ref', 'refs/twinsync/observed', 'HEAD')
    const r = await root.twinsync(['snapshot', '--json'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const result = json<{ message?: string; changes?: unknown }>(r)
    const message = await git('log', '-1', '--format=%B')
    assert.ok(!message.startsWith('TwinSync snapshot 2026-11-01'), 'a new snapshot was committed')
    assert.deepEqual(root.leaked(message), [], message)
    // The diary as printed, the changes it words and the twin paths it counts.
    assert.deepEqual(root.leaked(r.stdout + r.stderr), [], r.stdout)
    assert.match(JSON.stringify(result.changes), /<redacted>/)
    const shown = await root.twinsync(['history', '--json'])
    assert.equal(shown.code, 0, shown.stdout + shown.stderr)
    const newest = JSON.stringify(json<unknown[]>(shown)[0] ?? '')
    assert.deepEqual(root.leaked(newest), [], newest)
    assert.deepEqual(root.leaked(await git('ls-tree', '-r', '--name-only', 'HEAD')), [])
  })
})
