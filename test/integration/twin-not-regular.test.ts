// A FIFO, socket or device node put by hand where the twin holds a document (git cannot carry
// one): every command that reads the working twin refuses it with TWIN_NOT_REGULAR naming the
// path and an `rm` to run, exit 2, and changes nothing (session 35; before, `status` and
// `snapshot` failed with an uncoded GIT_FAILED from `git add` and `plan` planned deleting the
// machine's file). Through the real binary on a small hand-made root, and the TUI's services.
import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { lstat, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isTwinSyncError } from '@twinsync/sdk'
import { createTuiServices } from '../../core/src/tui/services.js'
import { createContainer } from '../../core/src/container.js'
import { smallCliRoot, type CliSandbox } from '../support/cli.js'
import { git, noPlugins } from '../support/in-process-twin.js'
import { quiet } from '../support/tui-services.js'

/** Every entry of a folder with its type and content hash, `.git` left out; a special file is named, never opened. */
async function tree(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = []
  for (const name of (await readdir(join(dir, rel))).sort()) {
    if (rel === '' && name === '.git') continue
    const path = join(dir, rel, name)
    const s = await lstat(path)
    const what = s.isDirectory() ? 'dir' : s.isFile() ? createHash('sha256').update(await readFile(path)).digest('hex') : s.isSymbolicLink() ? 'link' : `special ${s.mode.toString(8)}`
    out.push(`${rel}/${name} ${s.mode.toString(8)} ${what}`)
    if (s.isDirectory()) out.push(...(await tree(dir, join(rel, name))))
  }
  return out
}

const KINDS: ReadonlyArray<{ kind: string; words: RegExp; make: (path: string) => void }> = [
  { kind: 'FIFO', words: /a FIFO \(named pipe\)/, make: (path) => execFileSync('mkfifo', [path]) },
  // /dev/null's numbers: were it ever opened, nothing would happen.
  { kind: 'character device', words: /a character device/, make: (path) => execFileSync('mknod', [path, 'c', '1', '3']) },
  {
    kind: 'socket',
    words: /a socket/,
    make: (path) => execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]),
  },
]

describe('a FIFO, socket or device at a twin document path: TWIN_NOT_REGULAR everywhere, nothing changed', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])

  before(async () => {
    ;({ cli, root } = await smallCliRoot())
  })
  after(() => cli.cleanup())

  for (const { kind, words, make } of KINDS) {
    it(`a ${kind} at filesystem/etc/motd: status, plan, snapshot, apply, adopt, discard and the panel's services refuse it`, async () => {
      const doc = join(cli.twinDir, 'filesystem/etc/motd')
      // A person's edit elsewhere, which must stay pending through every refusal.
      await writeFile(join(cli.twinDir, 'filesystem/etc/hostname'), 'edited-by-a-person\n')
      await rm(doc)
      make(doc)
      const twinBefore = await tree(cli.twinDir)
      const rootBefore = await tree(root)
      const refsBefore = git(cli.twinDir, ['for-each-ref', '--format=%(refname) %(objectname)']) + git(cli.twinDir, ['rev-parse', 'HEAD'])

      for (const args of [['status'], ['plan'], ['snapshot'], ['apply', '--yes', '--accept-high-risk'], ['adopt', 'files'], ['discard', 'files:replace:/etc/hostname']]) {
        const r = await twinsync(...args)
        const said = `${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`
        assert.equal(r.code, 2, said)
        assert.match(r.stderr, /\[TWIN_NOT_REGULAR\]/, said)
        assert.match(r.stderr, /filesystem\/etc\/motd in the twin is /, said)
        assert.match(r.stderr, words, said)
        assert.match(r.stderr, /Next step: Remove it \(`rm \S*\/twin\/filesystem\/etc\/motd`\)/, said)
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
      }
      const services = await createTuiServices(() => createContainer({ root, repo: cli.twinDir, configPath: cli.configFile, logger: quiet, oclif: noPlugins }), { configPath: cli.configFile })
      const signal = new AbortController().signal
      for (const [name, call] of [
        ['drift', () => services.drift(signal)],
        ['plan', () => services.plan({ signal })],
        ['snapshot', () => services.snapshot({ signal, onProgress: () => undefined })],
        ['adopt', () => services.decide('adopt', ['files'])],
      ] as const) {
        await assert.rejects(call(), (e: unknown) => isTwinSyncError(e) && e.code === 'TWIN_NOT_REGULAR' && (e.details as { path?: string }).path === 'filesystem/etc/motd', `the panel's ${name}`)
      }

      assert.deepEqual(await tree(cli.twinDir), twinBefore, 'the working twin is as it was')
      assert.deepEqual(await tree(root), rootBefore, 'the machine is as it was')
      assert.equal(git(cli.twinDir, ['for-each-ref', '--format=%(refname) %(objectname)']) + git(cli.twinDir, ['rev-parse', 'HEAD']), refsBefore, 'no commit, no ref moved')

      // The next step, then the edit is still there and pending; the document comes back from the twin's commit.
      await rm(doc)
      git(cli.twinDir, ['checkout', '--', 'filesystem/etc/motd'])
      const status = await twinsync('status', '--json')
      assert.equal(status.code, 0, status.stdout + status.stderr)
      assert.match(status.stdout, /files:replace:\/etc\/hostname/)
      assert.equal(await readFile(join(cli.twinDir, 'filesystem/etc/hostname'), 'utf8'), 'edited-by-a-person\n')
      assert.equal(await readFile(doc, 'utf8'), 'Welcome\n')
    })
  }

  it('a FIFO the twin never held (not a document path) is left alone, as git leaves it', async () => {
    const fifo = join(cli.twinDir, 'filesystem/etc/never-held')
    execFileSync('mkfifo', [fifo])
    try {
      for (const args of [['status'], ['plan']]) {
        const r = await twinsync(...args)
        assert.ok(r.code === 0 || r.code === 1, `${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`)
        assert.doesNotMatch(r.stdout + r.stderr, /never-held/)
      }
    } finally {
      await rm(fifo)
    }
  })
})
