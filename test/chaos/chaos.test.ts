import { strict as assert } from 'node:assert'
import { spawn, spawnSync } from 'node:child_process'
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, makeTempDir, onExit, removeTree, ROOTFS_BUILD_TIMEOUT_MS, run, runOk, type Rootfs } from '../bed/index.js'
import { cliSandbox, json, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'

/**
 * Kill it anywhere, run two at once, fill the disk: nothing is lost. Every trial SIGKILLs a real
 * `twinsync apply` or `twinsync snapshot` (its whole process group) at a random moment against a
 * Debian root, then checks: no torn file, `git fsck` clean, no temporary file left after the
 * next run, no destructive plan, and the rerun converges to an empty plan toward the intended
 * state. TWINSYNC_CHAOS_TRIALS sets the trials per kind (`npm run test:chaos`: 32; the normal
 * test run: 2). The counts are printed at the end (docs/testing.md has the last full run).
 */
const TRIALS = Number(process.env.TWINSYNC_CHAOS_TRIALS ?? 2)
const FILES = 40
const TEMP = /\.twinsync-(?:check-)?[0-9a-f]{12}$/

interface Counts {
  trials: number
  killedMidRun: number
  finishedBeforeKill: number
  interruptedNoticeSeen: number
  tornFiles: number
  tempFilesAfterKill: number
  tempFilesAfterRerun: number
  fsckFailures: number
  destructivePlans: number
  notConverged: number
}
const counts = { apply: newCounts(), snapshot: newCounts() }
const extra = { concurrent: 0, concurrentBothApplied: 0, concurrentLockHeld: 0, diskFullRefusals: 0, lockTrials: 0 }

function newCounts(): Counts {
  return { trials: 0, killedMidRun: 0, finishedBeforeKill: 0, interruptedNoticeSeen: 0, tornFiles: 0, tempFilesAfterKill: 0, tempFilesAfterRerun: 0, fsckFailures: 0, destructivePlans: 0, notConverged: 0 }
}

describe('chaos: kill, race and fill the disk', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS + TRIALS * 120_000)
  let rootfs: Rootfs
  let cli: CliSandbox
  const base = () => ['--root', rootfs.dir, '--repo', cli.twinDir]

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    await mkdir(join(rootfs.dir, 'etc/chaos'), { recursive: true })
    const r = await cli.twinsync(['snapshot', '--init', ...base()])
    assert.equal(r.code, 0, r.stderr)
  })
  after(async () => {
    process.stdout.write(`\nchaos counts (${TRIALS} trials per kind):\n${JSON.stringify({ ...counts, ...extra }, null, 2)}\n`)
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  /** The intended /etc/chaos of trial t: FILES files (a few KiB each), extras in odd trials, and `morph` a file or a folder. */
  function intended(t: number): Map<string, string> {
    const want = new Map<string, string>()
    for (let i = 0; i < FILES; i++) want.set(`/etc/chaos/f${i}`, `trial ${t} file ${i}\n`.repeat(200 + ((i * 37 + t) % 300)))
    if (t % 2 === 1) for (let i = 0; i < 8; i++) want.set(`/etc/chaos/extra/e${i}`, `extra ${t} ${i}\n`)
    if (t % 2 === 1) want.set('/etc/chaos/morph/inner', `inner ${t}\n`)
    else want.set('/etc/chaos/morph', `morph ${t}\n`)
    return want
  }

  async function live(): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(join(rootfs.dir, dir), { withFileTypes: true })) {
        const path = `${dir}/${e.name}`
        if (e.isDirectory()) await walk(path)
        else out.set(path, await readFile(join(rootfs.dir, path), 'utf8'))
      }
    }
    await walk('/etc/chaos')
    return out
  }

  /** Make the twin's working tree say "this is what /etc/chaos should be". */
  async function editTwin(want: Map<string, string>): Promise<void> {
    const folder = join(cli.twinDir, 'filesystem/etc/chaos')
    await rm(folder, { recursive: true, force: true })
    for (const [path, text] of want) {
      await mkdir(join(cli.twinDir, 'filesystem', path, '..'), { recursive: true })
      await writeFile(join(cli.twinDir, 'filesystem', path), text)
    }
  }

  /** Run twinsync in its own process group and SIGKILL the group after `delayMs` (if still running). */
  async function killAfter(args: string[], delayMs: number): Promise<{ killed: boolean; code: number | null; output: string }> {
    const child = spawn('node', [TWINSYNC_BIN, ...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cli.dir, LANG: 'C.UTF-8', TWINSYNC_DATA_DIR: cli.dataDir, TWINSYNC_CONFIG: cli.configFile },
    })
    let output = ''
    child.stdout.on('data', (c: Buffer) => (output += c.toString()))
    child.stderr.on('data', (c: Buffer) => (output += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    let killed = false
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL')
        killed = true
      } catch {
        // already gone
      }
    }, delayMs)
    const code = await exited
    clearTimeout(timer)
    return { killed: killed && code === null, code, output }
  }

  async function fsckClean(): Promise<boolean> {
    const r = await run(['git', '-C', cli.twinDir, 'fsck', '--full', '--no-dangling', '--no-progress'])
    return r.code === 0 && !/error|missing|broken|corrupt|bad /i.test(r.stdout + r.stderr)
  }

  /** Temp files in the target's /etc/chaos and /tmp, and in the twin (working tree and .git/twinsync). */
  async function tempFiles(): Promise<string[]> {
    const found: string[] = []
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const path = join(dir, e.name)
        if (e.isDirectory() && e.name !== 'objects' && e.name !== 'cache') await walk(path)
        else if (TEMP.test(e.name) || /^twinsync-script-/.test(e.name)) found.push(path)
      }
    }
    await walk(join(rootfs.dir, 'etc/chaos'))
    await walk(join(rootfs.dir, 'tmp'))
    await walk(join(cli.twinDir, 'filesystem'))
    await walk(join(cli.twinDir, '.git/twinsync'))
    for (const leftover of ['.git/twinsync/stage', '.git/twinsync/snapshot.index', '.git/twinsync/snapshot-in-progress.json', '.git/index.lock']) {
      if ((await lstat(join(cli.twinDir, leftover)).catch(() => undefined)) !== undefined) found.push(leftover)
    }
    return found
  }

  async function planJson(): Promise<{ changes: Array<{ provider: string; summary: string; data?: { action?: string; path?: string; text?: string } }>; diagnostics: Array<{ code: string }> }> {
    const r = await cli.twinsync(['plan', '--json', ...base()])
    const plan = json<Awaited<ReturnType<typeof planJson>>>(r)
    assert.ok(Array.isArray(plan.changes), `plan failed (exit ${r.code}): ${r.stdout}${r.stderr}`)
    return plan
  }

  /** A plan is destructive when it touches anything outside /etc/chaos, or writes what was never intended. */
  function destructive(plan: Awaited<ReturnType<typeof planJson>>, want: Map<string, string>): string[] {
    const bad: string[] = []
    for (const c of plan.changes) {
      const path = c.data?.path
      if (path === undefined || !path.startsWith('/etc/chaos')) bad.push(c.summary)
      else if (c.data?.action === 'write' && want.get(path) !== c.data.text) bad.push(c.summary)
      else if (c.data?.action === 'delete' && want.has(path)) bad.push(c.summary)
    }
    return bad
  }

  let applyMs = 4000
  it('measures one apply and one snapshot to aim the kills', async () => {
    const want = intended(0)
    await editTwin(want)
    const started = Date.now()
    const r = await cli.twinsync(['apply', '--yes', '--accept-high-risk', ...base()])
    applyMs = Date.now() - started
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.deepEqual(await live(), want)
    assert.equal((await planJson()).changes.length, 0)
  })

  it(`SIGKILL during apply (${TRIALS} trials): never torn, never undone, the rerun finishes it`, async () => {
    for (let t = 1; t <= TRIALS; t++) {
      const c = counts.apply
      c.trials++
      const before = await live()
      const want = intended(t)
      await editTwin(want)
      const outcome = await killAfter(['apply', '--yes', '--accept-high-risk', ...base()], 300 + Math.floor(Math.random() * applyMs))
      if (outcome.killed) c.killedMidRun++
      else c.finishedBeforeKill++
      const now = await live()
      for (const [path, text] of now) {
        // A temp file beside its target is never live (it is renamed only once complete): it is counted under tempFilesAfterKill.
        if (TEMP.test(path.slice(path.lastIndexOf('/') + 1))) continue
        if (text !== want.get(path) && text !== before.get(path)) {
          c.tornFiles++
          process.stdout.write(`  apply trial ${t}: torn ${path}: ${JSON.stringify(text).slice(0, 80)} (before ${JSON.stringify(before.get(path))?.slice(0, 40)}, wanted ${JSON.stringify(want.get(path))?.slice(0, 40)})\n`)
        }
      }
      if ((await tempFiles()).length > 0) c.tempFilesAfterKill++
      const plan = await planJson()
      if (plan.diagnostics.some((d) => d.code === 'APPLY_INTERRUPTED')) c.interruptedNoticeSeen++
      const bad = destructive(plan, want)
      if (bad.length > 0) {
        c.destructivePlans++
        process.stdout.write(`  apply trial ${t}: destructive plan: ${bad.slice(0, 5).join('; ')}\n`)
      }
      const rerun = await cli.twinsync(['apply', '--yes', '--accept-high-risk', ...base()])
      const left = await tempFiles()
      if (left.length > 0) {
        c.tempFilesAfterRerun++
        process.stdout.write(`  apply trial ${t}: temp files after the rerun: ${left.join(', ')}\n`)
      }
      if (!(await fsckClean())) c.fsckFailures++
      const after = await planJson()
      const converged = rerun.code === 0 && after.changes.length === 0 && JSON.stringify([...(await live())].sort()) === JSON.stringify([...want].sort())
      if (!converged) {
        c.notConverged++
        process.stdout.write(`  apply trial ${t}: not converged (rerun exit ${rerun.code}, ${after.changes.length} changes left)\n${rerun.stdout.slice(-600)}${rerun.stderr.slice(-600)}\n`)
      }
    }
    const c = counts.apply
    assert.deepEqual([c.tornFiles, c.tempFilesAfterRerun, c.fsckFailures, c.destructivePlans, c.notConverged], [0, 0, 0, 0, 0], JSON.stringify(c))
  })

  it(`SIGKILL during snapshot (${TRIALS} trials): the twin is the old one or the new one, never half`, async () => {
    const measured = Date.now()
    assert.equal((await cli.twinsync(['snapshot', ...base()])).code, 0)
    const snapshotMs = Date.now() - measured
    let last = await live()
    for (let t = 1; t <= TRIALS; t++) {
      const c = counts.snapshot
      c.trials++
      // The machine changes under the twin (type changes included); the snapshot records it.
      const want = intended(100 + t)
      await rm(join(rootfs.dir, 'etc/chaos'), { recursive: true, force: true })
      for (const [path, text] of want) {
        await mkdir(join(rootfs.dir, path, '..'), { recursive: true })
        await writeFile(join(rootfs.dir, path), text)
      }
      const head = (await runOk(['git', '-C', cli.twinDir, 'rev-parse', 'HEAD'])).stdout.trim()
      const outcome = await killAfter(['snapshot', ...base()], 100 + Math.floor(Math.random() * snapshotMs))
      if (outcome.killed) c.killedMidRun++
      else c.finishedBeforeKill++
      // The twin's documents are whole: each is the old or the new content.
      for (const [path, text] of want) {
        const doc = await readFile(join(cli.twinDir, 'filesystem', path), 'utf8').catch(() => undefined)
        if (doc !== undefined && doc !== text && doc !== last.get(path)) c.tornFiles++
      }
      // Planning now is toward the old twin (the kill came first) or toward nothing: never toward a half-written one.
      const plan = await planJson()
      const newHead = (await runOk(['git', '-C', cli.twinDir, 'rev-parse', 'HEAD'])).stdout.trim()
      const bad = destructive(plan, newHead === head ? last : want)
      if (bad.length > 0) {
        c.destructivePlans++
        process.stdout.write(`  snapshot trial ${t}: destructive plan: ${bad.slice(0, 5).join('; ')}\n`)
      }
      if ((await tempFiles()).length > 0) c.tempFilesAfterKill++
      const rerun = await cli.twinsync(['snapshot', ...base()])
      const left = await tempFiles()
      if (left.length > 0) {
        c.tempFilesAfterRerun++
        process.stdout.write(`  snapshot trial ${t}: temp files after the rerun: ${left.join(', ')}\n`)
      }
      if (!(await fsckClean())) c.fsckFailures++
      const after = await planJson()
      const status = (await run(['git', '-C', cli.twinDir, 'status', '--porcelain'])).stdout
      if (rerun.code !== 0 || after.changes.length > 0 || status !== '') {
        c.notConverged++
        process.stdout.write(`  snapshot trial ${t}: not converged (rerun exit ${rerun.code}, ${after.changes.length} changes, status ${JSON.stringify(status.slice(0, 200))})\n${rerun.stderr.slice(-400)}\n`)
      }
      last = want
    }
    const c = counts.snapshot
    assert.deepEqual([c.tornFiles, c.tempFilesAfterRerun, c.fsckFailures, c.destructivePlans, c.notConverged], [0, 0, 0, 0, 0], JSON.stringify(c))
  })

  it('two applies at once: one applies, the other is refused with LOCK_HELD naming it, before planning', async () => {
    const rounds = Math.max(1, Math.ceil(TRIALS / 4))
    for (let t = 0; t < rounds; t++) {
      extra.concurrent++
      const want = intended(200 + t)
      await editTwin(want)
      const [a, b] = await Promise.all([cli.twinsync(['apply', '--yes', '--accept-high-risk', ...base()]), cli.twinsync(['apply', '--yes', '--accept-high-risk', ...base()])])
      const applied = [a, b].filter((r) => r.code === 0 && /\d+ applied/.test(r.stdout) && !/^0 applied/m.test(r.stdout))
      const held = [a, b].filter((r) => r.code === 2 && /\[LOCK_HELD\] Another TwinSync apply \(pid \d+/.test(r.stderr))
      if (applied.length > 1) extra.concurrentBothApplied++
      extra.concurrentLockHeld += held.length
      assert.equal(applied.length, 1, `${a.stdout}${a.stderr}\n---\n${b.stdout}${b.stderr}`)
      assert.ok(held.length === 1 || [a, b].some((r) => r.code === 0 && /No changes/.test(r.stdout)), `${a.stderr}\n${b.stderr}`)
      assert.equal((await planJson()).changes.length, 0)
      assert.deepEqual(await live(), want)
    }
  })

  it('a stale lock (dead pid, reused pid) is taken over; a half-written one is waited for, then taken over', async () => {
    const lock = join(cli.twinDir, '.git/twinsync/lock')
    extra.lockTrials++
    await writeFile(lock, JSON.stringify({ pid: 1, startTime: '1', bootId: null, host: '', purpose: 'apply', since: 'long ago' }) + '\n')
    assert.equal((await cli.twinsync(['snapshot', ...base()])).code, 0, 'a lock whose pid was reused is stale')
    await writeFile(lock, '')
    const young = await cli.twinsync(['snapshot', ...base()])
    assert.equal(young.code, 2)
    assert.match(young.stderr, /\[LOCK_HELD\] .*being written/)
    await run(['touch', '-d', '1 hour ago', lock])
    assert.equal((await cli.twinsync(['snapshot', ...base()])).code, 0, 'an old half-written lock is stale')
    assert.equal((await lstat(lock).catch(() => undefined)), undefined)
  })

  it('a full disk under the twin is DISK_FULL, exit 2, with the twin and the target untouched', async () => {
    const mount = await makeTempDir('chaos-tmpfs')
    await runOk(['mount', '-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', mount])
    const forget = onExit(() => void spawnSync('umount', ['-l', mount]))
    try {
      const twin = join(mount, 'twin')
      const args = ['--root', rootfs.dir, '--repo', twin]
      assert.equal((await cli.twinsync(['snapshot', '--init', ...args])).code, 0)
      // Snapshot with no room: the machine changed, the twin cannot take it.
      await writeFile(join(rootfs.dir, 'etc/chaos/big'), 'x'.repeat(4 << 20))
      const headBefore = (await runOk(['git', '-C', twin, 'rev-parse', 'HEAD'])).stdout
      const filler = join(mount, 'filler')
      await run(['dd', 'if=/dev/zero', `of=${filler}`, 'bs=1M'])
      const full = await cli.twinsync(['snapshot', ...args])
      assert.equal(full.code, 2, full.stdout + full.stderr)
      assert.match(full.stderr, /\[DISK_FULL\][\s\S]*Next step: Free some space/)
      extra.diskFullRefusals++
      assert.equal((await runOk(['git', '-C', twin, 'rev-parse', 'HEAD'])).stdout, headBefore)
      assert.equal((await runOk(['git', '--no-optional-locks', '-C', twin, 'status', '--porcelain'])).stdout, '', 'the working twin is as it was')
      // Apply with no room: refused before the target is touched.
      await rm(filler)
      await mkdir(join(twin, 'filesystem/etc/chaos'), { recursive: true })
      await writeFile(join(twin, 'filesystem/etc/chaos/wanted'), 'wanted\n')
      await run(['dd', 'if=/dev/zero', `of=${filler}`, 'bs=1M'])
      const apply = await cli.twinsync(['apply', '--yes', '--accept-high-risk', ...args])
      assert.equal(apply.code, 2, apply.stdout + apply.stderr)
      assert.match(apply.stderr, /\[DISK_FULL\]/)
      extra.diskFullRefusals++
      assert.equal((await lstat(join(rootfs.dir, 'etc/chaos/wanted')).catch(() => undefined)), undefined, 'the target is untouched')
      // Space back: everything goes through, nothing was lost.
      await rm(filler)
      const fsck = await run(['git', '-C', twin, 'fsck', '--full', '--no-dangling'])
      assert.equal(fsck.code, 0, fsck.stderr)
      const again = await cli.twinsync(['apply', '--yes', '--accept-high-risk', ...args])
      assert.equal(again.code, 0, again.stdout + again.stderr)
      assert.equal(await readFile(join(rootfs.dir, 'etc/chaos/wanted'), 'utf8'), 'wanted\n')
      assert.equal((await cli.twinsync(['snapshot', ...args])).code, 0)
      const plan = json<{ changes: unknown[] }>(await cli.twinsync(['plan', '--json', ...args]))
      assert.equal(plan.changes.length, 0)
    } finally {
      await run(['umount', mount])
      forget()
      await removeTree(mount)
      await rm(join(rootfs.dir, 'etc/chaos/big'), { force: true })
      await rm(join(rootfs.dir, 'etc/chaos/wanted'), { force: true })
    }
  })
})
