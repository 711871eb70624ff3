import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { cpSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, statfs, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { autoPack, countLoose, forgetCruftAnswer, hasCruftPacks, LEGACY, LOOSE_LIMIT, PACK_LIMIT, REFLOG_DAYS, ROLL_UP_EVERY, ROLL_UP_SHARE, WHOLE_EVERY } from '../src/twin/auto-pack.js'
import { writePack } from '../src/twin/pack-writer.js'
import { settleSnapshot } from '../src/twin/atomic-snapshot.js'
import { collectGarbage } from '../src/history/gc.js'
import { asGoneRun, killAt, Killed } from './support/kill-points.js'

// Real git, a real object store: the automatic pack after a snapshot's commit.
const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'gc.auto=0', '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' })
const packNames = async (dir: string) => (await readdir(join(dir, '.git/objects/pack'))).filter((n) => n.endsWith('.pack'))
const packs = async (dir: string) => (await packNames(dir)).length
const cruftPacks = async (dir: string) => (await readdir(join(dir, '.git/objects/pack'))).filter((n) => n.endsWith('.mtimes')).length
const has = (dir: string, oid: string) => {
  try {
    git(dir, 'cat-file', '-e', oid)
    return true
  } catch {
    return false
  }
}

/** One commit with `n` new files (n blobs, a tree or two, the commit: all reachable, all loose). */
async function commitFiles(dir: string, n: number, tag: string): Promise<void> {
  await mkdir(join(dir, tag), { recursive: true })
  for (let i = 0; i < n; i++) await writeFile(join(dir, tag, `f${i}`), `${tag} ${i}\n`)
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', tag)
}

/**
 * Commits packed with a plain `git repack -d` (never rolled up) until `n` packs exist. Packs made
 * by hand since auto-pack's last run would count as commits' small packs to roll up (session 31):
 * its record of what it left is forgotten, as for a twin from before it.
 */
let plain = 0
async function plainPacks(dir: string, n: number): Promise<void> {
  while ((await packs(dir)) < n) {
    await commitFiles(dir, 2, `plain${plain++}`)
    git(dir, 'repack', '-d', '-q')
  }
  await rm(join(dir, '.git/twinsync/cache/auto-pack.json'), { force: true })
}

/**
 * The first commit, packed: 3 files and NOISE bytes that do not compress, so that the small
 * packs below (a few hundred bytes to 2 KB: each holds the growing root tree) stay under
 * 1/ROLL_UP_SHARE of the packs (roll-ups by count).
 */
const NOISE = 512 * 1024
async function firstCommit(dir: string): Promise<void> {
  await mkdir(join(dir, 'first'), { recursive: true })
  await writeFile(join(dir, 'first', 'noise'), randomBytes(NOISE))
  await commitFiles(dir, 3, 'first')
  assert.equal((await autoPack(dir, { full: true }))?.kind, 'incremental')
}

/** One commit's objects as a small pack of their own, as a snapshot's commit writes them (writeObjects). */
async function smallPack(dir: string, tag: string): Promise<void> {
  await commitFiles(dir, 3, tag)
  git(dir, 'repack', '-d', '-q')
}

/** Commits as small packs up to the roll-up: autoPack after each, nothing run before the last; what it did then. */
async function rollUp(dir: string, tag: string, full: boolean): ReturnType<typeof autoPack> {
  for (let i = 1; i < ROLL_UP_EVERY; i++) {
    await smallPack(dir, `${tag}-${i}`)
    assert.equal(await autoPack(dir, { full }), undefined, `${tag}: ${i} small packs, nothing runs`)
  }
  await smallPack(dir, `${tag}-${ROLL_UP_EVERY}`)
  return autoPack(dir, { full })
}

/**
 * Commits as small packs until autoPack runs, at most `most`: what it did, after how many. A
 * record from before the last pack (a kill) or none counts the packs there now as rolled up, so
 * the roll-up comes up to a pack or two later than ROLL_UP_EVERY.
 */
async function untilPacked(dir: string, tag: string, most = ROLL_UP_EVERY + 2): Promise<{ outcome: Awaited<ReturnType<typeof autoPack>>; commits: number }> {
  for (let i = 1; i <= most; i++) {
    await smallPack(dir, `${tag}-${i}`)
    const outcome = await autoPack(dir, { full: true })
    if (outcome !== undefined) return { outcome, commits: i }
  }
  assert.fail(`${tag}: nothing ran after ${most} small packs`)
}

const record = async (dir: string) => JSON.parse(await readFile(join(dir, '.git/twinsync/cache/auto-pack.json'), 'utf8')) as { leftLoose: number; leftPacks?: number; sinceWhole: number }

/** The record as if `sinceWhole` commits' small packs had been rolled up since the last whole pack (the rest of it as the last pack left it): fewer commits to make. */
async function countedSoFar(dir: string, sinceWhole: number): Promise<void> {
  await writeFile(join(dir, '.git/twinsync/cache/auto-pack.json'), JSON.stringify({ ...(await record(dir)), sinceWhole }) + '\n')
}

/** `n` loose blobs nothing refers to (what a discarded volatile-only snapshot leaves), `daysOld` days old. */
async function unreachable(dir: string, n: number, tag: string, daysOld = 0): Promise<string[]> {
  const oids: string[] = []
  for (let i = 0; i < n; i++) oids.push(execFileSync('git', ['-C', dir, 'hash-object', '-w', '--stdin'], { input: `${tag} unreachable ${i}\n`, encoding: 'utf8' }).trim())
  const when = new Date(Date.now() - daysOld * 86_400_000)
  for (const oid of oids) await utimes(join(dir, '.git/objects', oid.slice(0, 2), oid.slice(2)), when, when)
  return oids
}

describe('autoPack (the twin object store packed after a snapshot)', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-pack-'))
    git(dir, 'init', '-q')
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('this git has cruft packs (the test bed\'s Debian 12 has git 2.39)', async () => {
    forgetCruftAnswer()
    assert.equal(await hasCruftPacks(dir), true)
    // Kept in the twin's cache with the stat data of the git on PATH: used while that is the binary, else git is asked.
    const cache = join(dir, '.git', 'twinsync', 'cache', 'git-version.json')
    const kept = JSON.parse(await readFile(cache, 'utf8')) as { binary: string; cruft: boolean }
    assert.match(kept.binary, /\/git:\d+:/)
    assert.equal(kept.cruft, true)
    await writeFile(cache, JSON.stringify({ binary: kept.binary, cruft: false }))
    forgetCruftAnswer()
    assert.equal(await hasCruftPacks(dir), false, 'the cached answer for this binary')
    await writeFile(cache, JSON.stringify({ binary: 'another git', cruft: false }))
    forgetCruftAnswer()
    assert.equal(await hasCruftPacks(dir), true, 'another binary: git asked again')
    assert.equal((JSON.parse(await readFile(cache, 'utf8')) as { binary: string }).binary, kept.binary)
    forgetCruftAnswer()
  })

  it('packs what each commit left loose, rolling small packs up geometrically; the store stays whole', async () => {
    assert.equal(LOOSE_LIMIT, 1)
    assert.equal(await autoPack(dir, { full: true }), undefined, 'nothing loose: nothing runs')
    for (let i = 0; i < 6; i++) {
      await commitFiles(dir, 3, `c${i}`)
      const packed = await autoPack(dir, { full: false })
      assert.equal(packed?.kind, 'incremental')
      assert.equal(packed?.looseAfter, 0)
      assert.equal(await countLoose(dir), 0)
      assert.ok((await packs(dir)) <= 3, `${await packs(dir)} packs after ${i + 1} commits: the small ones are rolled up`)
    }
    git(dir, 'fsck', '--full', '--strict')
    assert.equal(git(dir, 'show', 'HEAD~5:c0/f2'), 'c0 2\n')
  })

  it(`rolls the commits' small packs (writeObjects) up once ${ROLL_UP_EVERY} are there, running no git before; the store stays whole`, async () => {
    await firstCommit(dir)
    const base = await packs(dir)
    for (let i = 1; i < ROLL_UP_EVERY; i++) {
      await commitFiles(dir, 3, `s${i}`)
      git(dir, 'repack', '-d', '-q') // the commit's objects as a pack of their own, as a snapshot's commit writes them
      assert.equal(await autoPack(dir, { full: true }), undefined, `${i} small packs: nothing runs`)
    }
    assert.equal(await packs(dir), base + ROLL_UP_EVERY - 1)
    await commitFiles(dir, 3, 'last')
    git(dir, 'repack', '-d', '-q')
    const rolled = await autoPack(dir, { full: true })
    assert.equal(rolled?.kind, 'incremental')
    assert.ok((await packs(dir)) <= 3, `${await packs(dir)} packs after the roll-up`)
    assert.equal(await countLoose(dir), 0)
    git(dir, 'fsck', '--full', '--strict')
    assert.equal(git(dir, 'show', 'HEAD~8:first/f2'), 'first 2\n')
    // Packs removed by someone else (git gc): followed down, the next roll-up counted from there.
    git(dir, 'repack', '-a', '-d', '-q')
    assert.equal(await autoPack(dir, { full: true }), undefined)
    assert.equal(JSON.parse(await readFile(join(dir, '.git/twinsync/cache/auto-pack.json'), 'utf8')).leftPacks, 1)
  })

  it(`makes the roll-up that brings the commits rolled up since the last whole pack to ${WHOLE_EVERY} a whole pack; the apt hook's never, the next one allowed then`, async function () {
    this.timeout(300_000)
    await firstCommit(dir)
    assert.equal(WHOLE_EVERY % ROLL_UP_EVERY, 0)
    assert.equal((await rollUp(dir, 'r1', true))?.kind, 'incremental', 'roll-up 1')
    assert.equal((await record(dir)).sinceWhole, ROLL_UP_EVERY)
    // The roll-ups up to the last before WHOLE_EVERY as if made (fewer commits to make), then the last two.
    await countedSoFar(dir, WHOLE_EVERY - 3 * ROLL_UP_EVERY)
    for (const n of [2, 1]) {
      assert.equal((await rollUp(dir, `r-${n}`, true))?.kind, 'incremental', `roll-up ${n} before the last`)
      assert.equal((await record(dir)).sinceWhole, WHOLE_EVERY - n * ROLL_UP_EVERY)
    }
    // The apt hook's roll-up (full: false) stays incremental and is counted; the next snapshot's is the whole pack.
    assert.equal((await rollUp(dir, 'apt', false))?.kind, 'incremental')
    assert.equal((await record(dir)).sinceWhole, WHOLE_EVERY)
    const whole = await rollUp(dir, 'after', true)
    assert.equal(whole?.kind, 'full')
    assert.equal(whole?.packsAfter, 1)
    assert.equal((await record(dir)).sinceWhole, 0)
    // Counted again from there.
    assert.equal((await rollUp(dir, 'again', true))?.kind, 'incremental')
    assert.equal((await record(dir)).sinceWhole, ROLL_UP_EVERY)
    git(dir, 'fsck', '--full', '--strict')
    const commits = 6 * ROLL_UP_EVERY
    assert.equal(git(dir, 'rev-list', '--count', 'HEAD'), `${1 + commits}\n`)
    assert.equal(git(dir, 'show', `HEAD~${commits}:first/f2`), 'first 2\n')
  })

  it('a whole pack searches every delta again: a document changed in every commit keeps one copy of its own after it, not one a roll-up (each only delta against the other document beside it)', async function () {
    this.timeout(300_000)
    await firstCommit(dir)
    // Two documents alike in most of their bytes (a manifest's parts), each changed in every commit:
    // a roll-up holds no earlier version of either, so its first version of one is stored against
    // the other (a delta of the bytes they do not share), which a whole pack reusing deltas kept.
    const random = (bytes: number) => (randomBytes(bytes / 2).toString('hex').match(/.{1,64}/g) ?? []).join('\n')
    const shared = random(24 * 1024)
    const own = { a: random(8 * 1024), b: random(8 * 1024) }
    await mkdir(join(dir, 'm'), { recursive: true })
    await countedSoFar(dir, WHOLE_EVERY - 3 * ROLL_UP_EVERY)
    let whole: Awaited<ReturnType<typeof autoPack>>
    let commits = 0
    do {
      commits++
      for (const name of ['a', 'b'] as const) await writeFile(join(dir, 'm', `${name}.json`), `${shared}\nsetting ${commits}\n${own[name]}\n`)
      git(dir, 'add', '-A')
      git(dir, 'commit', '-q', '-m', `c${commits}`)
      git(dir, 'repack', '-d', '-q', '--window=0') // the commit's objects as a pack of their own, no deltas, as writeObjects writes them
      whole = await autoPack(dir, { full: true })
    } while (whole?.kind !== 'full' && commits < 4 * ROLL_UP_EVERY)
    assert.equal(whole?.kind, 'full', `${commits} commits`)
    const versions = git(dir, 'rev-list', '--objects', '--all').split('\n').filter((l) => l.endsWith(' m/a.json')).map((l) => l.slice(0, 40))
    assert.equal(versions.length, commits)
    const sizes = execFileSync('git', ['-C', dir, 'cat-file', '--batch-check=%(objectsize:disk)'], { input: versions.join('\n') + '\n', encoding: 'utf8' }).trim().split('\n').map(Number)
    // The first of a delta chain stored whole or against the other document (its own 8 KB of hex),
    // git's window leaving at most two such; every other version a delta against one of its own,
    // a few dozen bytes. Reusing the roll-ups' deltas, one such a roll-up (10 of 25 here).
    const large = sizes.filter((n) => n > 2048)
    assert.ok(large.length <= 2, `versions of m/a.json over 2 KB in the pack: ${large.length} of ${commits} (${large.join(', ')} bytes)`)
    git(dir, 'fsck', '--full', '--strict')
  })

  it(`after twinsync gc (and forget's gc, the same gcWhole) the roll-ups toward the next whole pack count from 0: no whole pack right after gc made one`, async function () {
    this.timeout(300_000)
    await firstCommit(dir)
    assert.equal((await rollUp(dir, 'r1', true))?.kind, 'incremental')
    await countedSoFar(dir, WHOLE_EVERY - ROLL_UP_EVERY)
    await collectGarbage(dir, { now: new Date() })
    assert.equal(await packs(dir), 1)
    const after = await record(dir)
    assert.equal(after.sinceWhole, 0)
    assert.equal(after.leftPacks, 1)
    // The next roll-up is an incremental one (before: the whole pack, its count having reached
    // WHOLE_EVERY), counted from 0 (so every one is up to WHOLE_EVERY: the cadence test above).
    assert.equal((await rollUp(dir, 'g1', true))?.kind, 'incremental')
    assert.equal((await record(dir)).sinceWhole, ROLL_UP_EVERY)
    git(dir, 'fsck', '--full', '--strict')
  })

  it('killed or failing at any step of a whole pack, its record is the old one (replaced whole, last): the store whole, the count of roll-ups kept, the next roll-up whole again', async function () {
    this.timeout(600_000)
    await firstCommit(dir)
    assert.equal((await rollUp(dir, 'r1', true))?.kind, 'incremental')
    await countedSoFar(dir, WHOLE_EVERY - 2 * ROLL_UP_EVERY)
    assert.equal((await rollUp(dir, 'r2', true))?.kind, 'incremental')
    for (let i = 1; i <= ROLL_UP_EVERY; i++) await smallPack(dir, `last-${i}`)
    const before = await record(dir)
    assert.equal(before.sinceWhole, WHOLE_EVERY - ROLL_UP_EVERY)
    const template = `${dir}-template`
    cpSync(dir, template, { recursive: true })
    try {
      const stopped = async (at: number, mode: 'kill' | 'fail') => {
        await rm(dir, { recursive: true, force: true })
        cpSync(template, dir, { recursive: true })
        const point = killAt(at, mode)
        try {
          return { outcome: await autoPack(dir, { full: true }), point }
        } catch (error) {
          assert.ok(error instanceof Killed, String(error))
          return { outcome: undefined, point }
        } finally {
          point.restore()
        }
      }
      const whole = await stopped(Number.POSITIVE_INFINITY, 'kill')
      assert.equal(whole.outcome?.kind, 'full')
      assert.ok(whole.point.steps >= 2, whole.point.calls.join(' '))
      for (const mode of ['kill', 'fail'] as const) {
        for (let at = 1; at <= whole.point.steps; at++) {
          const where = `${mode} at step ${at} (${whole.point.calls[at - 1]})`
          const run = await stopped(at, mode)
          assert.ok(run.point.hit, where)
          git(dir, 'fsck', '--full', '--strict')
          assert.equal(git(dir, 'rev-list', '--count', 'HEAD'), `${1 + 3 * ROLL_UP_EVERY}\n`, where)
          // The record's rename is the pack's last step: any kill before it leaves the old record whole.
          assert.deepEqual(await record(dir), before, where)
          // A temp record the kill left is the dead run's: the next settling removes it.
          asGoneRun(dir)
          await settleSnapshot(dir)
          assert.deepEqual((await readdir(join(dir, '.git/twinsync/cache'))).filter((n) => n.includes('auto-pack')), ['auto-pack.json'], `${where}: a temp record left after settling`)
          // The next snapshots: the next roll-up is whole again (a whole pack more, nothing lost).
          const next = await untilPacked(dir, 'next')
          assert.equal(next.outcome?.kind, 'full', where)
          assert.equal((await record(dir)).sinceWhole, 0, where)
          git(dir, 'fsck', '--full', '--strict')
          assert.equal(await countLoose(dir), 0)
        }
      }
    } finally {
      await rm(template, { recursive: true, force: true })
    }
  })

  it('a record torn or lost (an older TwinSync, a disk error) reads as nothing packed yet: the next roll-up counts from 0', async () => {
    await firstCommit(dir)
    await writeFile(join(dir, '.git/twinsync/cache/auto-pack.json'), '{"leftLoose":0,"leftPa')
    const next = await untilPacked(dir, 'torn')
    assert.equal(next.outcome?.kind, 'incremental')
    assert.ok(next.commits <= ROLL_UP_EVERY + 1, `${next.commits} small packs`)
    assert.equal((await record(dir)).sinceWhole, next.commits - 1, 'the small packs there when the record was read again not counted')
    git(dir, 'fsck', '--full', '--strict')
  })

  it(`rolls small packs up sooner once they hold 1/${ROLL_UP_SHARE} of the bytes the last pack left (a young twin stays within a few % of packing each commit)`, async () => {
    await firstCommit(dir)
    const big = async (tag: string) => {
      await mkdir(join(dir, tag), { recursive: true })
      await writeFile(join(dir, tag, 'noise'), randomBytes(Math.ceil(NOISE / ROLL_UP_SHARE / 2) + 512))
      await smallPack(dir, tag)
    }
    await big('a')
    assert.equal(await autoPack(dir, { full: true }), undefined, 'one small pack, under the share')
    await big('b')
    assert.equal((await autoPack(dir, { full: true }))?.kind, 'incremental', 'two: over it')
    assert.equal((await record(dir)).sinceWhole, 2)
    git(dir, 'fsck', '--full', '--strict')
  })

  it(`a kill between a small pack's rename and its index's leaves a pack git never reads: fsck clean, not counted for the roll-up, removed once an hour old`, async function () {
    this.timeout(300_000)
    await firstCommit(dir)
    const blob = (text: string) => {
      const bytes = Buffer.from(text)
      return { sha: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex'), bytes }
    }
    const lost = [blob('a commit killed before its ref moved\n'), blob('its other file\n')]
    const point = killAt((call) => /^renameSync\(.*\/tmp_idx_[0-9a-f]+\)$/.test(call))
    try {
      assert.throws(() => writePack(dir, lost), Killed)
    } finally {
      point.restore()
    }
    assert.ok(point.hit)
    const folder = join(dir, '.git/objects/pack')
    const names = await readdir(folder)
    const orphan = names.find((n) => n.endsWith('.pack') && !names.includes(n.replace(/\.pack$/, '.idx')))
    assert.ok(orphan !== undefined, names.join(' '))
    assert.ok(names.some((n) => n.startsWith('tmp_idx_')), 'the index, not renamed, under its temp name')
    assert.equal(git(dir, 'fsck', '--full', '--strict', '--no-progress'), '')
    for (const { sha } of lost) assert.ok(!has(dir, sha), 'not read by git')
    // Not counted: the roll-up comes after ROLL_UP_EVERY commits' packs, as without it; the young orphan kept.
    assert.equal((await rollUp(dir, 'a', true))?.kind, 'incremental')
    assert.ok((await readdir(folder)).includes(orphan))
    git(dir, 'fsck', '--full', '--strict')
    // An hour old: removed (with the temp index) by the next pack that runs.
    const old = new Date(Date.now() - 2 * 3_600_000)
    for (const name of await readdir(folder)) if (name === orphan || name.startsWith('tmp_idx_')) await utimes(join(folder, name), old, old)
    assert.equal((await rollUp(dir, 'b', true))?.kind, 'incremental')
    const left = await readdir(folder)
    assert.ok(!left.includes(orphan) && !left.some((n) => n.startsWith('tmp_')), left.join(' '))
    assert.ok(left.filter((n) => n.endsWith('.pack')).every((n) => left.includes(n.replace(/\.pack$/, '.idx'))), 'every pack with its index')
    git(dir, 'fsck', '--full', '--strict')
    assert.equal(git(dir, 'show', 'HEAD~16:first/f2'), 'first 2\n')
  })

  it(`packs everything into one pack once ${PACK_LIMIT} packs would exist, unless only incremental packs are allowed (the apt hook)`, async () => {
    await plainPacks(dir, PACK_LIMIT - 1)
    await commitFiles(dir, 2, 'x')
    assert.equal((await autoPack(dir, { full: false }))?.kind, 'incremental')
    await plainPacks(dir, PACK_LIMIT - 1)
    await commitFiles(dir, 2, 'z')
    const whole = await autoPack(dir, { full: true })
    assert.equal(whole?.kind, 'full')
    assert.equal(whole?.packsAfter, 1)
    assert.equal(await packs(dir), 1)
    assert.equal(await countLoose(dir), 0)
    git(dir, 'fsck', '--full', '--strict')
  })

  it("writes no reverse index (.rev) beside its packs, geometric, whole or gc's, even where git's default (2.41+, here the twin's config) writes one", async () => {
    git(dir, 'config', 'pack.writeReverseIndex', 'true')
    const revs = async () => (await readdir(join(dir, '.git/objects/pack'))).filter((n) => n.endsWith('.rev'))
    await commitFiles(dir, 3, 'a')
    assert.equal((await autoPack(dir, { full: false }))?.kind, 'incremental')
    assert.deepEqual(await revs(), [], 'geometric')
    await plainPacks(dir, PACK_LIMIT - 1)
    await commitFiles(dir, 2, 'z')
    assert.equal((await autoPack(dir, { full: true }))?.kind, 'full')
    assert.deepEqual(await revs(), [], 'whole')
    await commitFiles(dir, 2, 'g')
    await collectGarbage(dir, { now: new Date() })
    assert.deepEqual(await revs(), [], "twinsync gc's")
    git(dir, 'fsck', '--full', '--strict')
    assert.equal(git(dir, 'show', 'HEAD~1:z/f1'), 'z 1\n')
  })

  it('keeps unreachable objects (in a cruft pack) until a day after they were packed, and never counts the cruft pack', async () => {
    await commitFiles(dir, 2, 'a')
    const young = await unreachable(dir, 5, 'young')
    const old = await unreachable(dir, 5, 'old', 2)
    // The geometric pack takes every loose object, reachable or not, and drops none.
    assert.equal((await autoPack(dir, { full: true }))?.kind, 'incremental')
    assert.equal(await countLoose(dir), 0)
    for (const oid of [...young, ...old]) assert.ok(has(dir, oid))
    // The whole pack drops the old ones, keeps the young ones in a cruft pack.
    await plainPacks(dir, PACK_LIMIT - 1)
    await commitFiles(dir, 2, 'c')
    const whole = await autoPack(dir, { full: true })
    assert.equal(whole?.kind, 'full')
    assert.equal(whole?.packsAfter, 1, 'the cruft pack is not counted')
    assert.equal(await cruftPacks(dir), 1)
    for (const oid of young) assert.ok(has(dir, oid), `young ${oid} kept`)
    // The old ones were in the geometric pack written just now: their age is that pack's, and they wait a day more.
    for (const oid of old) assert.ok(has(dir, oid), `old ${oid}, packed today, kept`)
    git(dir, 'fsck', '--full', '--strict')
    assert.equal(git(dir, 'show', 'HEAD:c/f1'), 'c 1\n')
  })

  it('drops unreachable objects a day old at the whole pack, loose or packed', async () => {
    await plainPacks(dir, PACK_LIMIT - 1)
    const old = await unreachable(dir, 5, 'old', 2)
    const young = await unreachable(dir, 5, 'young')
    assert.equal((await autoPack(dir, { full: true }))?.kind, 'full')
    for (const oid of old) assert.ok(!has(dir, oid), `old ${oid} dropped`)
    for (const oid of young) assert.ok(has(dir, oid), `young ${oid} kept`)
    assert.equal(await countLoose(dir), 0)
    git(dir, 'fsck', '--full', '--strict')
  })

  // Session 41: nothing expired a twin's reflogs (a twin never runs git's own gc): a line a
  // commit, for ever. The old code kept all 8 old lines of HEAD, the branch and the mirror's ref.
  it(`drops reflog lines older than ${REFLOG_DAYS} days at the whole pack, from HEAD, the branches and the mirror's ref; never from refs/twinsync/* (discard's record of the intent before)`, async function () {
    // About 60 git processes and three packs: 3-7 s alone, over 10 s in unit runs at load 13-18 (session 45).
    this.timeout(90_000)
    const old = { ...process.env, GIT_COMMITTER_DATE: new Date(Date.now() - (REFLOG_DAYS + 10) * 86_400_000).toISOString() }
    const at = (env: NodeJS.ProcessEnv, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8', env })
    for (let i = 0; i < 8; i++) {
      at(old, 'commit', '-q', '--allow-empty', '-m', `old ${i}`)
      at(old, 'update-ref', '--create-reflog', '-m', 'update by push', 'refs/remotes/mirror/main', 'HEAD')
      at(old, 'update-ref', '--create-reflog', '-m', 'intent', 'refs/twinsync/intended', 'HEAD')
    }
    // An intent a discard dropped: only the reflog reaches it.
    const dropped = at(old, 'commit-tree', '-m', 'intent before', 'HEAD^{tree}').trim()
    at(old, 'update-ref', '-m', 'intent', 'refs/twinsync/intended', dropped)
    at(old, 'update-ref', '-m', 'discard', 'refs/twinsync/intended', 'HEAD')
    const lines = (ref: string) => git(dir, 'reflog', 'show', '--format=%gs', ref).split('\n').filter(Boolean).length
    assert.deepEqual(['HEAD', 'refs/heads/master', 'refs/remotes/mirror/main', 'refs/twinsync/intended'].map(lines), [8, 8, 8, 10])
    // Commits of today (their reflog lines are young); the apt hook's pack (never whole) leaves the reflogs alone.
    await plainPacks(dir, PACK_LIMIT - 1)
    await commitFiles(dir, 2, 'x')
    assert.equal((await autoPack(dir, { full: false }))?.kind, 'incremental')
    assert.equal(lines('refs/remotes/mirror/main'), 8, 'a geometric pack leaves the reflogs alone')
    await plainPacks(dir, PACK_LIMIT - 1)
    await commitFiles(dir, 2, 'z')
    const young = lines('HEAD') - 8
    assert.ok(young > 8)
    const whole = await autoPack(dir, { full: true })
    assert.equal(whole?.kind, 'full')
    assert.equal(lines('HEAD'), young, "HEAD's old lines dropped, today's kept")
    assert.equal(lines('refs/heads/master'), young)
    assert.equal(lines('refs/remotes/mirror/main'), 0)
    assert.equal(lines('refs/twinsync/intended'), 10, "the intent's reflog whole")
    assert.equal(git(dir, 'reflog', 'show', '--format=%H', '-n', '2', 'refs/twinsync/intended').trim().split('\n')[1], dropped, 'the intent before, as discard names it')
    assert.ok(has(dir, dropped), 'kept: its reflog line reaches it')
    git(dir, 'fsck', '--full', '--strict')
  })

  it('with a git without cruft packs, packs as session 4 did: at 200 loose objects, and unreachable ones it cannot take do not make every snapshot pack', async function () {
    // About 450 objects written and packed three times: 7.9 s alone, over 30 s in a CI run at load 12 (session 18).
    this.timeout(90_000)
    await commitFiles(dir, 20, 'a')
    assert.equal(await autoPack(dir, { full: true, legacy: true }), undefined)
    await unreachable(dir, LEGACY.looseLimit + 10, 'u')
    const first = await autoPack(dir, { full: true, legacy: true })
    assert.equal(first?.kind, 'incremental')
    assert.equal(first?.looseAfter, LEGACY.looseLimit + 10) // young and unreachable: kept loose
    await commitFiles(dir, 10, 'c')
    assert.equal(await autoPack(dir, { full: true, legacy: true }), undefined)
    await commitFiles(dir, LEGACY.looseLimit, 'd')
    assert.equal((await autoPack(dir, { full: true, legacy: true }))?.kind, 'incremental')
    git(dir, 'fsck', '--full', '--strict')
  })

  it('removes what a killed repack or pack write left (temp packs, a pack without its index) once it is an hour old, never a younger one', async () => {
    const folder = join(dir, '.git/objects/pack')
    await mkdir(folder, { recursive: true })
    await writeFile(join(folder, '.tmp-123-pack-old.pack'), 'x')
    await writeFile(join(folder, 'tmp_idx_old'), 'x')
    await writeFile(join(folder, '.tmp-124-pack-young.pack'), 'x')
    // A pack whose index a kill kept from being renamed beside it (pack-writer.ts renames the pack first): git never reads it.
    const orphan = `pack-${'a'.repeat(40)}.pack`
    const youngOrphan = `pack-${'b'.repeat(40)}.pack`
    await writeFile(join(folder, orphan), 'x')
    await writeFile(join(folder, youngOrphan), 'x')
    const old = new Date(Date.now() - 2 * 3_600_000)
    for (const name of ['.tmp-123-pack-old.pack', 'tmp_idx_old', orphan]) await utimes(join(folder, name), old, old)
    await commitFiles(dir, 2, 'a')
    await autoPack(dir, { full: true })
    const left = await readdir(folder)
    assert.ok(left.includes('.tmp-124-pack-young.pack') && left.includes(youngOrphan))
    assert.ok(!left.includes('.tmp-123-pack-old.pack') && !left.includes('tmp_idx_old') && !left.includes(orphan), left.join(' '))
    assert.ok(left.filter((n) => n.endsWith('.idx')).every((n) => left.includes(n.replace(/\.idx$/, '.pack'))), 'packs with an index kept')
  })
  // Session 41: a repack after a snapshot on a twin disk with too little room left its
  // tmp_pack_* (6.7 MB of a 40 MB disk): the disk stayed full for an hour, every command DISK_FULL.
  it('a repack that runs out of disk removes the temporary pack it was writing at once; a temp file that was there before stays', async function () {
    if (process.getuid?.() !== 0) this.skip()
    const disk = await mkdtemp(join(tmpdir(), 'twinsync-pack-full-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', disk])
    try {
      const twin = join(disk, 'twin')
      await mkdir(twin)
      git(twin, 'init', '-q')
      // 2.5 MB that does not compress, loose: a pack of it needs as much again.
      await writeFile(join(twin, 'noise'), randomBytes(2_500_000))
      git(twin, 'add', '-A')
      git(twin, 'commit', '-q', '-m', 'noise')
      await rm(join(twin, 'noise'))
      const folder = join(twin, '.git/objects/pack')
      await mkdir(folder, { recursive: true })
      await writeFile(join(folder, '.tmp-999-pack-another.pack'), 'x')
      const { bavail, bsize } = await statfs(disk)
      await writeFile(join(disk, 'filler'), Buffer.alloc(Math.max(0, bavail * bsize - 256 * 1024)))
      await assert.rejects(autoPack(twin, { full: true }), /No space left|Out of diskspace|ENOSPC|write error/i)
      assert.deepEqual((await readdir(folder)).sort(), ['.tmp-999-pack-another.pack'], 'only the temp file that was there before')
      await rm(join(disk, 'filler'))
      await autoPack(twin, { full: true })
      git(twin, 'fsck', '--no-progress')
      assert.equal(await countLoose(twin), 0)
    } finally {
      execFileSync('umount', ['-l', disk])
      await rm(disk, { recursive: true, force: true })
    }
  })
})
