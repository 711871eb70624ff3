// entriesOf (intent-git.ts): the files of a tree at or under the paths asked, by `git ls-tree`
// with the paths as arguments (a few) or by one listing of the whole tree matched in Node (more).
// Session 38: a pull of 131,000 new files outside the include set made every later snapshot fail
// with git's "spawn E2BIG" (each pending path an argument); below, the same with 800 long paths.
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { entriesOf } from '../src/intent/intent-git.js'

describe('entriesOf: the files of a tree at or under the paths asked', function () {
  this.timeout(60_000)
  let dir: string
  let tree: string
  /** 250 bytes, a folder name as long as most file systems take. */
  const long = 'a'.repeat(250)
  /** 800 paths of 2,800 bytes: 2.2 MB, more than the kernel takes as one command's arguments (2 MiB). */
  const deep = Array.from({ length: 800 }, (_, i) => `filesystem/opt/${Array.from({ length: 11 }, (_, k) => `${long}${k}`).join('/')}/f${i}`)
  const shallow = ['filesystem/etc/a/bc/y', 'filesystem/etc/a/b2', 'filesystem/etc/a/b/x/z', 'filesystem/etc/exec', 'filesystem/etc/link', 'system/os.json']

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-entries-of-'))
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', dir])
    // The tree made by git's plumbing: 807 files in one fast-import, none written to disk.
    const files = [...shallow, ...deep].map((p) => `M ${p === 'filesystem/etc/exec' ? '100755' : p === 'filesystem/etc/link' ? '120000' : '100644'} :1 ${p}\n`)
    const stream = `blob\nmark :1\ndata 2\nx\ncommit refs/heads/main\ncommitter t <t@t> 1700000000 +0000\ndata 1\nt\n${files.join('')}\n`
    execFileSync('git', ['-C', dir, 'fast-import', '--quiet'], { input: stream })
    tree = execFileSync('git', ['-C', dir, 'rev-parse', 'main^{tree}'], { encoding: 'utf8' }).trim()
  })
  after(() => rm(dir, { recursive: true, force: true }))

  const keys = (m: Map<string, { mode: string; blob: string }>) => [...m.keys()].sort()

  it('800 paths of 2,800 bytes (more than one command line holds): every one found, no E2BIG', async () => {
    const found = await entriesOf(dir, tree, deep)
    assert.equal(found.size, 800)
    assert.deepEqual(keys(found), [...deep].sort())
    assert.equal(found.get(deep[0] as string)?.mode, '100644')
  })

  it('a few paths or many: the same files, as git matches a path (the file itself, or everything under a folder; never a longer name beside it)', async () => {
    const asks = [
      ['filesystem/etc/a/b'], // a folder: x/z under it; not bc/ nor b2 beside it
      ['filesystem/etc/a/b/'], // a folder with its slash
      ['filesystem/etc/a/b2/'], // a file with a slash: nothing
      ['filesystem/etc/a/b2', 'filesystem/etc/exec', 'filesystem/etc/link', 'filesystem/etc/missing'],
      ['filesystem/etc'],
      ['filesystem/et'], // a prefix of a name: nothing
      [deep[5] as string, 'filesystem/opt/' + long + '0'], // a file, and the deep folder it is in
    ]
    // Padded past the argument cut (64 paths) with paths that are not there, so the same ask goes both ways.
    const padding = Array.from({ length: 100 }, (_, i) => `nothing/${i}`)
    for (const ask of asks) {
      const few = await entriesOf(dir, tree, ask)
      const many = await entriesOf(dir, tree, [...ask, ...padding])
      assert.deepEqual([...many.entries()].sort(), [...few.entries()].sort(), `asked ${ask.join(', ').slice(0, 200)}`)
    }
    assert.deepEqual(keys(await entriesOf(dir, tree, ['filesystem/etc/a/b', ...padding])), ['filesystem/etc/a/b/x/z'])
    assert.deepEqual(keys(await entriesOf(dir, tree, ['filesystem/etc/a/b2/', ...padding])), [])
    assert.deepEqual(keys(await entriesOf(dir, tree, ['filesystem/et', ...padding])), [])
    const modes = await entriesOf(dir, tree, ['filesystem/etc/exec', 'filesystem/etc/link', ...padding])
    assert.deepEqual([modes.get('filesystem/etc/exec')?.mode, modes.get('filesystem/etc/link')?.mode], ['100755', '120000'])
    assert.equal((await entriesOf(dir, tree, ['filesystem/opt', ...padding])).size, 800)
  })
})
