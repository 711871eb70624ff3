// A pull of more twin files than one git command line can name (session 39), through the real
// binary and a real bare mirror, on a small hand-made root. Session 38 pulled a mirror with
// 131,000 new files outside the include set: they stay pending (never applied), and every later
// snapshot (and pull) named each of them to `git ls-tree` as an argument and failed with
// "GIT_FAILED git ls-tree failed: spawn E2BIG". Here 800 files with 2,800-byte paths (2.2 MB of
// names, over the kernel's 2 MiB for a command's arguments) make the same failure in seconds; the
// mirror's commits are made with `git fast-import`, no file written.
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { smallCliRoot, type CliSandbox } from '../support/cli.js'
import { git } from '../support/in-process-twin.js'

describe('a pull of more twin files than a git command line holds', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  let mirror: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])
  const long = 'a'.repeat(250)
  const path = (i: number) => `filesystem/opt/${Array.from({ length: 11 }, (_, k) => `${long}${k}`).join('/')}/f${i}`

  /** A commit on the mirror's main adding files `from`..`to`-1 (one blob), made by fast-import. */
  function mirrorAdds(from: number, to: number): void {
    const files = Array.from({ length: to - from }, (_, i) => `M 100644 :1 ${path(from + i)}\n`).join('')
    const stream = `blob\nmark :1\ndata 8\npulled!\ncommit refs/heads/main\ncommitter m <m@m> 1700000000 +0000\ndata 10\nmany files\nfrom refs/heads/main^0\n${files}\n`
    execFileSync('git', ['-C', mirror, 'fast-import', '--quiet'], { input: stream })
  }

  before(async () => {
    ;({ cli, root } = await smallCliRoot())
    mirror = join(cli.dir, 'mirror.git')
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', mirror])
    const set = await twinsync('remote', 'set', mirror)
    assert.equal(set.code, 0, set.stderr)
    git(cli.twinDir, ['push', '--quiet', mirror, 'HEAD:refs/heads/main'])
  })
  after(() => cli.cleanup())

  it('800 files outside the include set: pulled, kept pending by the next snapshot, and a later pull keeps them too', async () => {
    mirrorAdds(0, 800)
    const pulled = await twinsync('pull')
    const said = (r: { code: number | null; stdout: string; stderr: string }) => `exited ${r.code}:\n${r.stdout.slice(0, 1500)}\n${r.stderr.slice(-1500)}`
    assert.equal(pulled.code, 0, said(pulled))
    assert.match(pulled.stdout, /^Pulled 1 snapshot\(s\)/, said(pulled))
    assert.match(pulled.stdout, /No changes planned: 800 changes the twin asks for are left out/, said(pulled))

    // Before: "error [GIT_FAILED] git ls-tree failed in …: spawn E2BIG", exit 2.
    const snapshot = await twinsync('snapshot')
    assert.equal(snapshot.code, 0, said(snapshot))
    assert.match(snapshot.stdout, /Pending intent kept on top of it \(800 twin files: filesystem\/opt\//, said(snapshot))
    assert.equal(git(cli.twinDir, ['ls-tree', '-r', '--name-only', 'refs/twinsync/intended', '--', 'filesystem/opt']).split('\n').filter(Boolean).length, 800)

    // The 800 are set aside while the pull moves the twin, then put back on top of it.
    mirrorAdds(800, 801)
    const again = await twinsync('pull')
    assert.equal(again.code, 0, said(again))
    assert.match(again.stdout, /^Pulled 1 snapshot\(s\)/, said(again))
    assert.match(again.stdout, /801 changes the twin asks for are left out/, said(again))
    // The snapshot pushed the machine's state, so the mirror's new commit holds the one new file:
    // it is committed, the 800 are the person's pending edits in the working twin again.
    const files = (...args: string[]) => git(cli.twinDir, ['ls-files', ...args, '--', 'filesystem/opt']).split('\n').filter(Boolean)
    assert.deepEqual(files(), [path(800)])
    assert.equal(files('--others').length, 800)
  })
})
