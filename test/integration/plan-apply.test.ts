import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chrootOk, freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, run, type Rootfs } from '../bed/index.js'
import { cliSandbox, gitLog, json, type CliSandbox } from '../support/cli.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'

interface PlanJson {
  changes: Array<{ id: string; category: string; operation: string }>
  basis: { twinCommit: string | null }
}

/** plan, status and apply through the real binary, on a Debian root file system (offline). */
describe('twinsync plan, status and apply on a Debian root (--root)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', rootfs.dir, '--repo', cli.twinDir])
  const live = (path: string) => readFile(join(rootfs.dir, path), 'utf8')
  const manifestMode = (mode: string) =>
    editTwinJson<{ entries: Array<{ path: string; mode: string }> }>(cli.twinDir, 'system/files/manifest.json', (m) => {
      const entry = m.entries.find((e) => e.path === '/etc/motd')
      assert.ok(entry, '/etc/motd is in the manifest')
      entry.mode = mode
    })

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    const first = await twinsync('snapshot', '--init')
    assert.equal(first.code, 0, first.stderr)
  })
  after(async () => {
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('plans nothing for an unchanged root, and status says it is in sync', async () => {
    const plan = await twinsync('plan', '--json')
    assert.equal(plan.code, 0, plan.stderr)
    assert.deepEqual(json<PlanJson>(plan).changes, [])
    const status = await twinsync('status', '--exit-code')
    assert.equal(status.code, 0, status.stdout + status.stderr)
    assert.match(status.stdout, /In sync/)
  })

  it('plans an edited twin across domains; without --yes off a terminal it refuses and changes nothing', async () => {
    await writeTwinFile(cli.twinDir, 'filesystem/etc/motd', 'Welcome to the twin\n')
    await manifestMode('0600')
    await editTwinJson<{ units: Record<string, { state: string }> }>(cli.twinDir, 'system/services/units.json', (u) => {
      assert.equal(u.units['e2scrub_reap.service']?.state, 'enabled')
      ;(u.units['e2scrub_reap.service'] as { state: string }).state = 'disabled'
    })
    await writeTwinFile(cli.twinDir, 'filesystem/var/spool/cron/crontabs/root', '@reboot touch /root/rebooted\n')
    await writeTwinFile(cli.twinDir, 'scripts/mark.sh', '#!/bin/sh\necho "ran as $(id -un)" > /etc/script-ran\n')
    await writeTwinFile(cli.twinDir, 'plans/mark.yaml', 'actions:\n  - script: mark.sh\n    description: Leave a mark\n')

    const status = await twinsync('status', '--exit-code', '--json')
    assert.equal(status.code, 1, 'pending intent exits 1 with --exit-code')
    const report = json<{ drift: boolean; pending: { domains: Array<{ category: string }> } }>(status)
    assert.equal(report.drift, false, 'edits are pending intent, not drift')
    // The run-once script of plans/ too: an apply would run it (session 45; before, status left it out).
    assert.deepEqual(report.pending.domains.map((d) => d.category), ['files', 'services', 'startup', 'commands'])

    const plan = json<PlanJson>(await twinsync('plan', '--json'))
    assert.equal(plan.basis.twinCommit, null, 'an edited working twin has no commit as its basis')
    const ops = plan.changes.map((c) => `${c.category}:${c.operation}`).sort()
    // New content and a new mode for one file are one replace (the write carries the mode).
    assert.deepEqual(ops, ['commands:script', 'files:replace', 'services:disable', 'startup:create'])

    const refused = await twinsync('apply')
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /\[CONFIRMATION_REQUIRED\]/)
    assert.notEqual(await live('etc/motd'), 'Welcome to the twin\n')
  })

  it('applies with --yes: the root matches, a checkpoint and a journal are committed, and the next plan is empty', async () => {
    const before = (await gitLog(cli.twinDir)).length
    const r = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(await live('etc/motd'), 'Welcome to the twin\n')
    assert.equal((await stat(join(rootfs.dir, 'etc/motd'))).mode & 0o7777, 0o600)
    const enabled = await run(['systemctl', `--root=${rootfs.dir}`, 'is-enabled', 'e2scrub_reap.service'])
    assert.equal(enabled.stdout.trim(), 'disabled')
    assert.match((await chrootOk(rootfs.dir, 'crontab', ['-l', '-u', 'root'])).stdout, /^@reboot touch \/root\/rebooted$/m)
    assert.equal(await live('etc/script-ran'), 'ran as root\n')

    const log = await gitLog(cli.twinDir)
    assert.match(log[0] ?? '', /^TwinSync apply .*: 4 applied, 0 unchanged, 0 failed, 0 skipped$/)
    assert.match(log[1] ?? '', /^TwinSync checkpoint before apply /)
    assert.match(log[2] ?? '', /^TwinSync edit before apply /)
    assert.equal(log.length, before + 3)
    const journals = (await readdir(join(cli.twinDir, 'system/journal'))).filter((f) => f.startsWith('apply-'))
    assert.equal(journals.length, 1)
    const journal = JSON.parse(await readFile(join(cli.twinDir, 'system/journal', journals[0] as string), 'utf8'))
    assert.equal(journal.steps.length, 4)
    assert.ok(journal.steps.every((s: { status: string; startedAt: string; endedAt: string }) => s.status === 'applied' && s.startedAt <= s.endedAt))

    const again = json<PlanJson>(await twinsync('plan', '--json'))
    assert.deepEqual(again.changes.map((c) => c.id), [], 'the script ran once and everything else matches')
    assert.equal((await twinsync('status', '--exit-code')).code, 0)
  })

  it('refuses a saved plan when the machine changed since it was made', async () => {
    await writeTwinFile(cli.twinDir, 'filesystem/etc/motd', 'Second message\n')
    const planFile = join(cli.dir, 'plan.json')
    assert.equal((await twinsync('plan', '--out', planFile)).code, 0)
    await writeFile(join(rootfs.dir, 'etc/motd'), 'Changed by hand\n')
    const r = await twinsync('apply', planFile, '--yes', '--accept-high-risk')
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.match(r.stderr, /\[PLAN_STALE\].*files:replace:\/etc\/motd/)
    assert.equal(await live('etc/motd'), 'Changed by hand\n')
  })

  it('refuses a saved plan that was edited', async () => {
    const planFile = join(cli.dir, 'plan.json')
    assert.equal((await twinsync('plan', '--out', planFile)).code, 0)
    const plan = JSON.parse(await readFile(planFile, 'utf8'))
    const change = plan.changes.find((c: { id: string }) => c.id === 'files:replace:/etc/motd')
    change.data.path = '/etc/../root/.bashrc'
    await writeFile(planFile, JSON.stringify(plan))
    const r = await twinsync('apply', planFile, '--yes', '--accept-high-risk')
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\[PLAN_TAMPERED\]/)
    assert.equal(await live('etc/motd'), 'Changed by hand\n')
  })

  it('refuses a second apply while another holds the lock, naming its pid', async () => {
    const holder = spawn('sleep', ['60'])
    const lock = join(cli.twinDir, '.git/twinsync/lock')
    try {
      await writeFile(lock, `${holder.pid} apply\n`)
      const r = await twinsync('apply', '--yes', '--accept-high-risk')
      assert.equal(r.code, 2)
      assert.match(r.stderr, new RegExp(`\\[LOCK_HELD\\].*pid ${holder.pid}`))
      assert.equal(await live('etc/motd'), 'Changed by hand\n')
    } finally {
      holder.kill()
      await rm(lock, { force: true })
    }
  })

  it('refuses a twin with a package name that could be a shell command, before anything runs', async () => {
    await editTwinJson<{ packages: Record<string, unknown> }>(cli.twinDir, 'system/packages/apt.json', (a) => {
      a.packages['hello; rm -rf /'] = { architecture: 'amd64', hold: false, manual: true, version: '1' }
    })
    const plan = await twinsync('plan')
    assert.equal(plan.code, 1, 'plan finishes but reports the error')
    assert.match(plan.stdout, /error: apt: The twin lists an invalid package name: "hello; rm -rf \/"/)
    const r = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\[NAME_INVALID\] Nothing was applied/)
    assert.equal(await live('etc/motd'), 'Changed by hand\n')
    await run(['git', '-C', cli.twinDir, 'checkout', '--', 'system/packages/apt.json'])
  })

  it('refuses a cron.d entry with an invalid schedule before the file is written', async () => {
    await writeTwinFile(cli.twinDir, 'filesystem/etc/cron.d/backup', 'SHELL=/bin/sh\n61 2 * * * root /usr/local/bin/backup\n')
    const plan = await twinsync('plan')
    assert.equal(plan.code, 1)
    assert.match(plan.stdout, /error: cron: \/etc\/cron\.d\/backup: line 2: /)
    const r = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(r.code, 2)
    assert.match(r.stderr, /\[CONTENT_INVALID\] Nothing was applied/)
    await assert.rejects(stat(join(rootfs.dir, 'etc/cron.d/backup')), 'the entry was not written')
    await writeTwinFile(cli.twinDir, 'filesystem/etc/cron.d/backup', 'SHELL=/bin/sh\n15 2 * * * root /usr/local/bin/backup\n')
    const fixed = json<PlanJson>(await twinsync('plan', '--json'))
    assert.ok(fixed.changes.some((c) => c.id === 'files:create:/etc/cron.d/backup'), JSON.stringify(fixed.changes.map((c) => c.id)))
    await rm(join(cli.twinDir, 'filesystem/etc/cron.d/backup'))
  })

  it('refuses malformed instructions and scripts outside scripts/, changing nothing', async () => {
    await writeTwinFile(cli.twinDir, 'plans/bad.yaml', 'actions:\n  - run: [ls]\n    colour: red\n')
    const bad = await twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /\[PLAN_INVALID\] plans\/bad\.yaml:3: "actions\[0\]\.colour": unknown key/)

    await writeTwinFile(cli.twinDir, 'plans/bad.yaml', 'actions:\n  - script: ../../etc/passwd\n')
    const outside = await twinsync('plan')
    assert.equal(outside.code, 2)
    assert.match(outside.stderr, /\[SCRIPT_INVALID\]/)
    await rm(join(cli.twinDir, 'plans/bad.yaml'))
    assert.equal(await live('etc/motd'), 'Changed by hand\n')
  })

  it('applies the same saved plan twice: the second time changes nothing and says so', async () => {
    await run(['git', '-C', cli.twinDir, 'checkout', '--', '.'])
    await writeTwinFile(cli.twinDir, 'filesystem/etc/issue.net', 'Twin-managed banner\n')
    const planFile = join(cli.dir, 'issue.json')
    const made = await twinsync('plan', '--only', 'files', '--out', planFile)
    assert.equal(made.code, 0, made.stderr)
    const first = await twinsync('apply', planFile, '--yes', '--accept-high-risk')
    assert.equal(first.code, 0, first.stdout + first.stderr)
    const applied = /^(\d+) applied, 0 unchanged, 0 failed, 0 skipped\.$/m.exec(first.stdout)?.[1]
    assert.ok(applied !== undefined && Number(applied) >= 1, first.stdout)
    const again = await twinsync('apply', planFile, '--yes', '--accept-high-risk')
    assert.equal(again.code, 0, again.stdout + again.stderr)
    assert.match(again.stdout, new RegExp(`^0 applied, ${applied} unchanged, 0 failed, 0 skipped\\.$`, 'm'))
    assert.match(again.stdout, /unchanged {2}Replace \/etc\/issue\.net.*: already in place/)
    assert.equal(await live('etc/issue.net'), 'Twin-managed banner\n')
  })

  // Session 16: a saved change the fresh plan no longer had was reported "unchanged: already in
  // place" (exit 0) whatever the reason, and the approved change was never made.
  it('refuses a saved plan of an edited twin whose edit was taken back since (PLAN_STALE, exit 2), not "already in place"', async () => {
    await writeTwinFile(cli.twinDir, 'filesystem/etc/issue.net', 'Banner the person approved\n')
    const planFile = join(cli.dir, 'withdrawn.json')
    assert.equal((await twinsync('plan', '--only', 'files', '--out', planFile)).code, 0)
    // The working twin moves back (a pull, a discard, an edit): it no longer asks for the banner.
    await run(['git', '-C', cli.twinDir, 'checkout', '--', 'filesystem/etc/issue.net'])
    const before = await gitLog(cli.twinDir)
    const r = await twinsync('apply', planFile, '--yes', '--accept-high-risk')
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.match(r.stderr, /\[PLAN_STALE\].*files:replace:\/etc\/issue\.net/)
    assert.match(r.stderr, /Next step: Make a new plan/)
    assert.doesNotMatch(r.stdout, /already in place/)
    assert.equal(await live('etc/issue.net'), 'Twin-managed banner\n')
    assert.deepEqual(await gitLog(cli.twinDir), before, 'nothing committed')
  })

  it('refuses a saved plan of a snapshot when the machine deleted the file it replaces (PLAN_STALE), not "already in place"', async () => {
    await writeTwinFile(cli.twinDir, 'filesystem/etc/issue.net', 'Committed banner\n')
    await run(['git', '-C', cli.twinDir, 'commit', '-qam', 'a banner'])
    const planFile = join(cli.dir, 'deleted.json')
    assert.equal((await twinsync('plan', '--only', 'files', '--out', planFile)).code, 0)
    assert.notEqual(json<PlanJson>(await twinsync('plan', '--only', 'files', '--json')).basis.twinCommit, null, 'planned from a commit')
    await rm(join(rootfs.dir, 'etc/issue.net'))
    const r = await twinsync('apply', planFile, '--yes', '--accept-high-risk')
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.match(r.stderr, /\[PLAN_STALE\].*files:replace:\/etc\/issue\.net/)
    await assert.rejects(stat(join(rootfs.dir, 'etc/issue.net')), { code: 'ENOENT' })
  })

})
