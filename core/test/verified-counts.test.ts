import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { countsTrailer, parseCountsTrailer, recordedCounts } from '../src/history/count-record.js'
import { HistoryService } from '../src/history/history-service.js'
import { VerifiedCounts } from '../src/history/verified-counts.js'
import { SnapshotWorkflow } from '../src/services/take-snapshot.js'
import { EMPTY_TREE } from '../src/twin/git.js'
import { notesProvider } from './support/notes-provider.js'
import { serviceRig } from './support/service-rig.js'

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@x', ...args], { encoding: 'utf8' }).trim()
const TREE = 'a'.repeat(40)
const OWN = 'c'.repeat(40)
const KEY = Buffer.alloc(32, 7)
const OTHER_KEY = Buffer.alloc(32, 8)
const domains = { files: [{ provider: 'files', operation: 'changed', resource: '/etc/motd', summary: '/etc/motd changed' }] }

describe('counts trailers this key verified before, remembered locally (verified-counts.ts)', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-verified-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  const file = () => join(dir, 'verified-counts-v1')
  const trailer = countsTrailer(TREE, OWN, recordedCounts(domains), KEY)

  it('remembers a verified trailer for the same key only; another key finds nothing', () => {
    const first = VerifiedCounts.open(dir, KEY)
    assert.deepEqual(parseCountsTrailer(trailer, TREE, OWN, KEY, first)?.counts, { files: 1 })
    first.save()
    const again = VerifiedCounts.open(dir, KEY)
    assert.equal(again.has(`${TREE} ${OWN} ${/sig=(\S+)/.exec(trailer)?.[1]} files=1`), true)
    const rekeyed = VerifiedCounts.open(dir, OTHER_KEY)
    assert.equal(rekeyed.has(`${TREE} ${OWN} ${/sig=(\S+)/.exec(trailer)?.[1]} files=1`), false, 'a file written with another key is ignored whole')
    assert.equal(parseCountsTrailer(trailer, TREE, OWN, OTHER_KEY, rekeyed), undefined, 'and the trailer is checked with the new key')
  })

  it('takes an entry for the exact text signed only: other counts, another tree or parent tree under the same signature are checked with the key', () => {
    const memo = VerifiedCounts.open(dir, KEY)
    assert.ok(parseCountsTrailer(trailer, TREE, OWN, KEY, memo))
    memo.save()
    const cached = VerifiedCounts.open(dir, KEY)
    assert.equal(parseCountsTrailer(trailer.replace('files=1', 'files=7'), TREE, OWN, KEY, cached), undefined, 'edited counts')
    assert.equal(parseCountsTrailer(trailer, TREE, 'd'.repeat(40), KEY, cached), undefined, 'another tree')
    assert.equal(parseCountsTrailer(trailer.replace(TREE.slice(0, 12), 'e'.repeat(12)), 'e'.repeat(40), OWN, KEY, cached), undefined, 'another parent tree')
    assert.deepEqual(parseCountsTrailer(trailer, TREE, OWN, KEY, cached)?.counts, { files: 1 })
  })

  it('ignores a corrupt, truncated, hand-edited or linked file whole, and writes it again', async () => {
    const memo = VerifiedCounts.open(dir, KEY)
    parseCountsTrailer(trailer, TREE, OWN, KEY, memo)
    memo.save()
    const good = await readFile(file(), 'utf8')
    const sig = /sig=(\S+)/.exec(trailer)?.[1] as string
    // An entry for counts nobody signed, added without the key: the file's MAC no longer holds.
    const forged = `${TREE} ${OWN} ${sig} files=7`
    for (const text of [`${good}${forged}\n`, good.slice(0, good.length - 5), 'garbage\n', '', `${good.split('\n')[0]}\n${forged}\n`, good.replace(/^\S+ \S+ [0-9a-f]{8}/, 'twinsync-verified-counts 1 00000000')]) {
      await writeFile(file(), text)
      const opened = VerifiedCounts.open(dir, KEY)
      assert.equal(opened.has(forged), false, JSON.stringify(text))
      assert.equal(parseCountsTrailer(trailer.replace('files=1', 'files=7'), TREE, OWN, KEY, opened), undefined)
      assert.deepEqual(parseCountsTrailer(trailer, TREE, OWN, KEY, opened)?.counts, { files: 1 }, 'checked with the key')
      opened.save()
      assert.equal(await readFile(file(), 'utf8'), good, 'written again whole')
    }
    // A link in its place is not followed (the file counts as absent) and is replaced, not written through.
    const elsewhere = join(dir, 'elsewhere')
    await writeFile(elsewhere, good)
    await rm(file())
    await symlink(elsewhere, file())
    const linked = VerifiedCounts.open(dir, KEY)
    assert.equal(linked.has(`${TREE} ${OWN} ${sig} files=1`), false)
    parseCountsTrailer(trailer, TREE, OWN, KEY, linked)
    linked.save()
    assert.equal(await readFile(elsewhere, 'utf8'), good)
  })

  it('a twin: history remembers what it verified; a commit shown under a verified id with other counts (git replace), a changed key and a corrupt file are checked and counted as before', async () => {
    const notes = notesProvider('notes')
    let loads = 0
    const load = notes.load.bind(notes)
    notes.load = (args) => {
      loads++
      return load(args)
    }
    const rig = await serviceRig([notes])
    try {
      await mkdir(join(rig.root, 'etc'))
      await writeFile(join(rig.root, 'etc/notes'), 'one\n')
      await (await rig.container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
      await writeFile(join(rig.root, 'etc/notes'), 'two\n')
      await (await rig.container()).resolve(SnapshotWorkflow).take({ init: false, ifChanged: false })
      const history = async () => (await rig.container()).resolve(HistoryService).history({ limit: 10 })
      const cache = join(rig.twinDir, '.git', 'twinsync', 'cache')
      loads = 0
      const first = await history()
      assert.equal(loads, 0)
      const stored = await readFile(join(cache, 'verified-counts-v1'), 'utf8')
      assert.equal(stored.split('\n').length - 2, first.length, 'one entry a snapshot, after the header')
      assert.deepEqual(await history(), first)
      assert.equal(await readFile(join(cache, 'verified-counts-v1'), 'utf8'), stored, 'nothing new: not written again')

      // The newest snapshot's id now shows another commit: its trailer with the counts edited, the signature kept.
      const head = git(rig.twinDir, 'rev-parse', 'HEAD')
      const edited = git(rig.twinDir, 'log', '-1', '--format=%B', head).replace('startup=1', 'startup=7')
      const forged = git(rig.twinDir, 'commit-tree', 'HEAD^{tree}', '-p', 'HEAD~1', '-m', edited)
      git(rig.twinDir, 'replace', head, forged)
      assert.match(git(rig.twinDir, 'log', '-1', '--format=%H %b'), new RegExp(`^${head} [^]*startup=7`))
      loads = 0
      const replaced = await history()
      assert.equal(replaced[0]?.commit, head)
      assert.deepEqual(replaced[0]?.counts, { startup: 1 }, 'counted from its content, not taken from the cache')
      assert.ok(loads > 0)
      git(rig.twinDir, 'replace', '-d', head)

      // A new key: nothing the old one verified is taken (counted from content, and right).
      await writeFile(join(rig.twinDir, '.git', 'twinsync', 'plan-seal.key'), Buffer.alloc(32, 9))
      loads = 0
      assert.deepEqual((await history()).map((e) => e.counts), first.map((e) => e.counts))
      assert.ok(loads > 0, 'the trailers were not believed under the new key')

      // A corrupt file: ignored, history the same.
      await writeFile(join(cache, 'verified-counts-v1'), 'twinsync-verified-counts 1 zz\nnonsense\n')
      assert.deepEqual((await history()).map((e) => e.counted), first.map((e) => e.counted))
    } finally {
      await rig.cleanup()
    }
  })

  it("records the first commit's counts in its message (no provider owns its files): history lists a whole new twin without counting anything", async () => {
    const rig = await serviceRig([notesProvider('notes')])
    try {
      await mkdir(join(rig.root, 'etc'))
      await writeFile(join(rig.root, 'etc/notes'), 'one\n')
      await (await rig.container()).resolve(SnapshotWorkflow).take({ init: true, ifChanged: false })
      const first = git(rig.twinDir, 'rev-list', '--max-parents=0', 'HEAD')
      assert.equal(git(rig.twinDir, 'log', '-1', '--format=%s', first), 'TwinSync init')
      assert.match(git(rig.twinDir, 'log', '-1', '--format=%b', first), new RegExp(`^TwinSync-Counts: ${EMPTY_TREE.slice(0, 12)} twin=\\d+/twin-files sig=[0-9a-f]{32}$`))
      const service = (await rig.container()).resolve(HistoryService)
      const listed = await service.history({ limit: 10 })
      const init = listed.find((e) => e.commit === first)
      assert.equal(init?.kind, 'init')
      const shown = await service.show(first, { diffs: false })
      assert.deepEqual(init?.counts, shown.counts)
      assert.equal(init?.counted, shown.counted)
      assert.equal(existsSync(join(rig.twinDir, '.git', 'twinsync', 'cache', 'history-counts-v2.json')), false, 'nothing was counted')
    } finally {
      await rig.cleanup()
    }
  })
})
