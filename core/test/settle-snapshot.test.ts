import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { access, link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hostname } from 'node:os'
import { settleSnapshot, snapshotUnsettled } from '../src/twin/atomic-snapshot.js'
import { lockTempName, lockTempOfDeadRun, startTimeOf } from '../src/twin/twin-lock.js'

describe('a snapshot killed during its HEAD move', () => {
  let dir: string
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-settle-'))
    git('init', '-q')
    await writeFile(join(dir, 'a'), 'a\n')
    git('add', 'a')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'one')
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it("removes the HEAD and branch locks its killed update-ref left, says so, and the next ref update works", async () => {
    const branch = git('symbolic-ref', 'HEAD')
    const head = git('rev-parse', 'HEAD')
    await mkdir(join(dir, '.git', 'twinsync'), { recursive: true })
    // The move record of a snapshot whose HEAD never moved, and update-ref's locks.
    await writeFile(join(dir, '.git', 'twinsync', 'snapshot-in-progress.json'), JSON.stringify({ parent: head, commit: '0'.repeat(40), updates: [], removals: [] }))
    await writeFile(join(dir, '.git', 'HEAD.lock'), '')
    await writeFile(join(dir, '.git', `${branch}.lock`), '')
    const settled = await settleSnapshot(dir)
    assert.deepEqual(settled, { finished: false, discarded: true, tempFiles: ['.git/HEAD.lock', `.git/${branch}.lock`] })
    await assert.rejects(access(join(dir, '.git', 'HEAD.lock')))
    git('update-ref', branch, head)
    assert.deepEqual(await settleSnapshot(dir), { finished: false, discarded: false, tempFiles: [] })
  })

  it("removes the lock's temp file a run killed while taking the lock left, young or old; a live run's stays", async () => {
    const state = join(dir, '.git', 'twinsync')
    await mkdir(state, { recursive: true })
    const holder = (pid: number, startTime: string | null) => JSON.stringify({ pid, startTime, bootId: null, host: hostname(), purpose: 'apply', since: new Date().toISOString() }) + '\n'
    // A pid that is not running (the kernel's pid_max is far below it).
    await writeFile(join(state, '.lock.twinsync-aaaaaaaaaaaa'), holder(2 ** 30, null))
    await writeFile(join(state, '.lock.twinsync-bbbbbbbbbbbb'), holder(process.pid, startTimeOf(process.pid)))
    await writeFile(join(state, '.lock.twinsync-cccccccccccc'), '')
    // Empty, named by its run: a dead run of this boot's is a leftover; a live one's, or another boot's (maybe another machine's), stays.
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '').slice(0, 8)
    const other = boot.startsWith('0') ? `1${boot.slice(1)}` : `0${boot.slice(1)}`
    await writeFile(join(state, `.lock.${2 ** 30}-${boot}.twinsync-dddddddddddd`), '')
    await writeFile(join(state, `.lock.${process.pid}-${boot}.twinsync-eeeeeeeeeeee`), '')
    await writeFile(join(state, `.lock.${2 ** 30}-${other}.twinsync-ffffffffffff`), '')
    const settled = await settleSnapshot(dir)
    assert.deepEqual(settled.tempFiles, [join('.git', 'twinsync', `.lock.${2 ** 30}-${boot}.twinsync-dddddddddddd`), join('.git', 'twinsync', '.lock.twinsync-aaaaaaaaaaaa')].sort())
    await access(join(state, '.lock.twinsync-bbbbbbbbbbbb'))
    await access(join(state, '.lock.twinsync-cccccccccccc')) // unreadable and young: maybe being written
    await access(join(state, `.lock.${process.pid}-${boot}.twinsync-eeeeeeeeeeee`))
    await access(join(state, `.lock.${2 ** 30}-${other}.twinsync-ffffffffffff`))
  })

  it("a swap of the private index killed between its link and its rename (no move recorded: resetIndex's) is seen as unsettled and finished by settling", async () => {
    const ours = join(dir, '.git', 'twinsync', 'snapshot.index')
    await mkdir(join(dir, '.git', 'twinsync'), { recursive: true })
    execFileSync('git', ['-C', dir, 'read-tree', 'HEAD'], { env: { ...process.env, GIT_INDEX_FILE: ours } })
    await link(ours, join(dir, '.git', 'index.lock'))
    assert.equal(await snapshotUnsettled(dir), true)
    await settleSnapshot(dir)
    await assert.rejects(access(join(dir, '.git', 'index.lock')))
    assert.equal(await snapshotUnsettled(dir), false)
    assert.equal(git('ls-files'), 'a')
    // git's own lock (not a link of ours) is not ours to settle.
    await writeFile(join(dir, '.git', 'index.lock'), '')
    assert.equal(await snapshotUnsettled(dir), false)
    await rm(join(dir, '.git', 'index.lock'))
  })

  it('names a lock temp file by its run and boot, so an empty one a killed run left is known', async () => {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '').slice(0, 8)
    const name = lockTempName(join(dir, '.git', 'twinsync', 'lock'))
    assert.match(name, new RegExp(`/\\.git/twinsync/\\.lock\\.${process.pid}-${boot}\\.twinsync-[0-9a-f]{12}$`))
    await mkdir(join(dir, '.git', 'twinsync'), { recursive: true })
    await writeFile(name, '')
    assert.equal(await lockTempOfDeadRun(name), false, 'this live run')
  })
})
