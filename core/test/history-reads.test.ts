import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { SnapshotLog } from '../src/history/snapshot-log.js'
import { checkIdField } from '../src/twin/git.js'
import { tagsAbsent } from '../src/twin/quick-status.js'

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@x', ...args], { encoding: 'utf8' }).trim()

/**
 * What `history` reads without git or with less work (session 19): whether the twin has any
 * label at all, from .git as git's files backend keeps tags, and the id fields of its one
 * `git log` pass checked by one expression each.
 */
describe('history reads the twin cheaply, as git would answer', function () {
  this.timeout(60_000)
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-history-reads-'))
    git(dir, 'init', '-q', '-b', 'main')
    await writeFile(join(dir, 'a'), 'a\n')
    git(dir, 'add', '-A')
    git(dir, 'commit', '-q', '-m', 'one')
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'two')
  })
  after(() => rm(dir, { recursive: true, force: true }))

  /** tagsAbsent never says "none" where git lists a tag; the labels are git's either way. */
  async function agrees(expectNone: boolean, what: string): Promise<void> {
    const listed = git(dir, 'for-each-ref', 'refs/tags')
    assert.equal(listed === '', expectNone, `${what}: git lists ${listed === '' ? 'no tag' : 'tags'}`)
    if (!tagsAbsent(dir)) assert.equal(expectNone, false, `${what}: no tag, but only git was asked`)
    else assert.equal(listed, '', `${what}: tagsAbsent said no tag where git lists ${listed}`)
    const labels = await new SnapshotLog(dir).labels()
    const named = [...labels.values()].flat().sort()
    assert.deepEqual(named, listed === '' ? [] : git(dir, 'for-each-ref', '--format=%(refname:strip=2)', 'refs/tags').split('\n').sort(), what)
  }

  it('knows a twin has no label from .git: no tags folder, an empty one; any loose, packed or annotated tag is git\'s to list', async () => {
    await rm(join(dir, '.git', 'refs', 'tags'), { recursive: true, force: true })
    await agrees(true, 'no refs/tags folder')
    assert.equal(tagsAbsent(dir), true)
    git(dir, 'tag', 'loose', 'HEAD~1')
    await agrees(false, 'a loose tag')
    assert.equal(tagsAbsent(dir), false)
    git(dir, 'tag', '-a', '-m', 'note', 'annotated', 'HEAD')
    await agrees(false, 'an annotated tag')
    git(dir, 'pack-refs', '--all')
    assert.equal(git(dir, 'for-each-ref', '--format=%(refname)', 'refs/tags'), 'refs/tags/annotated\nrefs/tags/loose')
    await agrees(false, 'tags only in packed-refs')
    assert.equal(tagsAbsent(dir), false, 'packed tags are seen')
    assert.deepEqual((await new SnapshotLog(dir).labels()).get(git(dir, 'rev-parse', 'HEAD')), ['annotated'], 'an annotated tag names its commit')
    git(dir, 'tag', '-d', 'loose', 'annotated')
    await agrees(true, 'every tag deleted (packed-refs without tags, an empty folder)')
    assert.equal(tagsAbsent(dir), true)
    await writeFile(join(dir, '.git', 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted \n${git(dir, 'rev-parse', 'HEAD')} refs/tags/by-hand\n`)
    await agrees(false, 'a tag written into packed-refs')
    await rm(join(dir, '.git', 'packed-refs'))
  })

  it('leaves an unusual .git to git: a tags folder that is a file, a GIT_DIR in the environment', async () => {
    await rm(join(dir, '.git', 'refs', 'tags'), { recursive: true, force: true })
    await writeFile(join(dir, '.git', 'refs', 'tags'), '')
    assert.equal(tagsAbsent(dir), false)
    await rm(join(dir, '.git', 'refs', 'tags'))
    assert.equal(tagsAbsent(dir), true)
    process.env.GIT_DIR = join(dir, '.git')
    try {
      assert.equal(tagsAbsent(dir), false)
    } finally {
      delete process.env.GIT_DIR
    }
  })

  it("checks a log pass's parent ids by one expression exactly as by splitting on spaces", () => {
    const id40 = 'a'.repeat(40)
    const id64 = 'b'.repeat(64)
    const pieces = [id40, id64, ' ', '  ', '', 'x', id40.slice(1), `${id40}0`, `\n${id40}`, id40.toUpperCase(), '\t']
    const oneId = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/
    let seed = 7
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let i = 0; i < 5000; i++) {
      let value = ''
      for (let k = next(5); k > 0; k--) value += pieces[next(pieces.length)] as string
      const valid = value.split(' ').filter(Boolean).every((id) => oneId.test(id))
      let passed = true
      try {
        checkIdField(dir, '%P', value)
      } catch (error) {
        assert.ok(isTwinSyncError(error) && error.code === 'REPO_INVALID')
        passed = false
      }
      assert.equal(passed, valid, JSON.stringify(value))
      for (const placeholder of ['%H', '%T']) {
        let ok = true
        try {
          checkIdField(dir, placeholder, value)
        } catch {
          ok = false
        }
        assert.equal(ok, oneId.test(value), `${placeholder} ${JSON.stringify(value)}`)
      }
    }
  })
})
