import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lsTreeEntries } from '../src/twin/git.js'

// The one parser of `git ls-tree -z` (session 33: five copies before, in the snapshot's move, the
// tree reader, intent, forget and a pulled tree's checks), on real git output.
describe('lsTreeEntries', () => {
  it("reads git's own output, with and without -l: modes, types, ids, sizes, and names with tabs, spaces and newlines", () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinsync-ls-tree-'))
    try {
      execFileSync('git', ['init', '-q', dir])
      const names = ['plain', 'with space', 'tab\there', 'new\nline', 'folder/deep/é.conf']
      for (const name of names) {
        mkdirSync(join(dir, name, '..'), { recursive: true })
        writeFileSync(join(dir, name), `${name}\n`)
      }
      symlinkSync('plain', join(dir, 'link'))
      execFileSync('git', ['-C', dir, 'add', '.'])
      execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'x'])
      const blob = (text: string) => execFileSync('git', ['-C', dir, 'hash-object', '--stdin'], { input: text, encoding: 'utf8' }).trim()
      const ls = (...args: string[]) => [...lsTreeEntries(execFileSync('git', ['-C', dir, 'ls-tree', '-z', ...args, 'HEAD'], { encoding: 'utf8' }))]
      const recursive = ls('-r', '-l')
      assert.deepEqual(
        recursive.map((e) => [e.path, e.mode, e.type, e.sha, e.size]).sort(),
        [...names.map((n) => [n, '100644', 'blob', blob(`${n}\n`), String(Buffer.byteLength(`${n}\n`))]), ['link', '120000', 'blob', blob('plain'), '5']].sort(),
      )
      assert.deepEqual(ls('-r').map((e) => e.size), recursive.map(() => undefined))
      const top = ls('-l')
      assert.deepEqual(top.filter((e) => e.type === 'tree').map((e) => [e.path, e.mode, e.size]), [['folder', '040000', '-']])
      assert.deepEqual([...lsTreeEntries('')], [])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
