import { strict as assert } from 'node:assert'
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { SimpleGitClient } from '../src/twin/git.js'
import { TwinRepository } from '../src/twin/twin-repository.js'
import { listIndexed } from '../src/twin/twin-files.js'
import { readIndex } from '../src/twin/quick-status.js'
import { TwinLock, lockMachine, pidNamespace, readerWait, startTimeOf } from '../src/twin/twin-lock.js'
import { bootJournal, entryOf, type JournalEntry } from '../src/twin/boot-journal.js'

const info = { formatVersion: 1, machineId: 'abc', hostname: 'web1' }
const twinAt = (dir: string) => new TwinRepository({ dir, source: 'flag' }, (d) => new SimpleGitClient(d))
const run = promisify(execFile)
const refused = (code: string) => (e: unknown) => isTwinSyncError(e) && e.code === code

describe('TwinRepository', () => {
  let base: string
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'twinsync-twin-'))
  })
  afterEach(() => rm(base, { recursive: true, force: true }))

  it('creates the layout, mode 0700, twin.json and a first commit; again changes nothing', async () => {
    const twin = twinAt(join(base, 'twin'))
    const first = await twin.init(info)
    assert.equal(first.created, true)
    assert.equal((await stat(twin.dir)).mode & 0o777, 0o700)
    for (const folder of ['filesystem', 'system/packages', 'system/startup', 'plans', 'scripts']) {
      assert.ok((await stat(join(twin.dir, folder))).isDirectory(), folder)
    }
    // The machine as `machine` (session 22: TwinSync's keyed hash of the machine id; an older TwinSync's `machineId` held the id itself).
    assert.deepEqual(JSON.parse(await readFile(join(twin.dir, 'twin.json'), 'utf8')), { formatVersion: 1, machine: 'abc', hostname: 'web1' })
    const second = await twin.init(info)
    assert.deepEqual(second, { created: false, commit: first.commit })
    assert.deepEqual(await twin.open(), info)
  })

  it("makes the init commit in Node exactly as git add and git commit would: git's tree, index and reflog; fsck --strict clean", async () => {
    const twin = twinAt(join(base, 'twin'))
    const { commit } = await twin.init(info)
    const git = async (...args: string[]) => (await run('git', ['-C', twin.dir, ...args])).stdout.trim()
    assert.equal(await git('rev-parse', 'HEAD'), commit)
    assert.equal(await git('symbolic-ref', 'HEAD'), 'refs/heads/main')
    assert.equal(await git('log', '-1', '--format=%an <%ae>|%cn <%ce>|%B|%P'), 'TwinSync <twinsync@localhost>|TwinSync <twinsync@localhost>|TwinSync init\n|')
    assert.equal(await git('ls-tree', '-r', '--name-only', 'HEAD'), 'plans/README.md\nscripts/README.md\ntwin.json')
    assert.equal(await git('status', '--porcelain', '--untracked-files=all'), '')
    assert.equal(await git('reflog', '--format=%gs'), 'commit (initial): TwinSync init')
    assert.equal(await git('fsck', '--strict', '--no-progress'), '')
    // The same files added and committed by git give the same tree.
    const other = join(base, 'by-git')
    await run('git', ['init', '--quiet', other])
    for (const path of ['plans/README.md', 'scripts/README.md', 'twin.json']) {
      await run('mkdir', ['-p', join(other, path, '..')])
      await writeFile(join(other, path), await readFile(join(twin.dir, path)))
    }
    await run('git', ['-C', other, 'add', '--all'])
    assert.equal((await run('git', ['-C', other, 'write-tree'])).stdout.trim(), await git('rev-parse', 'HEAD^{tree}'))
    // Its objects are one pack: nothing loose for the first snapshot to pack.
    assert.match(await git('count-objects', '-v'), /^count: 0$/m)
  })

  it('refuses a path that is a file, a non-empty non-twin, and a missing twin', async () => {
    await writeFile(join(base, 'file'), 'x')
    await assert.rejects(twinAt(join(base, 'file')).init(info), refused('REPO_NOT_DIRECTORY'))
    await assert.rejects(twinAt(join(base, 'file')).open(), refused('REPO_NOT_DIRECTORY'))
    await writeFile(join(base, 'other'), 'y')
    await assert.rejects(twinAt(base).init(info), refused('REPO_NOT_TWIN'))
    await assert.rejects(twinAt(join(base, 'absent')).open(), refused('REPO_NOT_INITIALIZED'))
    assert.equal(await readFile(join(base, 'file'), 'utf8'), 'x')
  })

  it('stages, reports and commits changes', async () => {
    const twin = twinAt(join(base, 'twin'))
    await twin.init(info)
    assert.equal(await twin.write({ path: 'system/os.json', content: '{}\n' }), true)
    assert.equal(await twin.write({ path: 'system/os.json', content: '{}\n' }), false, 'same bytes are not rewritten')
    await twin.write({ path: 'filesystem/etc/rc.local', content: '#!/bin/sh\n', executable: true })
    assert.deepEqual(await twin.list('filesystem/'), ['filesystem/etc/rc.local'])
    const changes = await twin.stageAll()
    assert.deepEqual(changes.map((c) => `${c.change} ${c.path}`).sort(), ['A filesystem/etc/rc.local', 'A system/os.json'])
    const commit = await twin.commit('TwinSync snapshot test')
    assert.equal(await twin.head(), commit)
  })

  it('refuses twin paths that climb out', async () => {
    const twin = twinAt(join(base, 'twin'))
    await assert.rejects(twin.write({ path: '../x', content: '' }), refused('PATH_INVALID'))
    await assert.rejects(twin.write({ path: '.git/config', content: '' }), refused('PATH_INVALID'))
  })

  it("a pass's reader (plan, status) reads and lists as the twin does, checking each folder once, and refuses a symlinked folder every time", async () => {
    const twin = twinAt(join(base, 'twin'))
    await twin.init(info)
    await twin.write({ path: 'filesystem/etc/a/one.conf', content: '1\n' })
    await twin.write({ path: 'filesystem/etc/a/two.conf', content: '2\n' })
    await twin.write({ path: 'filesystem/etc/b/three.conf', content: '3\n' })
    await mkdir(join(base, 'elsewhere'))
    await writeFile(join(base, 'elsewhere', 'x.conf'), 'outside\n')
    await symlink(join(base, 'elsewhere'), join(twin.dir, 'filesystem/etc/linked'))
    const reader = twin.reader()
    assert.deepEqual(await reader.list('filesystem/'), await twin.list('filesystem/'))
    for (const path of ['filesystem/etc/a/one.conf', 'filesystem/etc/a/two.conf', 'filesystem/etc/b/three.conf', 'filesystem/etc/none.conf', 'filesystem/etc/c/none.conf']) {
      assert.deepEqual(await reader.read(path), await twin.read(path), path)
      assert.equal(await reader.readText(path), await twin.readText(path), path)
    }
    // Never through the link, however often asked, after the folders around it were found real.
    for (let i = 0; i < 2; i++) await assert.rejects(reader.read('filesystem/etc/linked/x.conf'), refused('TWIN_SYMLINK'))
    await assert.rejects(twin.read('filesystem/etc/linked/x.conf'), refused('TWIN_SYMLINK'))
    // A folder turned into a link after another pass read through it: a new pass checks again.
    await rm(join(twin.dir, 'filesystem/etc/b'), { recursive: true })
    await symlink(join(base, 'elsewhere'), join(twin.dir, 'filesystem/etc/b'))
    await assert.rejects(twin.reader().read('filesystem/etc/b/x.conf'), refused('TWIN_SYMLINK'))
  })

  it('a listing from the index the working twin was just found to be is the listing of its folders: the same paths, the same refusals', async () => {
    const twin = twinAt(join(base, 'twin'))
    await twin.init(info)
    for (const path of ['filesystem/etc/hosts', 'filesystem/etc/a/one.conf', 'filesystem/etc/a-b/two.conf', 'filesystem/etc/a/b/three.conf', 'system/os.json', 'plans/x.yaml']) {
      await twin.write({ path, content: `${path}\n` })
    }
    // Links committed as links (mode 120000): a file's and a folder's place.
    await symlink('/etc/passwd', join(twin.dir, 'filesystem/etc/link'))
    await symlink(join(base), join(twin.dir, 'filesystem/opt'))
    await twin.stageAll()
    await twin.commit('links and files')
    const index = readIndex(twin.dir)
    assert.ok(index !== undefined)
    assert.deepEqual([index.entries.get('filesystem/opt')?.mode, index.entries.get('filesystem/etc/link')?.mode], ['120000', '120000'])
    const outcome = async (fn: () => Promise<string[]> | string[]) => {
      try {
        return await fn()
      } catch (error) {
        return isTwinSyncError(error) ? `${error.code} ${error.message}` : String(error)
      }
    }
    const prefixes = ['', 'filesystem/', 'filesystem/etc/', 'filesystem/etc/a/', 'filesystem/etc/a', 'filesystem/etc/hosts', 'filesystem/etc/hosts/', 'filesystem/etc/hosts/x/',
      'filesystem/etc/link', 'filesystem/etc/link/', 'filesystem/opt/', 'filesystem/opt/sub/', 'filesystem/opt', 'filesystem/none/', 'system/', 'plans/', 'scripts/', 'nothing']
    for (const prefix of prefixes) {
      assert.deepEqual(await outcome(() => listIndexed(index.entries, twin.dir, prefix)), await outcome(() => twin.list(prefix)), JSON.stringify(prefix))
    }
    await assert.rejects(outcome(() => listIndexed(index.entries, twin.dir, '../x')).then((r) => { if (typeof r === 'string') throw new Error(r) }), /PATH_INVALID/)
  })

  it("a reader right after the twin's check found it exactly its index knows each file's blob id (blobOf) without reading it; none otherwise", async () => {
    const twin = twinAt(join(base, 'twin'))
    await twin.init(info)
    const git = async (...args: string[]) => (await run('git', ['-C', twin.dir, ...args])).stdout.trim()
    // Older than the racy window, so the check needs no git.
    await new Promise((resolve) => setTimeout(resolve, 150))
    assert.deepEqual(await twin.dirtyPaths(), [])
    const checked = twin.reader({ justChecked: true })
    assert.equal(checked.blobOf?.('twin.json'), await git('rev-parse', 'HEAD:twin.json'))
    assert.equal(checked.blobOf?.('plans/README.md'), await git('rev-parse', 'HEAD:plans/README.md'))
    assert.equal(checked.blobOf?.('plans'), undefined, 'a folder')
    assert.equal(checked.blobOf?.('nothing.json'), undefined)
    assert.equal(twin.reader().blobOf, undefined, 'a reader without the check')
    // The twin edited: the next check does not find it clean, and its reader knows no id.
    await writeFile(join(twin.dir, 'plans', 'README.md'), 'edited\n')
    assert.notDeepEqual(await twin.dirtyPaths(), [])
    assert.equal(twin.reader({ justChecked: true }).blobOf, undefined)
  })
})

describe('TwinLock', () => {
  let base: string
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'twinsync-lock-'))
  })
  afterEach(() => rm(base, { recursive: true, force: true }))

  it('refuses a second holder and names the pid; takes over a stale lock', async () => {
    const path = join(base, 'lock')
    const first = new TwinLock(path)
    await first.acquire('snapshot')
    await assert.rejects(new TwinLock(path).acquire('apply'), (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && e.message.includes(`pid ${process.pid}`))
    await first.release()
    await writeFile(path, '999999999 snapshot\n') // an earlier version's lock, no such process
    const third = new TwinLock(path)
    await third.acquire('snapshot')
    assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid)
    assert.equal(JSON.parse(await readFile(path, 'utf8')).startTime, startTimeOf(process.pid))
    await third.release()
  })

  it('judges a lock by pid and process start time: a reused pid does not hold it', async () => {
    const path = join(base, 'lock')
    // pid 1 is alive, but it is not the process that wrote this lock (another start time).
    await writeFile(path, JSON.stringify({ pid: 1, startTime: '1', bootId: null, host: hostname(), purpose: 'apply', since: '2020-01-01T00:00:00Z' }) + '\n')
    const lock = new TwinLock(path)
    await lock.acquire('snapshot')
    assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid)
    await lock.release()
    // The same pid with its real start time holds it.
    await writeFile(path, JSON.stringify({ pid: 1, startTime: startTimeOf(1), bootId: null, host: hostname(), purpose: 'apply', since: 'now' }) + '\n')
    await assert.rejects(new TwinLock(path).acquire('snapshot'), (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && /apply \(pid 1,/.test(e.message))
  })

  // Session 44 (attack): an apply killed -9 whose parent never waited on it stays a zombie, and
  // its /proc entry (same pid, same start time) held the lock for as long as that parent lived.
  it('a holder that has ended but is not reaped yet (a zombie) does not hold it', async () => {
    const path = join(base, 'lock')
    // `sleep 1` ends after the shell that started it became `sleep 30`, which never reaps it. (With
    // `sleep 0`, on a loaded machine (CI, session 54) the child ended before the exec and the shell
    // reaped it: /proc/PID/stat gone, ENOENT.)
    const parent = spawn('sh', ['-c', 'sleep 1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] })
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))))
      const stat = async () => (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ')
      for (let i = 0; i < 1000 && (await stat())[0] !== 'Z'; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      const [state, , , , , , , , , , , , , , , , , , , startTime] = await stat()
      assert.equal(state, 'Z', `process ${pid} is a zombie`)
      assert.equal(startTimeOf(pid), null, 'a zombie has no start time as a holder')
      await writeFile(path, JSON.stringify({ pid, startTime, bootId: null, host: hostname(), purpose: 'apply', since: 'then' }) + '\n')
      const lock = new TwinLock(path)
      await lock.acquire('snapshot')
      assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid)
      await lock.release()
    } finally {
      parent.kill('SIGKILL')
    }
  })

  // Session 44 (attack): a run killed on this machine, then the machine renamed: its lock said
  // "another machine" by the host name alone, and every later run got LOCK_HELD for good.
  it('a lock of this boot, or of this machine by its id, is judged by its process whatever the host name; one of another machine is left alone', async () => {
    const path = join(base, 'lock')
    const thisBoot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim()
    const gone = { pid: 999999999, startTime: '5', purpose: 'apply', since: 'then' }
    for (const holder of [
      { ...gone, bootId: thisBoot, host: 'old-name', pidNs: pidNamespace() },
      { ...gone, bootId: 'another-boot', host: 'old-name', machine: lockMachine() },
    ]) {
      await writeFile(path, JSON.stringify(holder) + '\n')
      const lock = new TwinLock(path)
      await lock.acquire('snapshot')
      assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid, JSON.stringify(holder))
      assert.equal(JSON.parse(await readFile(path, 'utf8')).machine, lockMachine())
      await lock.release()
    }
    assert.match(lockMachine() ?? '', /^[0-9a-f]{32}$/, 'this machine has an id')
    await writeFile(path, JSON.stringify({ ...gone, bootId: 'another-boot', host: 'other-host', machine: 'f'.repeat(32) }) + '\n')
    await assert.rejects(new TwinLock(path).acquire('snapshot'), (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && e.message.includes('on host other-host') && e.nextStep?.includes(`rm ${path}`) === true)
    // Session 44 (review): a container on this kernel (Docker, LXC) reads this boot's id, but its
    // pids are another namespace's: its live holder is not judged by a process here (nor is an
    // older lock of this boot naming another host and no namespace).
    for (const holder of [
      { ...gone, bootId: thisBoot, host: 'a-container', pidNs: 'pid:[1]' },
      { ...gone, bootId: thisBoot, host: 'a-container' },
    ]) {
      await writeFile(path, JSON.stringify(holder) + '\n')
      await assert.rejects(new TwinLock(path).acquire('snapshot'), (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && e.message.includes('on host a-container'), JSON.stringify(holder))
    }
  })

  // Session 48: VMs cloned from one image share /etc/machine-id (and often the host name); one
  // sharing a twin folder with the other took its live lock as "this machine's previous boot".
  it('a lock of another boot that names this machine is stale only if it was taken before this boot began', async () => {
    const path = join(base, 'lock')
    const btime = Number(/^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))?.[1])
    assert.ok(btime > 0, 'this machine has a boot time')
    const alive = { pid: 1, startTime: '5', bootId: 'another-boot', purpose: 'apply' }
    for (const names of [{ host: 'old-name', machine: lockMachine() }, { host: hostname() }]) {
      // Taken after this boot began: a clone's run, left alone (the way out named).
      {
        const holder = { ...alive, ...names, since: new Date().toISOString() }
        await writeFile(path, JSON.stringify(holder) + '\n')
        await assert.rejects(
          new TwinLock(path).acquire('snapshot'),
          (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && e.message.includes('a clone of this one') && e.nextStep?.includes(`rm ${path}`) === true,
          JSON.stringify(holder),
        )
        assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), holder, 'the lock is left as it was')
        assert.equal(await new TwinLock(path).holder().then((h) => h?.bootId), 'another-boot', 'status names it as held')
      }
      // Taken before: this machine's run before a restart, stale.
      await writeFile(path, JSON.stringify({ ...alive, ...names, since: new Date((btime - 60) * 1000).toISOString() }) + '\n')
      const lock = new TwinLock(path)
      await lock.acquire('snapshot')
      assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid, JSON.stringify(names))
      await lock.release()
    }
  })

  // Session 49 (review F3, s48): btime follows the clock. A machine with no battery-backed clock
  // boots after a power cut at its last saved time, before its killed run's `since`, and got
  // LOCK_HELD ("a clone") on every run until the clock was set (as does a container booted again:
  // its btime is the host's). This machine's journal places the lock's boot without the clock now.
  // Session 50 (review L1, s49): and says that boot ended, which an entry after the lock does not.
  describe("a lock of another boot that names this machine, taken after this boot began by the clock now", () => {
    const earlierBoot = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'
    const count = 'cb42efacc827467695ef37fe1b5069aa'
    const asked: string[] = []
    const askedFirst: string[] = []
    const askedAgain: string[] = []
    let last: (bootId: string, again: boolean) => JournalEntry | undefined = () => undefined
    let first: JournalEntry | undefined
    let inContainer = false
    const real = { ...bootJournal }
    beforeEach(() => {
      asked.length = 0
      askedFirst.length = 0
      askedAgain.length = 0
      first = undefined
      inContainer = false
      bootJournal.lastEntry = (bootId: string, again = false) => ((again ? askedAgain : asked).push(bootId), last(bootId, again))
      bootJournal.firstEntry = (bootId: string) => (askedFirst.push(bootId), first)
      bootJournal.inContainer = () => inContainer
    })
    afterEach(() => {
      Object.assign(bootJournal, real)
    })
    const taken = new Date(Date.now() - 1000).toISOString() // after this boot began, by the clock now
    const lockOf = (names: object, since = taken) => ({ pid: 1, startTime: '5', bootId: earlierBoot, purpose: 'apply', ...names, since })
    const entry = (ms: number, seqnum: number, more: Partial<JournalEntry> = {}): JournalEntry => ({ ms, seqnumId: count, seqnum: BigInt(seqnum), journalStopped: false, ...more })
    /** The lock's boot's last entry, 30 s after the lock: its journald stopping (a shutdown). */
    const stopped = entry(Date.parse(taken) + 30_000, 0x169, { journalStopped: true })
    const thisBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    const takesIt = async (path: string, holder: object) => {
      await writeFile(path, JSON.stringify(holder) + '\n')
      const lock = new TwinLock(path)
      await lock.acquire('snapshot')
      assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid, JSON.stringify(holder))
      await lock.release()
    }
    const refusesIt = async (path: string, holder: object, says: string, why: string) => {
      await writeFile(path, JSON.stringify(holder) + '\n')
      await assert.rejects(
        new TwinLock(path).acquire('snapshot'),
        (e: unknown) =>
          isTwinSyncError(e) &&
          e.code === 'LOCK_HELD' &&
          e.message.includes("a clone of this one, or this machine's own run before a restart") &&
          e.message.includes(says) &&
          e.nextStep?.includes(`no battery-backed clock, after a power cut), remove the lock: \`rm ${path}\``) === true,
        why,
      )
      assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), holder, `the lock is left as it was (${why})`)
      assert.equal(await new TwinLock(path).holder().then((h) => h?.bootId), earlierBoot, `status names it as held (${why})`)
    }

    it("is this machine's earlier boot's, and stale, when this machine's journal has that boot ending (its journal stopping) after the lock was taken", async () => {
      const path = join(base, 'lock')
      last = (bootId) => (bootId === earlierBoot ? stopped : undefined)
      for (const container of [false, true]) {
        inContainer = container
        for (const names of [{ host: 'old-name', machine: lockMachine() }, { host: hostname() }, { host: hostname(), machine: lockMachine() }]) await takesIt(path, lockOf(names))
      }
      assert.ok(asked.length > 0 && asked.every((b) => b === earlierBoot), `the journal is asked of the lock's boot: ${asked.join(' ')}`)
      assert.deepEqual(askedFirst, [], "the stop is enough: this boot's first entry not asked")
      assert.ok(askedAgain.length > 0 && askedAgain.every((b) => b === earlierBoot), 'the stop is read again before the lock is taken on its word (session 51)')
      // The stop as late as the lock's own time is enough (both by that boot's clock).
      last = () => ({ ...stopped, ms: Date.parse(taken) })
      await takesIt(path, lockOf({ host: hostname(), machine: lockMachine() }))
    })

    // Session 51 (session 50's review): a journald being restarted has "Journal stopped" as its
    // boot's last entry until the new one writes "Journal started"; a running boot's live lock read
    // as its boot's end in that moment. The stop is read again before the lock is taken on its word.
    it("is refused when that boot's journald was being restarted: its stop, read again, followed by its start; taken when the stop is still its last entry", async () => {
      const path = join(base, 'lock')
      const started = entry(stopped.ms + 40, 0x16a) // the new journald's "Journal started"
      const says = `this machine's journal has that boot, its last entry at ${new Date(started.ms).toISOString()}, neither that boot's journal stopping nor before this boot's first entry`
      for (const [container, again] of [
        [false, started],
        [true, started],
        [false, { ...stopped, seqnum: 0x16bn }], // restarted and stopped again: written since, so running then
        [false, undefined],
      ] as const) {
        inContainer = container
        askedAgain.length = 0
        last = (_, looksAgain) => (looksAgain ? again : stopped)
        await writeFile(path, JSON.stringify(lockOf({ host: 'old-name', machine: lockMachine() })) + '\n')
        await assert.rejects(new TwinLock(path).acquire('snapshot'), (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && (again === undefined || e.message.includes(again === started ? says : 'its last entry at')), String(again?.seqnum))
        assert.ok(askedAgain.length > 0 && askedAgain.every((b) => b === earlierBoot), `read again (${String(again?.seqnum)})`)
      }
      inContainer = false
      // Review L2's lock (a container's run on this kernel: another machine id, host, pid namespace): the same.
      last = (_, looksAgain) => (looksAgain ? started : stopped)
      const container = lockOf({ host: 'a-container', machine: 'e'.repeat(32), pidNs: 'pid:[4026532290]' })
      await writeFile(path, JSON.stringify(container) + '\n')
      await assert.rejects(new TwinLock(path).acquire('snapshot'), (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && e.message.includes('on host a-container'))
      // The stop still the last entry when read again: that boot ended, its lock taken.
      last = () => stopped
      askedAgain.length = 0
      await takesIt(path, container)
      await takesIt(path, lockOf({ host: 'old-name', machine: lockMachine() }))
      assert.ok(askedAgain.length > 0, 'read again before taking it')
    })

    it("outside a container, is stale when that boot's last entry comes before this boot's first in journald's count (a power cut: no stop)", async () => {
      const path = join(base, 'lock')
      last = () => entry(Date.parse(taken) + 30_000, 0x169)
      first = entry(Date.parse(taken) - 5_000, 0x16a) // this boot's clock behind: its first entry "earlier" by the clock
      await takesIt(path, lockOf({ host: hostname(), machine: lockMachine() }))
      assert.deepEqual(askedFirst, [thisBoot], "this boot's first entry is asked for by this boot's id")
    })

    // Review L1 (s49): two containers of one image (one machine id) whose journals meet in one host
    // folder; the other one, still running, writes entries after its lock. The numbers are those
    // two booted Debian 12 containers wrote (boot-journal.ts): the running one's last entry 0x37,
    // after this one's first, 0x16a, in the same count.
    it('is refused when that boot may still be running: its last entry is not its journal stopping and not before this boot\'s first in one count, or the journal cannot place it', async () => {
      const path = join(base, 'lock')
      const holder = lockOf({ host: 'old-name', machine: lockMachine() })
      const says = (l: JournalEntry) => `this machine's journal has that boot, its last entry at ${new Date(l.ms).toISOString()}, neither that boot's journal stopping nor before this boot's first entry`
      const sibling = entry(Date.parse(taken) + 30_000, 0x37)
      for (const [container, lastOne, firstOne, why] of [
        [true, sibling, entry(Date.parse(taken) - 60_000, 0x16a), 'in a container: a sibling whose count lags behind this boot\'s'],
        [false, entry(Date.parse(taken) + 30_000, 0x200), entry(Date.parse(taken) - 60_000, 0x16a), 'a boot still writing after this boot\'s first entry'],
        [false, sibling, { ...entry(Date.parse(taken) - 60_000, 0x16a), seqnumId: 'f'.repeat(32) }, 'another count (a fresh file of journald)'],
        [false, sibling, undefined, "no first entry of this boot (runtime journal, or not readable)"],
        [false, { ...sibling, seqnum: 0x16an }, entry(Date.parse(taken) - 60_000, 0x16a), 'the same number: not before'],
      ] as const) {
        inContainer = container
        last = () => lastOne
        first = firstOne
        await refusesIt(path, holder, says(lastOne), why)
      }
      assert.deepEqual(askedAgain, [], 'no second look where the lock is kept')
      // A stop forged by a sender (not journald's own transport) is not the journal's: entryOf gives it journalStopped false (below).
    })

    it('is refused, saying what is known and the rm, when the journal has no entry of that boot or none as late as the lock (a clone copied before it, or lost with the power)', async () => {
      const path = join(base, 'lock')
      for (const [lastOne, says] of [
        [undefined, "this machine's journal has no entry of that boot"],
        [{ ...stopped, ms: Date.parse(taken) - 1 }, `this machine's journal has that boot, its last entry at ${new Date(Date.parse(taken) - 1).toISOString()}, before the lock was taken`],
      ] as const) {
        last = () => lastOne
        await refusesIt(path, lockOf({ host: 'old-name', machine: lockMachine() }), says, String(lastOne?.ms))
      }
    })

    // Attack: forged locks, and the journal's word never makes another machine's lock this one's.
    it("never takes a lock of another machine id or host on the journal's word unless it shows that boot ended, nor one whose `since` lies ahead of the journal; one taken before this boot began is stale as before", async () => {
      const path = join(base, 'lock')
      for (const [journalHas, lastOne] of [
        ['that boot, running (written after the lock, not stopped, not before this boot)', { ...stopped, ms: Date.now() + 3_600_000, journalStopped: false }],
        ['that boot stopping before the lock was taken', { ...stopped, ms: Date.parse(taken) - 1 }],
        ['no entry of that boot', undefined],
      ] as const) {
        last = () => lastOne
        for (const [names, says] of [
          [{ host: hostname(), machine: 'f'.repeat(32) }, `another machine named ${hostname()}`],
          [{ host: 'other-host', machine: 'f'.repeat(32) }, 'on host other-host'],
          [{ host: 'other-host' }, 'on host other-host'],
        ] as const) {
          asked.length = 0
          await writeFile(path, JSON.stringify(lockOf(names)) + '\n')
          await assert.rejects(new TwinLock(path).acquire('snapshot'), (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && e.message.includes(says), `${JSON.stringify(names)}, the journal having ${journalHas}`)
          assert.ok(asked.length > 0 && asked.every((b) => b === earlierBoot), 'the journal is asked of that boot only')
        }
      }
      // A `since` far ahead (a forged lock, or a clock far ahead in that boot): after the journal's last entry, refused.
      last = () => ({ ...stopped, ms: Date.now() + 3_600_000 }) // the journal has the lock's boot, stopping in an hour
      await writeFile(path, JSON.stringify(lockOf({ host: hostname(), machine: lockMachine() }, '3000-01-01T00:00:00.000Z')) + '\n')
      await assert.rejects(new TwinLock(path).acquire('snapshot'), (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && e.message.includes('a clone of this one'))
      // Taken before this boot began by the clock: stale by the rule before, the journal not asked.
      asked.length = 0
      last = () => undefined
      await writeFile(path, JSON.stringify(lockOf({ host: hostname(), machine: lockMachine() }, '2000-01-01T00:00:00.000Z')) + '\n')
      await new TwinLock(path).acquire('snapshot')
      assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid)
      assert.deepEqual(asked, [])
    })

    // Review L2 (s49): a run in a Docker or LXC container on this kernel names the container's
    // machine id, host name and pid namespace, and the host's boot id; after the host restarted its
    // lock (and its record of git's ref locks, settle-snapshot.test.ts) was judged alive for ever.
    it("a lock of another machine id, host and pid namespace is stale when this machine's journal shows its boot ended after it was taken (a container's run on this kernel before a restart)", async () => {
      const path = join(base, 'lock')
      const container = { host: 'a-container', machine: 'e'.repeat(32), pidNs: 'pid:[4026532290]' }
      last = (bootId) => (bootId === earlierBoot ? stopped : undefined)
      await takesIt(path, lockOf(container))
      // Outside a container, its last entry before this boot's first in one count (a power cut) is enough too.
      last = () => entry(Date.parse(taken) + 30_000, 0x169)
      first = entry(Date.parse(taken) - 5_000, 0x16a)
      await takesIt(path, lockOf(container))
      // A lock with no readable `since` (an older TwinSync's) is not placed by the journal.
      await writeFile(path, JSON.stringify({ ...lockOf(container), since: 'an unknown time' }) + '\n')
      await assert.rejects(new TwinLock(path).acquire('snapshot'), refused('LOCK_HELD'))
    })

    it('of many takers in one process over a lock the journal shows stale, exactly one gets it', async () => {
      last = () => stopped
      for (let trial = 0; trial < 20; trial++) {
        const path = join(base, `lock-${trial}`)
        await writeFile(path, JSON.stringify(lockOf({ host: hostname(), machine: lockMachine() })) + '\n')
        const locks = Array.from({ length: 6 }, () => new TwinLock(path))
        const outcomes = await Promise.allSettled(locks.map((l) => l.acquire('test')))
        const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'got' : (o.reason as { code?: string }).code ?? String(o.reason)))
        assert.deepEqual([codes.filter((c) => c === 'got').length, codes.every((c) => c === 'got' || c === 'LOCK_HELD')], [1, true], `trial ${trial}: ${codes.join(' ')}`)
        await Promise.all(locks.map((l) => l.release()))
      }
    })

    it("reads journalctl's entry of the boot asked for, its place in journald's count and whether it is journald's stop, and nothing else; a lock's boot id that is not one finds nothing", () => {
      // As Debian 13's journalctl (systemd 257) printed it in a booted container.
      const line = '{"__CURSOR":"s=cb42efacc827467695ef37fe1b5069aa;i=cb;b=2f5475261fba4803979c1a95e52136d8;m=d68098107;t=662001bbc5aaa;x=265b1f84af574951","_BOOT_ID":"2f5475261fba4803979c1a95e52136d8","__REALTIME_TIMESTAMP":"1796602465114794","__MONOTONIC_TIMESTAMP":"57580028167","__SEQNUM":"203","__SEQNUM_ID":"cb42efacc827467695ef37fe1b5069aa"}\n'
      assert.deepEqual(entryOf(line, '2f5475261fba4803979c1a95e52136d8'), { ms: 1796602465114, seqnumId: count, seqnum: 203n, journalStopped: false })
      assert.equal(entryOf(line, '0123456789abcdef0123456789abcdef'), undefined, 'another boot')
      // As Debian 12's (systemd 252) printed a shutdown's last entry: no __SEQNUM fields, the cursor holds them.
      const stop = '{"__REALTIME_TIMESTAMP":"1796612721978999","_TRANSPORT":"driver","MESSAGE_ID":"d93fb3c9c24d451a97cea615ce59c00b","_BOOT_ID":"973621607e394be48adca4d819ed8414","__CURSOR":"s=7ab41c258de043368e97b1e74f72e941;i=9f;b=973621607e394be48adca4d819ed8414;m=fcb64d4d4;t=662027f17ae77;x=53d0d8843aed0815","__MONOTONIC_TIMESTAMP":"67836892372"}\n'
      assert.deepEqual(entryOf(stop, '973621607e394be48adca4d819ed8414'), { ms: 1796612721978, seqnumId: '7ab41c258de043368e97b1e74f72e941', seqnum: 0x9fn, journalStopped: true })
      // The stop's message id from a sender (journald sets _TRANSPORT itself; a sender cannot): not the journal stopping.
      assert.equal(entryOf(stop.replace('"driver"', '"journal"'), '973621607e394be48adca4d819ed8414')?.journalStopped, false)
      for (const out of ['', '-- No entries --\n', '{"_BOOT_ID":"2f5475261fba4803979c1a95e52136d8","__REALTIME_TIMESTAMP":"soon"}\n', '{not json\n', line.replace(/"__CURSOR":"[^"]*",/, '').replace(/,"__SEQNUM[^}]*/, ''), stop.replace(';i=9f;', ';i=;')]) {
        assert.equal(entryOf(out, '2f5475261fba4803979c1a95e52136d8') ?? entryOf(out, '973621607e394be48adca4d819ed8414'), undefined, out)
      }
      for (const forged of ['another-boot', '--since=yesterday', '0123456789abcdef0123456789abcdef0', '../../x']) {
        assert.equal(real.lastEntry(forged), undefined, forged)
        assert.equal(real.firstEntry(forged), undefined, forged)
      }
      assert.equal(real.lastEntry('01234567-89ab-cdef-0123-456789abcdef'), undefined, 'no journal has this boot')
      // Read again: a second later, once per boot and process.
      const start = Date.now()
      assert.equal(real.lastEntry('01234567-89ab-cdef-0123-456789abcdee', true), undefined)
      assert.ok(Date.now() - start >= 990, `read again a second later (${Date.now() - start} ms)`)
      const next = Date.now()
      real.lastEntry('01234567-89ab-cdef-0123-456789abcdee', true)
      assert.ok(Date.now() - next < 900, 'once per boot and process')
      assert.equal(real.firstEntry('01234567-89ab-cdef-0123-456789abcdef'), undefined, 'no journal has this boot')
    })
  })

  // Session 48: clones whose machine ids were made anew often keep one host name (`debian`): the
  // host name made another machine's lock this machine's although the ids differed.
  it('a lock of another boot naming another machine id is another machine\'s, whatever its host name', async () => {
    const path = join(base, 'lock')
    assert.match(lockMachine() ?? '', /^[0-9a-f]{32}$/, 'this machine has an id')
    const holder = { pid: 1, startTime: '5', bootId: 'another-boot', host: hostname(), machine: 'f'.repeat(32), purpose: 'apply', since: 'then' }
    await writeFile(path, JSON.stringify(holder) + '\n')
    await assert.rejects(
      new TwinLock(path).acquire('snapshot'),
      (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && e.message.includes(`another machine named ${hostname()}`) && e.nextStep?.includes(`rm ${path}`) === true,
    )
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), holder, 'the lock is left as it was')
  })

  it('a half-written lock is held while fresh and stale once old', async () => {
    const path = join(base, 'lock')
    await writeFile(path, '') // an O_EXCL lock whose pid was never written
    await assert.rejects(new TwinLock(path).acquire('snapshot'), refused('LOCK_HELD'))
    const old = new Date(Date.now() - 60_000)
    await utimes(path, old, old)
    const lock = new TwinLock(path)
    await lock.acquire('snapshot')
    await lock.release()
    await assert.rejects(stat(path), /ENOENT/)
  })

  // Session 53: a reader waits for a live holder (holdForReading, planner.test.ts); a lock whose
  // run is gone is no run to wait for. A guard of that path: the limit is set far past the test's
  // timeout, so a reader that waited on the stale lock would fail it.
  it('holdForReading takes a stale lock over at once, never waiting on it; inside a hold() of it, it nests', async () => {
    const path = join(base, 'lock')
    const limit = readerWait.ms
    readerWait.ms = 600_000
    try {
      await writeFile(path, JSON.stringify({ pid: 999999999, startTime: '5', bootId: null, host: hostname(), purpose: 'snapshot', since: 'then' }) + '\n')
      assert.equal(await new TwinLock(path).holdForReading('recovery', async () => JSON.parse(await readFile(path, 'utf8')).pid), process.pid)
      await assert.rejects(stat(path), /ENOENT/)
      await new TwinLock(path).hold('apply', () => new TwinLock(path).holdForReading('recovery', async () => undefined))
      await assert.rejects(stat(path), /ENOENT/)
    } finally {
      readerWait.ms = limit
    }
  })

  it('nests only inside hold(): the holder may take it again, nobody else in the process can', async () => {
    const path = join(base, 'lock')
    const outer = new TwinLock(path)
    await outer.hold('apply', async () => {
      const inner = new TwinLock(path)
      await inner.acquire('apply')
      await inner.release()
      assert.ok((await stat(path)).isFile(), 'the inner release leaves the outer lock in place')
    })
    await assert.rejects(stat(path), /ENOENT/)
  })

  it('holdAlone: nothing else in the process takes it while it runs; inside a hold() of it, it nests', async () => {
    const path = join(base, 'lock')
    await new TwinLock(path).holdAlone('snapshot', async () => {
      await assert.rejects(new TwinLock(path).acquire('apply'), refused('LOCK_HELD'))
      await assert.rejects(new TwinLock(path).hold('apply', async () => undefined), refused('LOCK_HELD'))
      assert.ok((await stat(path)).isFile(), 'a refused taker leaves the lock in place')
    })
    await assert.rejects(stat(path), /ENOENT/)
    await new TwinLock(path).hold('apply', async () => {
      assert.equal(await new TwinLock(path).holdAlone('snapshot', async () => 'ran'), 'ran')
      assert.ok((await stat(path)).isFile(), 'the nested run leaves the outer lock in place')
    })
    await assert.rejects(stat(path), /ENOENT/)
  })

  it('of many processes racing for it, over a stale lock, exactly one gets it', async function () {
    this.timeout(60_000)
    const path = join(base, 'lock')
    await writeFile(path, JSON.stringify({ pid: 999999999, startTime: '5', bootId: null, host: hostname(), purpose: 'apply', since: 'then' }) + '\n')
    const script = join(import.meta.dirname, 'support', 'take-lock.ts')
    // The winner holds the lock until every taker has answered (no fixed hold time: under load a
    // node process took longer to start than the winner held it, and a late one got it too).
    const release = join(tmpdir(), `twinsync-lock-release-${process.pid}-${Date.now()}`)
    const takers = Array.from({ length: 6 }, () => {
      const child = spawn('node', ['--import', 'tsx', script, path, release], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      const answered = new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString()
          if (out.includes('\n')) resolve(out.trim())
        })
        child.on('exit', (code) => (out.includes('\n') ? undefined : reject(new Error(`a taker exited ${code} without answering`))))
      })
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
      return { answered, exited }
    })
    let outcomes: string[]
    try {
      outcomes = await Promise.all(takers.map((t) => t.answered))
    } finally {
      await writeFile(release, '')
      await Promise.all(takers.map((t) => t.exited))
      await rm(release, { force: true })
    }
    assert.equal(outcomes.filter((o) => o === 'got').length, 1, outcomes.join(' '))
    assert.equal(outcomes.filter((o) => o === 'LOCK_HELD').length, 5, outcomes.join(' '))
    assert.deepEqual((await readdir(base)).filter((f) => f !== 'lock'), [], 'no temp or set-aside file is left')
  })

  it('of many takers in one process over a stale lock, exactly one gets it, trial after trial (the old take-over let two in: 11 of 300)', async function () {
    this.timeout(120_000)
    const stale = JSON.stringify({ pid: 999999999, startTime: '5', bootId: null, host: hostname(), purpose: 'apply', since: 'then' }) + '\n'
    const wrong: string[] = []
    for (let trial = 0; trial < 300; trial++) {
      const path = join(base, `lock-${trial}`)
      await writeFile(path, stale)
      // Their awaits interleave: one may judge the lock stale after another already took it over.
      const locks = Array.from({ length: 6 }, () => new TwinLock(path))
      const outcomes = await Promise.allSettled(locks.map((l) => l.acquire('test')))
      const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'got' : (o.reason as { code?: string }).code ?? String(o.reason)))
      if (codes.filter((c) => c === 'got').length !== 1 || codes.some((c) => c !== 'got' && c !== 'LOCK_HELD')) wrong.push(`trial ${trial}: ${codes.join(' ')}`)
      const winner = locks[outcomes.findIndex((o) => o.status === 'fulfilled')]
      if (winner !== undefined) assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid)
      await Promise.all(locks.map((l) => l.release()))
    }
    assert.deepEqual(wrong, [])
    assert.deepEqual(await readdir(base), [], 'every lock released; no temp, token or set-aside file is left')
  })

  it("a take-over token left by a run killed while taking over is removed; a live run's token is LOCK_HELD, and the stale lock stays", async () => {
    const path = join(base, 'lock')
    const stale = JSON.stringify({ pid: 999999999, startTime: '5', bootId: null, host: hostname(), purpose: 'apply', since: 'then' }) + '\n'
    await writeFile(path, stale)
    await writeFile(`${path}.breaking`, JSON.stringify({ pid: process.pid, startTime: startTimeOf(process.pid), bootId: null, host: hostname(), purpose: 'snapshot', since: 'now' }) + '\n')
    await assert.rejects(new TwinLock(path).acquire('apply'), (e: unknown) => isTwinSyncError(e) && e.code === 'LOCK_HELD' && e.message.includes('taking over'))
    assert.equal(await readFile(path, 'utf8'), stale, 'the stale lock is left to the run taking it over')
    await writeFile(`${path}.breaking`, stale) // its run is gone
    const lock = new TwinLock(path)
    await lock.acquire('apply')
    assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid)
    assert.deepEqual((await readdir(base)).sort(), ['lock'], 'the dead run\'s token is gone, ours too')
    await lock.release()
  })
})
