import { strict as assert } from 'node:assert'
import { bootContainer, ROOTFS_BUILD_TIMEOUT_MS, TWINSYNC_IN_CONTAINER, type Container } from '../bed/index.js'
import { withProgress, type ApplyInProgress } from '../../core/src/apply/resume.js'

const TWIN = '/var/lib/twinsync/twin'
const RECORD = `${TWIN}/.git/twinsync/apply-in-progress.json`
/** The steps' starts and ends after the record's last write (core/src/apply/resume.ts). */
const PROGRESS = `${TWIN}/.git/twinsync/apply-in-progress.log`
const UNIT = '/etc/systemd/system/kill-demo.service'
/** While this FIFO exists, the unit's ExecStartPre waits on it: a restart is held open. */
const HOLD_RESTART = '/run/twinsync-test-hold-restart'
/** While this FIFO exists, the generator below waits on it: the manager's daemon-reload is held open. */
const HOLD_RELOAD = '/run/twinsync-test-hold-daemon-reload'
/** The generator writes this when it runs (inside a daemon-reload). */
const IN_RELOAD = '/run/twinsync-test-in-daemon-reload'
const GENERATOR = '/etc/systemd/system-generators/twinsync-test-hold'
const unitText = (v: number) =>
  `[Unit]\nDescription=kill demo ${v}\n[Service]\nExecStartPre=/bin/sh -c 'if [ -p ${HOLD_RESTART} ]; then cat ${HOLD_RESTART} >/dev/null; fi'\nExecStartPre=/bin/sh -c 'echo ${v} > /run/kill-demo.version; echo ${v} >> /run/kill-demo.starts'\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n`

interface PlanJson {
  changes: Array<{ id: string; operation: string; resource: string; data?: { action?: string; path?: string; text?: string } }>
  diagnostics: Array<{ code: string }>
}
interface Record {
  intended: string
  started: string[]
  done: { [id: string]: string }
}

/**
 * kill -9 of `twinsync apply` (its whole process group) INSIDE the steps that session 27's kill
 * test could not reach (test/chaos/apply-kill-sweep.chaos.ts: a kill aimed at a step's start came
 * after the apply's end): inside `systemctl daemon-reload` (a generator of the booted container
 * waits on a FIFO, so the manager's reload is under way and `systemctl daemon-reload` of the apply
 * is alive when the kill comes) and inside `systemctl restart` (the unit's ExecStartPre waits on a
 * FIFO: the unit is activating and `systemctl restart` is alive). Then the window after the steps,
 * while the apply's own snapshot runs (the working twin gives the applied changes the checkpoint's
 * value back for it, IntentService.unpromoteApplied): only the record of the interrupted apply
 * (.git/twinsync/apply-in-progress.json) keeps the next plan heading for the new unit file there.
 * After each kill the next plan undoes nothing (no write of the old unit file, no stop, no
 * disable) and the rerun ends as an unkilled apply does: the new unit file runs, nothing is
 * pending, the twin's HEAD holds the new unit file and is clean, no record is left. After a kill
 * inside daemon-reload or restart (the reload window of the checked unit file) the rerun settles
 * the window first: the unit file checked again, the manager reloaded, the restart run again with
 * it live and judged against the state before the killed restart; it passes, so the file stays
 * (CONFIG_RELOAD_FINISHED, session 29; session 28's rerun put the previous unit file back and
 * needed one more apply: see settlesWindow).
 * Honest: with the window's files always put back (session 28's PendingChecks.finish), the first
 * two kills' reruns end on the previous unit file with CONFIG_RESTORED (exit 1).
 * Honest: with the record of the interrupted apply cleared right after the steps instead of after
 * the apply's own snapshot (apply-service.ts, tried in session 28), the third kill's next plan
 * writes the old unit file back (`files:replace`, "the next plan undoes nothing" fails).
 * One container for the three kills, each toward a new version of the unit (main suite: about
 * 100 s at a load of 7–10 on 2 cores, the boot and first snapshot included).
 */
describe('kill -9 inside daemon-reload, inside restart, and in the snapshot after the steps (booted server)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS + 600_000)
  let ct: Container
  const seen: string[] = []

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
  const until = async (what: string, ok: () => Promise<boolean>, ms = 120_000) => {
    const deadline = Date.now() + ms
    while (!(await ok())) {
      assert.ok(Date.now() < deadline, `timed out waiting until ${what}`)
      await sleep(50)
    }
  }
  const plan = async () => {
    const r = await ct.twinsync(['plan', '--json'], { timeoutMs: 300_000 })
    assert.equal(r.code, 0, r.stdout + r.stderr)
    return JSON.parse(r.stdout) as PlanJson
  }
  /** What a plan would undo: a write of other content than `v`'s unit, a delete of it, a stop or disable. */
  const undoing = (p: PlanJson, v: number) =>
    p.changes
      .filter((c) => c.operation === 'stop' || c.operation === 'disable' || (c.data?.path === UNIT && (c.data.action === 'delete' || (c.data.text !== undefined && c.data.text !== unitText(v)))))
      .map((c) => c.id)
  /** `twinsync apply` in the background, in a process group of its own: its id. */
  const startApply = async () => Number((await ct.runOk(['sh', '-c', `setsid node ${TWINSYNC_IN_CONTAINER} apply --yes --accept-high-risk --json >/tmp/killed.out 2>&1 & echo $!`])).stdout.trim())
  /**
   * The programs the apply runs (its children, read from /proc): each runs in a session of its own
   * (LocalHost's spawnOptions, `detached`), so a kill of the apply's process group leaves them running.
   */
  const children = async (pid: number) =>
    (await ct.run(['sh', '-c', `for d in /proc/[0-9]*; do [ "$(cut -d' ' -f4 $d/stat 2>/dev/null)" = ${pid} ] && echo "\${d#/proc/} $(tr '\\0' ' ' < $d/cmdline)"; done; true`])).stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => ({ pid: Number(l.slice(0, l.indexOf(' '))), command: l.slice(l.indexOf(' ') + 1) }))
  /** kill -9 of the apply's process group and of the program it runs at that moment (the whole tree, as the end of a service's cgroup would). */
  const kill9 = (pid: number, child?: number) => ct.runOk(['kill', '-KILL', '--', `-${pid}`, ...(child === undefined ? [] : [String(child)])])
  /** Until the killed apply is reaped (by PID 1, which reaps nothing while a daemon-reload waits): a run started while it still exits is LOCK_HELD, rightly. */
  const gone = (pid: number) => until('the killed apply is gone', async () => (await ct.run(['kill', '-0', String(pid)])).code !== 0, 10_000)
  const release = (fifo: string) => ct.runOk(['sh', '-c', `[ -p ${fifo} ] && { echo go > ${fifo}; rm -f ${fifo}; }; true`], { timeoutMs: 20_000 })
  const readRecord = async (): Promise<Record | undefined> => {
    const r = await ct.run(['cat', RECORD])
    if (r.code !== 0) return undefined
    const log = await ct.run(['cat', PROGRESS])
    return withProgress(JSON.parse(r.stdout) as ApplyInProgress, log.code === 0 ? log.stdout : undefined)
  }
  /** The twin asks for version v of the unit file. */
  const ask = (v: number) => ct.writeFile(`${TWIN}/filesystem${UNIT}`, unitText(v))
  const steps = (out: string) => {
    try {
      return (JSON.parse(out) as { journal?: { steps: Array<{ id: string; status: string }> } }).journal?.steps.map((x) => `${x.id} ${x.status}`).join('; ') ?? out.slice(-500)
    } catch {
      return out.slice(-500)
    }
  }

  /** How many times the unit has started (its ExecStartPre counts). */
  const starts = async () => (await ct.run(['cat', '/run/kill-demo.starts'])).stdout.split('\n').filter(Boolean).length
  /** After the kill: the next plan undoes nothing; the rerun ends as an unkilled apply toward version v does, starting the unit `restarts` times. */
  async function recovers(v: number, label: string, planned = false, restarts = 0): Promise<void> {
    if (!planned) await nothingUndone(v, label)
    const before = await starts()
    const rerun = await ct.twinsync(['apply', '--yes', '--accept-high-risk', '--json'], { timeoutMs: 600_000 })
    seen.push(`  rerun: ${steps(rerun.stdout)}`)
    assert.equal(rerun.code, 0, `${label}: ${rerun.stdout.slice(-3000)}${rerun.stderr}`)
    // Session 29: the resumed plan's daemon-reload and "restart to load its changed unit file" (the
    // hash in the intended commit's units.json, older than the edit) restarted it once more.
    assert.equal((await starts()) - before, restarts, `${label}: the rerun started the unit ${restarts} time(s): ${steps(rerun.stdout)}`)
    await runsVersion(v, label)
  }
  async function nothingUndone(v: number, label: string): Promise<void> {
    const next = await plan()
    seen.push(`${label}: next plan ${next.changes.map((c) => c.id).join(', ') || '(none)'}; ${next.diagnostics.map((d) => d.code).join(', ')}`)
    assert.deepEqual(undoing(next, v), [], `${label}: the next plan undoes nothing`)
  }
  /**
   * After a kill between the unit file's check and its restart's verdict (the reload window,
   * PendingChecks): the next plan undoes nothing, and the rerun settles the window before its
   * plan: the unit file checked again, the restart run again with it live (the manager reloaded
   * first when it still held the old unit), judged against the state before the killed restart;
   * the service comes back, so the file stays (CONFIG_RELOAD_FINISHED, a warning: exit 0), and the
   * rerun ends as an unkilled apply toward version v does.
   */
  async function settlesWindow(v: number, label: string): Promise<void> {
    await nothingUndone(v, label)
    const before = await starts()
    const rerun = await ct.twinsync(['apply', '--yes', '--accept-high-risk', '--json'], { timeoutMs: 600_000 })
    seen.push(`  rerun: ${steps(rerun.stdout)}`)
    // Once, by the settling; the plan's restart (made before it, for the older configuration) is read again and not run.
    assert.equal((await starts()) - before, 1, `${label}: the rerun started the unit once: ${steps(rerun.stdout)}`)
    const report = JSON.parse(rerun.stdout) as { checksFinished?: Array<{ service: string; restored: string[]; diagnostic: { code: string; summary: string } }> }
    seen.push(`  settled: ${report.checksFinished?.map((f) => f.diagnostic.summary).join('; ')}`)
    assert.equal(rerun.code, 0, `${label}: ${rerun.stdout.slice(-3000)}${rerun.stderr}`)
    assert.deepEqual(report.checksFinished?.map((f) => [f.service, f.restored, f.diagnostic.code]), [['systemd units', [], 'CONFIG_RELOAD_FINISHED']], label)
    assert.match(report.checksFinished?.[0]?.diagnostic.summary ?? '', /the restart ran again with them live and kill-demo\.service is back as before it: the files stay/, label)
    await runsVersion(v, label)
  }
  /** The unit file on disk, the unit the manager loaded and the service running are all version v. */
  async function runs(v: number, label: string): Promise<void> {
    assert.equal(await ct.readFile(UNIT), unitText(v), label)
    const shown = (await ct.runOk(['systemctl', 'show', '-p', 'NeedDaemonReload', '-p', 'ActiveState', '-p', 'UnitFileState', '-p', 'Description', 'kill-demo.service'])).stdout
    assert.match(shown, /^NeedDaemonReload=no$/m, `${label}: ${shown}`)
    assert.match(shown, /^ActiveState=active$/m, `${label}: ${shown}`)
    assert.match(shown, /^UnitFileState=enabled$/m, `${label}: ${shown}`)
    assert.match(shown, new RegExp(`^Description=kill demo ${v}$`, 'm'), `${label}: ${shown}`)
    assert.equal((await ct.readFile('/run/kill-demo.version')).trim(), String(v), `${label}: the service runs unit file ${v}`)
  }
  /** The end of an unkilled apply toward version v: the unit runs it, nothing pending, the twin's HEAD holds it and is clean, no record. */
  async function runsVersion(v: number, label: string): Promise<void> {
    await runs(v, label)
    assert.deepEqual((await plan()).changes.map((c) => c.id), [], `${label}: nothing pending`)
    assert.equal(await readRecord(), undefined, `${label}: no record of an interrupted apply is left`)
    assert.equal((await ct.runOk(['git', '-C', TWIN, 'show', `HEAD:filesystem${UNIT}`])).stdout, unitText(v), `${label}: the twin's commit holds unit file ${v}`)
    assert.equal((await ct.runOk(['git', '-C', TWIN, 'status', '--porcelain'])).stdout, '', `${label}: the working twin is clean`)
    assert.match((await ct.runOk(['git', '-C', TWIN, 'log', '-1', '--format=%s'])).stdout.trim(), /^TwinSync apply .*: \d+ applied, \d+ unchanged, 0 failed, 0 skipped$/, label)
  }

  before(async () => {
    ct = await bootContainer({ image: 'server' })
    // Waits only while the FIFO exists; at boot and in every other daemon-reload it returns at once.
    await ct.writeFile(GENERATOR, `#!/bin/sh\nif [ -p ${HOLD_RELOAD} ]; then echo $$ > ${IN_RELOAD}; cat ${HOLD_RELOAD} >/dev/null; fi\nexit 0\n`, { mode: 0o755 })
    await ct.writeFile(UNIT, unitText(1))
    await ct.runOk(['systemctl', 'daemon-reload'])
    await ct.runOk(['systemctl', 'enable', '--now', 'kill-demo.service'])
    const snap = await ct.twinsync(['snapshot', '--init', '--json'], { timeoutMs: 300_000 })
    assert.equal(snap.code, 0, snap.stderr)
  })
  afterEach(async () => {
    await release(HOLD_RELOAD).catch(() => undefined)
    await release(HOLD_RESTART).catch(() => undefined)
  })
  after(async () => {
    process.stdout.write(`\n${seen.join('\n')}\n`)
    await ct?.close()
  })

  it('killed inside `systemctl daemon-reload` (the manager runs its generators): the next plan undoes nothing; the rerun settles the reload window (the restart run again with the new unit file) and ends as an unkilled apply', async () => {
    await ask(2)
    await ct.runOk(['mkfifo', HOLD_RELOAD])
    const pid = await startApply()
    await until('the daemon-reload is under way (the generator waits)', async () => (await ct.run(['test', '-s', IN_RELOAD])).code === 0, 300_000)
    const inside = (await children(pid)).find((c) => c.command === 'systemctl daemon-reload')
    assert.ok(inside !== undefined, `systemctl daemon-reload of the apply is alive: ${JSON.stringify(await children(pid))}`)
    await kill9(pid, inside.pid)
    const record = await readRecord()
    // The manager goes on with the reload the killed client asked for.
    await ct.runOk(['rm', '-f', IN_RELOAD])
    await release(HOLD_RELOAD)
    await gone(pid)
    assert.ok(record?.started.includes('systemd:daemon-reload:manager') && record.done['systemd:daemon-reload:manager'] === undefined, `the record shows the daemon-reload under way: ${JSON.stringify(record)}`)
    await settlesWindow(2, 'inside daemon-reload')
  })

  it('killed inside `systemctl restart` (its ExecStartPre runs): the next plan undoes nothing; the rerun settles the reload window (the restart run again, judged against the state before it) and ends as an unkilled apply', async () => {
    await ask(3)
    await ct.runOk(['mkfifo', HOLD_RESTART])
    const pid = await startApply()
    await until('the restart is under way (ExecStartPre waits)', async () => (await ct.run(['systemctl', 'show', '-p', 'SubState', '--value', 'kill-demo.service'])).stdout.trim() === 'start-pre', 300_000)
    const inside = (await children(pid)).find((c) => c.command === 'systemctl restart -- kill-demo.service')
    assert.ok(inside !== undefined, `systemctl restart of the apply is alive: ${JSON.stringify(await children(pid))}`)
    await kill9(pid, inside.pid)
    await gone(pid)
    const record = await readRecord()
    assert.ok(record?.started.includes('systemd:restart:kill-demo.service') && record.done['systemd:restart:kill-demo.service'] === undefined, `the record shows the restart under way: ${JSON.stringify(record)}`)
    // The manager's restart job goes on without its client.
    await release(HOLD_RESTART)
    await until('the restarted unit is active', async () => (await ct.run(['systemctl', 'is-active', 'kill-demo.service'])).stdout.trim() === 'active', 60_000)
    await settlesWindow(3, 'inside restart')
  })

  it('killed after the steps, while the apply takes its snapshot (the working twin holds the old unit file again): the next plan undoes nothing, the rerun finishes', async () => {
    await ask(4)
    await ct.writeFile('/tmp/unit-before', await ct.readFile(UNIT))
    const pid = await startApply()
    // The restart ran (the unit runs version 4) and the working twin's unit file is the old one
    // again (unpromoted for the snapshot after the apply): kill there.
    const watcher = `while kill -0 ${pid} 2>/dev/null; do if grep -qx 4 /run/kill-demo.version 2>/dev/null && cmp -s ${TWIN}/filesystem${UNIT} /tmp/unit-before && [ -e ${TWIN}/.git/twinsync/lock ]; then /bin/kill -KILL -- -${pid}; while kill -0 ${pid} 2>/dev/null; do sleep 0.05; done; echo killed; exit 0; fi; done; echo ended`
    const watched = await ct.run(['sh', '-c', watcher], { timeoutMs: 600_000 })
    assert.equal(watched.stdout.trim(), 'killed', `the kill landed in the snapshot after the steps: ${watched.stdout}${await ct.readFile('/tmp/killed.out').catch(() => '')}`)
    const record = await readRecord()
    seen.push(`snapshot window: record ${JSON.stringify(record?.done)}`)
    // Without the record (cleared before the snapshot, or not read) this plan writes the old unit file back.
    await nothingUndone(4, 'in the snapshot after the steps')
    assert.equal(record?.done['systemd:restart:kill-demo.service'], 'applied', `the record of the interrupted apply is there, every step done: ${JSON.stringify(record)}`)
    assert.equal(await ct.readFile(`${TWIN}/filesystem${UNIT}`), await ct.readFile('/tmp/unit-before'), 'the working twin holds the old unit file')
    await recovers(4, 'in the snapshot after the steps', true)
  })
})
