// The twin at one commit (GitTreeReader: `plan --from`, history, a pulled commit's checks), read
// through one `git cat-file --batch`. Session 39: each file was asked as `<commit>:<path>`, and git
// walked the trees and searched the folder's entries one by one on every read, so the reads of
// one folder grew with its size squared: `plan --from` a branch of 140,000 twin files outside the
// include set took 24 s of CPU (12 of them git's), 20,000 files in one folder 22.6 s of git's CPU.
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GitTreeReader, LazyBatch } from '../src/twin/git-tree-reader.js'
import { childCpuMs } from '../../test/support/linear-time.js'

describe('GitTreeReader', function () {
  this.timeout(120_000)
  let dir: string
  let commit: string
  const count = 8000
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'twinsync-tree-reader-'))
    execFileSync('git', ['init', '--quiet', dir])
    // One folder of 8,000 files, each its own content, and a symlink: made by git's plumbing, nothing written.
    const blobs = Array.from({ length: count }, (_, i) => `blob\nmark :${i + 1}\ndata ${`file ${i}\n`.length}\nfile ${i}\n`).join('')
    const files = Array.from({ length: count }, (_, i) => `M 100644 :${i + 1} filesystem/etc/many/f${i}\n`).join('')
    const stream = `${blobs}commit refs/heads/main\ncommitter t <t@t> 1700000000 +0000\ndata 1\nt\n${files}M 120000 inline filesystem/etc/link\ndata 4\nmany\n\n`
    execFileSync('git', ['-C', dir, 'fast-import', '--quiet'], { input: stream, maxBuffer: 1 << 28 })
    commit = execFileSync('git', ['-C', dir, 'rev-parse', 'main'], { encoding: 'utf8' }).trim()
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it("reads 8,000 files of one folder, each its own bytes, with git's work linear in them (at most 1 s of git's CPU: 20 ms; asked by path, 10 s)", async () => {
    const batch = new LazyBatch(dir)
    const reader = new GitTreeReader(dir, commit, batch)
    try {
      const paths = (await reader.list('filesystem/etc/many/')).sort((a, b) => Number(a.slice(a.lastIndexOf('f') + 1)) - Number(b.slice(b.lastIndexOf('f') + 1)))
      assert.equal(paths.length, count)
      const texts = await Promise.all(paths.map((p) => reader.readText(p)))
      texts.forEach((text, i) => assert.equal(text, `file ${i}\n`))
      assert.equal(await reader.read('filesystem/etc/none'), undefined)
      await assert.rejects(reader.read('filesystem/etc/link'), /symlink/i)
      // Asked while git runs: a child that has exited is not counted.
      const git = childCpuMs(/cat-file --batch/)
      assert.ok(git <= 1000, `git cat-file used ${git} ms of CPU for ${count} files`)
    } finally {
      batch.close()
    }
  })
})
