import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { autoPack, countLoose, LOOSE_LIMIT, PACK_LIMIT } from '../src/twin/auto-pack.js'

// Real git, a real object store: the automatic pack after a snapshot's commit.
const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'gc.auto=0', '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' })
const packs = async (dir: string) => (await readdir(join(dir, '.git/objects/pack'))).filter((n) => n.endsWith('.pack')).length

/** One commit with `n` new files (n blobs, a tree or two, the commit: all reachable, all loose). */
async function commitFiles(dir: string, n: number, tag: string): Promise<void> {
  await mkdir(join(dir, tag), { recursive: true })
  for (let i = 0; i < n; i++) await writeFile(join(dir, tag, `f${i}`), `${tag} ${i}\n`)
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', tag)
}

describe('autoPack (the twin object store packed after a snapshot)', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-pack-'))
    git(dir, 'init', '-q')
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('does nothing below the limit, then packs the loose objects into one pack; the store stays whole', async () => {
    await commitFiles(dir, 20, 'a')
    assert.equal(await autoPack(dir, { full: true }), undefined)
    assert.equal(await packs(dir), 0)
    await commitFiles(dir, LOOSE_LIMIT, 'b')
    const loose = await countLoose(dir)
    assert.ok(loose >= LOOSE_LIMIT, `${loose} loose`)
    const packed = await autoPack(dir, { full: true })
    assert.equal(packed?.kind, 'incremental')
    assert.equal(packed?.looseBefore, loose)
    assert.equal(packed?.looseAfter, 0)
    assert.equal(await countLoose(dir), 0)
    assert.equal(await packs(dir), 1)
    git(dir, 'fsck', '--full', '--strict')
    assert.equal(git(dir, 'show', 'HEAD~1:a/f3'), 'a 3\n')
  })

  it('objects a pack cannot take (unreachable ones) do not make every later snapshot pack again', async () => {
    const blobs = Array.from({ length: LOOSE_LIMIT + 10 }, (_, i) => `unreachable ${i}\n`)
    await mkdir(join(dir, 'u'))
    for (const [i, b] of blobs.entries()) await writeFile(join(dir, 'u', String(i)), b)
    execFileSync('git', ['-C', dir, 'hash-object', '-w', '--stdin-paths'], { input: blobs.map((_, i) => join(dir, 'u', String(i))).join('\n') })
    await rm(join(dir, 'u'), { recursive: true })
    const first = await autoPack(dir, { full: true })
    assert.equal(first?.looseAfter, LOOSE_LIMIT + 10) // young and unreachable: kept loose
    await commitFiles(dir, 10, 'c')
    assert.equal(await autoPack(dir, { full: true }), undefined)
    await commitFiles(dir, LOOSE_LIMIT, 'd')
    assert.equal((await autoPack(dir, { full: true }))?.kind, 'incremental')
  })

  it(`packs everything into one pack once ${PACK_LIMIT} packs exist, unless only incremental packs are allowed (the apt hook)`, async () => {
    for (let i = 0; i < PACK_LIMIT - 2; i++) {
      await commitFiles(dir, 2, `p${i}`)
      git(dir, 'repack', '-d', '-q')
    }
    assert.equal(await packs(dir), PACK_LIMIT - 2)
    await commitFiles(dir, LOOSE_LIMIT, 'x')
    assert.equal((await autoPack(dir, { full: false }))?.kind, 'incremental')
    assert.equal(await packs(dir), PACK_LIMIT - 1)
    await commitFiles(dir, LOOSE_LIMIT, 'y')
    assert.equal((await autoPack(dir, { full: false }))?.kind, 'incremental')
    await commitFiles(dir, LOOSE_LIMIT, 'z')
    const whole = await autoPack(dir, { full: true })
    assert.equal(whole?.kind, 'full')
    assert.equal(whole?.packsAfter, 1)
    assert.equal(await countLoose(dir), 0)
    git(dir, 'fsck', '--full', '--strict')
  })

  it('removes what a killed repack left (temp packs) once it is an hour old, never a younger one', async () => {
    const folder = join(dir, '.git/objects/pack')
    await mkdir(folder, { recursive: true })
    await writeFile(join(folder, '.tmp-123-pack-old.pack'), 'x')
    await writeFile(join(folder, 'tmp_idx_old'), 'x')
    await writeFile(join(folder, '.tmp-124-pack-young.pack'), 'x')
    const old = new Date(Date.now() - 2 * 3_600_000)
    await utimes(join(folder, '.tmp-123-pack-old.pack'), old, old)
    await utimes(join(folder, 'tmp_idx_old'), old, old)
    await commitFiles(dir, LOOSE_LIMIT, 'a')
    await autoPack(dir, { full: true })
    const left = await readdir(folder)
    assert.ok(left.includes('.tmp-124-pack-young.pack'))
    assert.ok(!left.includes('.tmp-123-pack-old.pack') && !left.includes('tmp_idx_old'), left.join(' '))
  })
})
