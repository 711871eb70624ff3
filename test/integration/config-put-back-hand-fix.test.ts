import { strict as assert } from 'node:assert'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOTFS_BUILD_TIMEOUT_MS, run } from '../bed/index.js'
import { cliRoot, json, type CliRoot, type Step, TWINSYNC_BIN } from '../support/cli.js'
import { applyWaitingOnChecker, descendants } from '../support/processes.js'
import { editTwinJson, writeTwinFile } from '../support/twin-edit.js'

const SITE = '/etc/nginx/sites-available/site'
const FIFO = 'run/twinsync-test-hang'
const PENDING = '.git/twinsync/config-checks-pending.json'
const rootOf = (r: CliRoot) => r.rootfs.dir

interface Finished {
  service: string
  restored: string[]
  skipped?: string[]
}
interface Report {
  checksFinished?: Finished[]
  journal: { steps: Step[]; diagnostics: Array<{ code: string; summary: string }> }
}

/**
 * Session 46 (session 45's review, M1). An nginx site is rejected and putting the previous one back
 * fails (the folder's file system full), so the record says the files go back, and the next apply
 * puts them back asking no checker. Meanwhile the admin frees the space and fixes the site by hand
 * (`nginx -t` passes). That apply wrote the kept file over the fix, and its checkpoint took the old
 * file as the machine's: the fix was in no commit. Now a path changed since the failed apply is left
 * alone, the checker judges the live configuration, and the apply says so (CONFIG_RESTORE_SKIPPED).
 *
 * Real: the checkers root, nginx -t in its sandbox, a 64 KiB tmpfs as /etc/nginx/sites-available.
 * The moment between the write and the put-back is held open by a FIFO the new site includes
 * (nginx -t waits on it); the test fills the tmpfs then and kills that nginx -t, which the apply
 * takes as a rejection.
 */
describe('a rejected nginx site whose put-back failed, fixed by hand before the next apply (checkers root, real nginx -t)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: CliRoot | undefined
  let mounted = ''
  const dir = () => (root as CliRoot).rootfs.dir

  before(async function () {
    if (process.getuid?.() !== 0) this.skip()
    root = await cliRoot({
      image: 'checkers',
      prepare: async (rootDir) => {
        const folder = join(rootDir, 'etc/nginx/sites-available')
        const aside = await mkdtemp(join(tmpdir(), 'twinsync-sites-'))
        assert.equal((await run(['cp', '-a', `${folder}/.`, aside])).code, 0)
        assert.equal((await run(['mount', '-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', folder])).code, 0)
        mounted = folder
        assert.equal((await run(['cp', '-a', `${aside}/.`, folder])).code, 0)
        await rm(aside, { recursive: true, force: true })
        assert.equal((await run(['mkfifo', join(rootDir, FIFO)])).code, 0)
      },
    })
  })
  after(async () => {
    if (mounted !== '') await run(['umount', '-l', mounted])
    await root?.cleanup()
  })

  it('leaves the hand fix live, says so, and the twin asks for the rejected site again', async () => {
    const r = root as CliRoot
    const old = await r.live(SITE)
    const rejectedSite = `include /${FIFO};\n${old}`
    await writeTwinFile(r.twinDir, `filesystem${SITE}`, rejectedSite)
    const child = spawn('node', [TWINSYNC_BIN, 'apply', '--yes', '--accept-high-risk', '--json', '--root', dir(), '--repo', r.twinDir], { env: r.cli.env(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    // nginx -t of the new site, waiting on the FIFO (the baseline before the write ends at once).
    const deadline = Date.now() + 120_000
    let waiting: Array<{ pid: number; comm: string }> = []
    for (let seen = 0; seen < 3; ) {
      assert.ok(Date.now() < deadline, `nginx -t never waited on the FIFO:\n${stdout}${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 300))
      waiting = (await descendants(child.pid as number)).filter((p) => p.comm === 'nginx')
      seen = (await r.live(SITE)) === rejectedSite && waiting.length > 0 ? seen + 1 : 0
    }
    // The folder's file system full, then the checker's verdict: no (it was killed).
    await run(['dd', 'if=/dev/zero', `of=${join(mounted, '.filler')}`, 'bs=1k'])
    for (const p of waiting) process.kill(p.pid, 'SIGKILL')
    assert.equal(await exited, 1, stdout + stderr)
    const first = JSON.parse(stdout) as Report
    assert.match(first.journal.steps.find((s) => s.id === `files:replace:${SITE}`)?.message ?? '', /`nginx -t` rejects the new nginx configuration; putting the previous files back failed: .*(ENOSPC|full).*; the next apply puts them back before anything else/)
    assert.equal(await r.live(SITE), rejectedSite, 'not put back: the rejected site is live')

    // The admin frees the space and fixes the site by hand; nginx -t passes on it.
    await rm(join(mounted, '.filler'))
    const fixed = `${old}# fixed by hand: no include of the FIFO\n`
    await writeFile(join(dir(), SITE), fixed)
    const check = await run(['chroot', dir(), 'nginx', '-t'])
    assert.equal(check.code, 0, check.stderr)

    const next = await r.twinsync('apply', '--yes', '--accept-high-risk', '--json')
    assert.equal(next.code, 1, next.stdout + next.stderr)
    const report = json<Report>(next)
    assert.deepEqual(report.checksFinished?.map((f) => [f.service, f.restored, f.skipped]), [['nginx', [], [SITE]]])
    assert.match(report.journal.diagnostics.find((d) => d.code === 'CONFIG_RESTORE_SKIPPED')?.summary ?? '', new RegExp(`^nginx: its checker rejected ${SITE} in an earlier apply, which did not put all the previous files back; ${SITE} is not as that apply left it \\(changed since\\), so it is left as it is; \`nginx -t\` passes on the live configuration, so nothing was put back$`))
    assert.equal(await r.live(SITE), fixed, 'the hand fix stays')
    await assert.rejects(readFile(join(r.twinDir, PENDING)), { code: 'ENOENT' })
    // The twin still asks for what it asked for (the rejected site): the next plan shows it.
    assert.deepEqual(await r.planIds(), [`files:replace:${SITE}`])
  })
})

/**
 * Session 46 (session 45's review, M2). A folder nginx's checker judges, deleted whole, whose files
 * add up to more than can be kept to be put back (16 MiB): the delete went ahead, and had nginx -t
 * rejected it nothing could have put the folder back (the record was dropped on purpose). Session 46
 * refused the whole plan for it; session 46's review (G5): one such change then stopped every other
 * approved change. Now the plan leaves it out, named with the ways out (`discard` among them), the
 * rest of the plan (an nginx site, checked by nginx -t) is applied, and it stays pending until
 * discarded.
 */
describe('a checked folder delete too large to be kept (checkers root, real nginx -t)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: CliRoot | undefined
  const GEO = '/etc/nginx/geo'
  // 18 files of 1,000,000 bytes: each one a snapshot copies (maxFileSize 1 MiB), together over 16 MiB.
  const FILES = 18

  before(async function () {
    if (process.getuid?.() !== 0) this.skip()
    root = await cliRoot({
      image: 'checkers',
      prepare: async (rootDir) => {
        await mkdir(join(rootDir, GEO))
        const line = '10.0.0.0/24 1;\n'
        for (let i = 0; i < FILES; i++) await writeFile(join(rootDir, GEO, `part-${String(i).padStart(2, '0')}.map`), line.repeat(Math.floor(1_000_000 / line.length)))
      },
    })
  })
  after(async () => {
    await root?.cleanup()
  })

  it('is left out of plan and apply, with what to do, the rest is applied, and it stays pending until discarded', async () => {
    const r = root as CliRoot
    await rm(join(r.twinDir, `filesystem${GEO}`), { recursive: true })
    await editTwinJson<{ entries: Array<{ path: string }> }>(r.twinDir, 'system/files/manifest.json', (m) => {
      m.entries = m.entries.filter((e) => e.path !== GEO && !e.path.startsWith(`${GEO}/`))
    })
    const site = `${await r.live(SITE)}# a note the twin adds\n`
    await writeTwinFile(r.twinDir, `filesystem${SITE}`, site)
    const plan = await r.twinsync('plan', '--json')
    const planned = json<{ changes: Array<{ id: string }>; diagnostics: Array<{ code: string; severity: string; summary: string; path?: string; change?: string; detail?: string }> }>(plan)
    assert.deepEqual(planned.changes.map((c) => c.id), [`files:replace:${SITE}`], plan.stdout + plan.stderr)
    const said = planned.diagnostics.find((d) => d.code === 'CONFIG_CANNOT_PUT_BACK')
    assert.equal(said?.severity, 'warning', plan.stdout)
    assert.equal(said?.path, GEO)
    assert.equal(said?.change, `files:delete:${GEO}`)
    assert.match(said?.summary ?? '', /^\/etc\/nginx\/geo: left out: its service's checker judges it before it is live, and what it is now cannot be kept to be put back if the check fails \(what is below it is larger than 16777216 bytes or 10000 entries and was not kept\)$/)
    assert.match(said?.detail ?? '', /`twinsync discard files:delete:\/etc\/nginx\/geo [^`]*`/)

    const apply = await r.twinsync('apply', '--yes', '--accept-high-risk')
    assert.equal(apply.code, 0, apply.stdout + apply.stderr)
    assert.match(apply.stdout, /CONFIG_CANNOT_PUT_BACK/)
    assert.match(apply.stdout, /Next step: The rest of the plan runs without it/)
    assert.equal(await r.live(SITE), site, 'the rest of the plan is applied')
    assert.equal((await readdir(join(r.rootfs.dir, GEO))).length, FILES, 'nothing deleted')
    const again = json<{ changes: unknown[]; diagnostics: Array<{ code: string; change?: string }> }>(await r.twinsync('plan', '--json'))
    assert.deepEqual([again.changes, again.diagnostics.filter((d) => d.code === 'CONFIG_CANNOT_PUT_BACK').map((d) => d.change)], [[], [`files:delete:${GEO}`]], 'still asked for')
    const status = await r.statusJson<{ pending: { items: Array<{ id: string }> } }>()
    assert.deepEqual(status.pending.items.map((i) => i.id), [`files:delete:${GEO}`], 'status shows it pending')

    // The way out the warning names: discarded, the twin no longer asks for it.
    const discard = await r.twinsync('discard', `files:delete:${GEO}`)
    assert.equal(discard.code, 0, discard.stdout + discard.stderr)
    const after = json<{ changes: unknown[]; diagnostics: Array<{ code: string }> }>(await r.twinsync('plan', '--json'))
    assert.deepEqual([after.changes, after.diagnostics.filter((d) => d.code === 'CONFIG_CANNOT_PUT_BACK')], [[], []])
    assert.equal((await readdir(join(r.rootfs.dir, GEO))).length, FILES)
  })
})

/**
 * Session 46's review (G6). A folder an apply made (absent before) went back with `rm -rf`, with
 * whatever a person had made in it since. Real: the checkers root; an apply killed (kill -9) while
 * `nginx -t` waits on a FIFO that a file in the new folder includes; the admin adds a file of their
 * own in that folder; the next apply's `nginx -t` rejects the live configuration (the FIFO gone),
 * so the interrupted group goes back: the apply's files go, the folder stays with the admin's file,
 * and CONFIG_RESTORE_SKIPPED says so.
 */
describe('a folder an interrupted apply made, with a file a person added in it since (checkers root, real nginx -t)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: CliRoot | undefined
  const EXTRA = '/etc/nginx/extra'
  const INCLUDE = '/etc/nginx/conf.d/extra.conf'
  const HANG = `${EXTRA}/hang.conf`
  const MINE = `${EXTRA}/mine.conf`

  before(async function () {
    if (process.getuid?.() !== 0) this.skip()
    root = await cliRoot({
      image: 'checkers',
      prepare: async (rootDir) => {
        assert.equal((await run(['mkfifo', join(rootDir, FIFO)])).code, 0)
      },
    })
  })
  after(async () => {
    await root?.cleanup()
  })

  it('puts back what the apply made and keeps the folder holding the person\'s file, saying so', async () => {
    const r = root as CliRoot
    await writeTwinFile(r.twinDir, `filesystem${INCLUDE}`, `include ${EXTRA}/*.conf;\n`)
    await writeTwinFile(r.twinDir, `filesystem${HANG}`, `include /${FIFO};\n`)
    const { child, exited, waiting } = await applyWaitingOnChecker(TWINSYNC_BIN, ['apply', '--yes', '--accept-high-risk', '--root', rootOf(r), '--repo', r.twinDir], r.cli.env(), () => r.live(HANG).then(() => true, () => false))
    child.kill('SIGKILL')
    await exited
    // Its sandbox ends with it (unshare --kill-child): those processes were started by the apply.
    for (const p of waiting) if (p.comm === 'unshare') process.kill(p.pid, 'SIGKILL')
    // The admin's own file in the new folder; the FIFO gone, so nginx -t fails on the live configuration.
    await writeFile(join(rootOf(r), MINE), '# made by hand\n')
    await rm(join(rootOf(r), FIFO))

    // The next apply settles the record first, whatever it plans; planned for commands alone, so that
    // its own plan (which would delete mine.conf, a file the twin does not have, for the person to
    // approve) does not touch the folder.
    const next = await r.twinsync('apply', '--yes', '--accept-high-risk', '--json', '--only', 'commands')
    assert.equal(next.code, 1, next.stdout + next.stderr)
    const report = json<Report>(next)
    assert.deepEqual(report.checksFinished?.map((f) => [f.service, f.restored, f.skipped]), [['nginx', [INCLUDE, HANG], [EXTRA]]])
    assert.match(report.journal.diagnostics.find((d) => d.code === 'CONFIG_RESTORE_SKIPPED')?.summary ?? '', /^nginx: an interrupted apply wrote .* and was killed before its check ended; `nginx -t` rejects the live configuration: .*, so the previous files are back; \/etc\/nginx\/extra holds mine\.conf, which the put-back does not remove, so it stays$/)
    assert.deepEqual(await readdir(join(rootOf(r), EXTRA)), ['mine.conf'], "the apply's file is gone, the person's stays")
    assert.equal(await r.live(MINE), '# made by hand\n')
    await assert.rejects(r.live(INCLUDE))
    await assert.rejects(readFile(join(r.twinDir, PENDING)), { code: 'ENOENT' })
  })
})

/**
 * Session 47's review, F6. A put-back of nginx's conf.d (kept whole) was killed half way (a.conf back,
 * b.conf not), and the admin fixed the site by hand meanwhile. The next apply's `nginx -t` passes on
 * the hand fix with the folder half back, so only the folder's put-back is finished; but b.conf and
 * the fixed site define the same upstream. Before, nothing checked the finished configuration; now
 * `nginx -t` runs again and its rejection is said (CONFIG_CHECK_FAILED), nothing undone. The record
 * is written as markGoingBack writes one (what the apply left noted in `written`).
 */
describe('a half-done folder put-back finished after a hand fix passed (checkers root, real nginx -t)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: CliRoot | undefined
  const CONF_D = '/etc/nginx/conf.d'
  const B = 'upstream dup { server 127.0.0.1:3; }\n'

  before(async function () {
    if (process.getuid?.() !== 0) this.skip()
    root = await cliRoot({ image: 'checkers' })
  })
  after(async () => {
    await root?.cleanup()
  })

  it('checks the configuration once the folder is finished, and says the rejection without undoing it', async () => {
    const r = root as CliRoot
    const old = await r.live(SITE)
    const kept = (text: string) => ({ kind: 'file', content: Buffer.from(text).toString('base64'), mode: 0o644, uid: 0, gid: 0 })
    const folder = await stat(join(rootOf(r), CONF_D))
    await writeFile(join(rootOf(r), `${CONF_D}/a.conf`), 'upstream a { server 127.0.0.1:1; }\n', { mode: 0o644 })
    const fixed = `${old}upstream dup { server 127.0.0.1:2; }\n`
    await writeFile(join(rootOf(r), SITE), fixed)
    await mkdir(join(r.twinDir, '.git/twinsync'), { recursive: true })
    await writeFile(
      join(r.twinDir, PENDING),
      JSON.stringify({
        version: 1,
        pending: [
          {
            service: 'nginx',
            root: rootOf(r),
            goBack: true,
            files: [
              { path: SITE, previous: kept(old), written: 'file:0:644:0:0' },
              { path: CONF_D, previous: { kind: 'tree', mode: folder.mode & 0o7777, uid: folder.uid, gid: folder.gid, entries: [{ path: `${CONF_D}/a.conf`, previous: kept('upstream a { server 127.0.0.1:1; }\n') }, { path: `${CONF_D}/b.conf`, previous: kept(B) }] }, written: 'absent' },
            ],
          },
        ],
      }),
      { mode: 0o600 },
    )
    assert.equal((await run(['chroot', rootOf(r), 'nginx', '-t'])).code, 0, 'the hand fix passes with the folder half back')

    const next = await r.twinsync('apply', '--yes', '--accept-high-risk', '--json', '--only', 'commands')
    assert.equal(next.code, 1, next.stdout + next.stderr)
    const report = json<Report>(next)
    assert.deepEqual(report.checksFinished?.map((f) => [f.service, f.restored, f.skipped]), [['nginx', [CONF_D], [SITE]]])
    assert.match(report.journal.diagnostics.find((d) => d.code === 'CONFIG_RESTORE_SKIPPED')?.summary ?? '', /so only the put-back an earlier run left half done is finished \(\/etc\/nginx\/conf\.d\): it is back; then `nginx -t` rejects the configuration so finished \(CONFIG_CHECK_FAILED\)$/)
    assert.match(report.journal.diagnostics.find((d) => d.code === 'CONFIG_CHECK_FAILED')?.summary ?? '', /^nginx: `nginx -t` passed on \/etc\/nginx\/sites-available\/site as changed by hand, but rejects the configuration once the put-back an earlier run left half done was finished \(\/etc\/nginx\/conf\.d\): .*duplicate upstream "dup".*; nothing is undone$/)
    assert.equal(await r.live(`${CONF_D}/b.conf`), B, 'nothing undone')
    assert.equal(await r.live(SITE), fixed, 'the hand fix stays')
    await assert.rejects(readFile(join(r.twinDir, PENDING)), { code: 'ENOENT' })
  })
})

/**
 * Session 48's putback2, left alone. A run killed while `nginx -t` judged a site leaves the site
 * live and a record; the admin fixes the site in the twin, saves a plan (`plan --out FILE`: the
 * rejected site live) and applies it (`apply FILE`). That apply puts the previous site back before
 * the plan's changes and compared the saved plan with a fresh one, which saw the site put back:
 * PLAN_STALE, and one more `plan` needed. Now the saved step stands when it is still what a fresh
 * plan says (the site's live fingerprint aside), and is made from the site put back, checked.
 */
describe('a plan saved while a put-back was pending, applied from its file (checkers root, real nginx -t)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let root: CliRoot | undefined

  before(async function () {
    if (process.getuid?.() !== 0) this.skip()
    root = await cliRoot({ image: 'checkers' })
  })
  after(async () => {
    await root?.cleanup()
  })

  it('puts the previous site back, then applies the saved step from it; a saved plan the twin moved from since is still refused', async () => {
    const r = root as CliRoot
    const old = await r.live(SITE)
    const site = await stat(join(rootOf(r), SITE))
    const planFile = join(r.cli.dir, 'plan.json')
    // What a kill while nginx -t judged the rejected site leaves: the site live, the record undecided.
    const killedWhileChecking = async () => {
      await writeFile(join(rootOf(r), SITE), `${old}no_such_directive on;\n`)
      await mkdir(join(r.twinDir, '.git/twinsync'), { recursive: true })
      const previous = { kind: 'file', content: Buffer.from(old).toString('base64'), mode: site.mode & 0o7777, uid: site.uid, gid: site.gid }
      await writeFile(join(r.twinDir, PENDING), JSON.stringify({ version: 1, pending: [{ service: 'nginx', root: rootOf(r), files: [{ path: SITE, previous }] }] }), { mode: 0o600 })
      assert.notEqual((await run(['chroot', rootOf(r), 'nginx', '-t'])).code, 0, 'nginx -t rejects the site left live')
    }

    await killedWhileChecking()
    const fixed = `${old}# fixed in the twin\n`
    await writeTwinFile(r.twinDir, `filesystem${SITE}`, fixed)
    const planned = await r.twinsync('plan', '--out', planFile)
    assert.equal(planned.code, 0, planned.stdout + planned.stderr)
    assert.deepEqual((JSON.parse(await readFile(planFile, 'utf8')) as { changes: Array<{ id: string }> }).changes.map((c) => c.id), [`files:replace:${SITE}`])
    const applied = await r.twinsync('apply', planFile, '--yes', '--accept-high-risk', '--json')
    assert.equal(applied.code, 1, applied.stdout + applied.stderr)
    const report = json<Report>(applied)
    assert.deepEqual(report.checksFinished?.map((f) => [f.service, f.restored]), [['nginx', [SITE]]])
    const step = report.journal.steps.find((s) => s.id === `files:replace:${SITE}`)
    assert.equal(step?.status, 'applied', JSON.stringify(report.journal.steps))
    assert.match(step?.message ?? '', /checked: `nginx -t` passed; the plan saw what an earlier apply left here; this apply put back what was there before it \(its check had not passed\) and made the change from that$/)
    assert.equal(await r.live(SITE), fixed)
    await assert.rejects(readFile(join(r.twinDir, PENDING)), { code: 'ENOENT' })
    assert.deepEqual(await r.planIds(), [], 'the machine is as the twin asks')

    // The twin moved after the plan was saved: the saved step is not what a fresh plan says.
    await killedWhileChecking()
    await writeTwinFile(r.twinDir, `filesystem${SITE}`, `${old}# fixed again\n`)
    assert.equal((await r.twinsync('plan', '--out', planFile)).code, 0)
    await writeTwinFile(r.twinDir, `filesystem${SITE}`, `${old}# fixed once more\n`)
    const refused = await r.twinsync('apply', planFile, '--yes', '--accept-high-risk', '--json')
    assert.equal(refused.code, 2, refused.stdout + refused.stderr)
    const { error } = json<{ error: { code: string; nextStep: string } }>(refused)
    assert.equal(error.code, 'PLAN_STALE', refused.stdout)
    assert.match(error.nextStep, /Make a new plan \(`twinsync plan/)
    assert.equal(await r.live(SITE), old, 'the previous site is back (settled first); the saved step is not run')
  })
})
