import { strict as assert } from 'node:assert'
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshRootfs, ROOTFS_BUILD_TIMEOUT_MS, run, type Rootfs, type RunResult } from '../bed/index.js'
import { cliSandbox, json, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'

interface Diagnostic {
  code: string
  path?: string
  change?: string
  summary: string
  detail?: string
}
interface Snapshot {
  commit?: string
  skipped?: string
  diagnostics: Diagnostic[]
}
interface Status {
  unread: Diagnostic[]
}
interface Plan {
  changes: Array<{ id: string; resource: string }>
  diagnostics: Diagnostic[]
}

/**
 * The capabilities that let root read what its mode forbids. Without them root is held to a
 * file's mode bits like anyone (its own mode-000 folder: EACCES), and the rest of the machine
 * reads as before: the real kernel's refusal, from a real debootstrap root, through the real
 * CLI — not a fake. (Running as another user would change every file's owner in the test root.)
 */
const DROP = ['setpriv', '--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search', '--']

/**
 * A folder, and a file, under the files provider's include set that cannot be read (EACCES) are
 * unknown, not removed: the snapshot commits the rest and keeps the twin's record of them as the
 * last snapshot had it (FILES_UNREADABLE_KEPT); status is never "in sync" then; a plan changes
 * nothing under them. Before, the walk left the folder's subtree out ("left out of the twin") and
 * the commit recorded every file below it as removed. Once readable, a real removal is recorded.
 */
describe('a folder or file that cannot be read keeps the last snapshot of it (debootstrap root, EACCES from the kernel)', function () {
  this.timeout(ROOTFS_BUILD_TIMEOUT_MS)
  let rootfs: Rootfs
  let cli: CliSandbox
  const flags = () => ['--root', rootfs.dir, '--repo', cli.twinDir]
  const twinsync = (...args: string[]) => cli.twinsync([...args, ...flags()])
  /** The CLI as root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH. */
  const capped = (...args: string[]): Promise<RunResult> =>
    run([...DROP, 'node', TWINSYNC_BIN, ...args, ...flags()], {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: cli.dir, LANG: 'C.UTF-8', TWINSYNC_DATA_DIR: cli.dataDir, TWINSYNC_CONFIG: cli.configFile },
      timeoutMs: 120_000,
    })
  const git = async (...args: string[]) => (await run(['git', '-C', cli.twinDir, ...args])).stdout
  const head = async () => (await git('rev-parse', 'HEAD')).trim()
  const tracked = async (commit: string) => (await git('ls-tree', '-r', '--name-only', commit, 'filesystem/etc/keep', 'filesystem/etc/keep.conf')).trim().split('\n').filter(Boolean)
  const manifestUnder = async (commit: string, prefix: string) => {
    const manifest = JSON.parse(await git('show', `${commit}:system/files/manifest.json`)) as { entries: Array<{ path: string }> }
    return manifest.entries.filter((e) => e.path === prefix || e.path.startsWith(`${prefix}/`))
  }
  const etc = (path: string) => join(rootfs.dir, 'etc', path)

  before(async () => {
    rootfs = await freshRootfs()
    cli = await cliSandbox()
    await mkdir(etc('keep/sub'), { recursive: true })
    await writeFile(etc('keep/a.conf'), 'a = 1\n')
    await writeFile(etc('keep/b.conf'), 'b = 2\n')
    await writeFile(etc('keep/sub/c.conf'), 'c = 3\n')
    await writeFile(etc('keep.conf'), 'kept = yes\n')
    const first = await twinsync('snapshot', '--init', '--json')
    assert.equal(first.code, 0, first.stderr)
  })
  after(async () => {
    await chmod(etc('keep'), 0o755).catch(() => undefined)
    await cli?.cleanup()
    await rootfs?.cleanup()
  })

  it('snapshot commits the rest, keeps the unreadable folder and file as they were, and says so', async () => {
    const before = await head()
    const files = await tracked(before)
    assert.deepEqual(files, ['filesystem/etc/keep.conf', 'filesystem/etc/keep/a.conf', 'filesystem/etc/keep/b.conf', 'filesystem/etc/keep/sub/c.conf'])
    const entries = await manifestUnder(before, '/etc/keep')
    assert.equal(entries.length, 5, JSON.stringify(entries))

    // Something readable changes too: the snapshot still records it.
    await writeFile(etc('other.conf'), 'other\n')
    await chmod(etc('keep'), 0o000)
    await chmod(etc('keep.conf'), 0o000)
    const text = await capped('snapshot')
    assert.equal(text.code, 0, text.stdout + text.stderr)

    const after = await head()
    assert.notEqual(after, before, 'the rest is committed')
    assert.match(await git('show', `${after}:filesystem/etc/other.conf`), /^other/)
    // Nothing below the unreadable folder, nor the unreadable file, is recorded as removed or changed.
    assert.equal((await git('diff', '--name-status', before, after, '--', 'filesystem/etc/keep', 'filesystem/etc/keep.conf')).trim(), '')
    assert.deepEqual(await tracked(after), files)
    const now = await manifestUnder(after, '/etc/keep')
    // The folder's own entry is read live (mode 0000); everything below it is as the last snapshot recorded it.
    assert.deepEqual(now.filter((e) => e.path !== '/etc/keep'), entries.filter((e) => e.path !== '/etc/keep'))
    assert.deepEqual(await manifestUnder(after, '/etc/keep.conf'), await manifestUnder(before, '/etc/keep.conf'))
    const said = text.stdout + text.stderr
    assert.match(said, /warning: files: /)
    assert.match(said, /Could not read \/etc\/keep \(EACCES\); the twin keeps its last snapshot of it/)
    assert.match(said, /Could not read \/etc\/keep\.conf \(EACCES\); the twin keeps its last snapshot of it/)

    // The same, as data: one warning a path, nothing else unreadable on the root.
    const again = await capped('snapshot', '--json')
    assert.equal(again.code, 0, again.stderr)
    const result = json<Snapshot>(again)
    assert.equal(result.commit, undefined, 'nothing else moved')
    assert.deepEqual(result.diagnostics.filter((d) => d.code === 'FILES_UNREADABLE_KEPT').map((d) => d.path).sort(), ['/etc/keep', '/etc/keep.conf'])
    assert.equal(result.diagnostics.some((d) => d.code === 'FILES_UNREADABLE'), false)
  })

  it('status is not "in sync" while they cannot be read, and names them', async () => {
    const text = await capped('status')
    assert.equal(text.code, 1, text.stdout + text.stderr)
    assert.match(text.stdout, /^NOT in sync: 2 parts of the twin not compared/)
    assert.match(text.stdout, /Not compared: Could not read \/etc\/keep \(EACCES\)/)
    const status = json<Status>(await capped('status', '--json'))
    assert.deepEqual(status.unread.map((d) => [d.code, d.path]).sort(), [['FILES_UNREADABLE_KEPT', '/etc/keep'], ['FILES_UNREADABLE_KEPT', '/etc/keep.conf']])
  })

  it('a plan changes nothing under an unreadable folder, even where the twin was edited, and says so', async () => {
    await writeFile(join(cli.twinDir, 'filesystem/etc/keep/a.conf'), 'a = edited\n')
    await rm(join(cli.twinDir, 'filesystem/etc/keep/b.conf'))
    try {
      const planned = await capped('plan', '--json')
      assert.equal(planned.code, 0, planned.stdout + planned.stderr)
      const plan = json<Plan>(planned)
      assert.deepEqual(plan.changes.filter((c) => c.resource.startsWith('/etc/keep')), [], JSON.stringify(plan.changes.map((c) => c.id)))
      const notes = plan.diagnostics.filter((d) => d.code === 'FILES_UNREADABLE_NOT_PLANNED' && d.path === '/etc/keep')
      assert.deepEqual(notes.map((d) => d.change).sort(), ['files:delete:/etc/keep/b.conf', 'files:replace:/etc/keep/a.conf'], JSON.stringify(plan.diagnostics))
      assert.ok(plan.diagnostics.some((d) => d.code === 'FILES_UNREADABLE_KEPT' && d.path === '/etc/keep'))
      const text = await capped('plan')
      assert.match(text.stdout, /^No changes planned: 2 changes the twin asks for are left out/)
      assert.match(text.stdout + text.stderr, /Replace \/etc\/keep\/a\.conf.*: not planned, \/etc\/keep could not be read.*\[FILES_UNREADABLE_NOT_PLANNED\]/)
    } finally {
      await git('checkout', '--', 'filesystem/etc/keep')
    }
    // The twin as the last snapshot: the plan never says the machine matches over what it could not read.
    const plain = await capped('plan')
    assert.equal(plain.code, 0, plain.stdout + plain.stderr)
    assert.match(plain.stdout, /^No changes planned: 2 paths of the machine could not be read \(below\); elsewhere the machine/)
    assert.doesNotMatch(plain.stdout, /No changes: the machine/)
    assert.match(plain.stdout + plain.stderr, /Could not read \/etc\/keep \(EACCES\)/)
  })

  it('adopting the files domain takes what moved and keeps what could not be read', async () => {
    await writeFile(etc('other.conf'), 'other, changed\n')
    const before = await head()
    const adopted = await capped('adopt', 'files', '--json')
    assert.equal(adopted.code, 0, adopted.stdout + adopted.stderr)
    const after = await head()
    assert.notEqual(after, before)
    assert.equal((await git('diff', '--name-status', before, after, '--', 'filesystem')).trim(), 'M\tfilesystem/etc/other.conf')
    assert.deepEqual(await tracked(after), await tracked(before))
  })

  it('readable again, the next snapshot records the real state: a file removed meanwhile is removed', async () => {
    await chmod(etc('keep'), 0o755)
    await chmod(etc('keep.conf'), 0o644)
    await rm(etc('keep/b.conf'))
    const before = await head()
    const result = json<Snapshot>(await twinsync('snapshot', '--json'))
    assert.ok(result.commit, JSON.stringify(result))
    assert.equal(result.diagnostics.some((d) => d.code.includes('UNREADABLE')), false)
    assert.equal((await git('diff', '--name-status', before, result.commit, '--', 'filesystem/etc/keep')).trim(), 'D\tfilesystem/etc/keep/b.conf')
    assert.deepEqual((await manifestUnder(result.commit, '/etc/keep')).map((e) => e.path), ['/etc/keep', '/etc/keep/a.conf', '/etc/keep/sub', '/etc/keep/sub/c.conf'])
  })
})
