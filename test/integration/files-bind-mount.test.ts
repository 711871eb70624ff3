// Review K1 of session 49 at the collect level (plugins/files/src/stat-cache.ts: StatCache.carryRun,
// `carriedAgain`, RecordIndex.takeRun; plugins/files/src/collect.ts): a file bind-mounted onto
// another name of the same file system (one inode, nlink 1, two names), through the real binary.
// Each snapshot runs in a private mount namespace of its own (`unshare -m --propagation private`:
// the mounts are the snapshot's, gone when it exits; the tree is a temp folder, never the host's
// /etc), on a synthetic root just above SPLIT_FROM (files-manifest-split.test.ts's), so a snapshot
// with one file changed elsewhere keeps the other parts and carries their stat cache records.
//
// The case the carry meets: the name walked first (B) has no record of its own in the stat cache
// (its record was in the cache's log, lost), and the record at the cursor is its other name's (A,
// the next file in the cache's order, a path as long): the numbers are the same, so B takes A's
// record (RecordIndex.takeRun compares no path). What a kept part's carried records decide is
// whether the part may be kept (every record says what its file is) and how many of its files
// HEAD mirrors (checked by the core against HEAD); the documents kept are HEAD's, made when B was
// described under its own name. Session 51 found the twin right either way (with the check
// disabled too: see docs/architecture.md, "Session 51, the bind mount"); what the check changes is
// the stat cache, and that is what the first test's last assertion reads.
//
// Session 51: 12 snapshots of about 4,150 entries; 2-3 minutes of wall time alone under a load of 20-50.
import assert from 'node:assert/strict'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { partOf, partPath, SPLIT_FROM } from '../../plugins/files/src/manifest.js'
import { requireRoot, requireTools, run } from '../bed/index.js'
import { cliSandbox, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'
import { FILES_ONLY, git } from '../support/in-process-twin.js'

/** Folders of 100 files under /etc/many: with the rest of the root, above SPLIT_FROM. */
const FOLDERS = Math.floor(SPLIT_FROM / 100) + 1
/** The file changed for a snapshot that keeps every other part (its part: none of the tests' names'). */
const ELSEWHERE = '/etc/many/d0/f0.conf'

/** What a stat cache record holds of a file: its stat data and content kind (stat-cache.ts's format). */
interface CacheRecord {
  size: number
  ino: number
  kind: number
  text: string | undefined
}

/**
 * The records of the twin's stat cache by path, its log's over the cache's (the paths the log names
 * gone taken out): stat-cache.ts's format, read here so the test does not trust the code it tests.
 */
async function statCache(twin: string): Promise<Map<string, CacheRecord>> {
  const folder = join(twin, '.git/twinsync/cache/files')
  const records = new Map<string, CacheRecord>()
  const read = (bytes: Buffer): { removed: string[] } => {
    let p = bytes.indexOf(10) + 1
    const headerLength = bytes.readUInt32LE(p)
    const header = JSON.parse(bytes.toString('utf8', p + 4, p + 4 + headerLength)) as { count: number; removed?: string[] }
    p += 4 + headerLength
    for (let i = 0; i < header.count; i++) {
      const length = bytes.readUInt32LE(p)
      const pathLength = bytes.readUInt32LE(p + 4)
      const path = bytes.toString('utf8', p + 8, p + 8 + pathLength)
      const at = p + 8 + pathLength
      // Size, mtime, ctime, inode, device (float64 each), the kind, then the fields; the text is the last.
      let q = at + 41
      let text: string | undefined
      for (let field = 0; field < 8; field++) {
        const size = bytes.readUInt32LE(q)
        q += 4
        if (size === 0xffffffff) continue
        if (field === 7) text = bytes.toString('utf8', q, q + size)
        q += size
      }
      records.set(path, { size: bytes.readDoubleLE(at), ino: bytes.readDoubleLE(at + 24), kind: bytes[at + 40] as number, text })
      p += 4 + length
    }
    return { removed: header.removed ?? [] }
  }
  read(await readFile(join(folder, 'stat-cache')))
  const log = await readFile(join(folder, 'stat-cache-log')).catch(() => undefined)
  if (log !== undefined) for (const path of read(log).removed) records.delete(path)
  return records
}

/** The twin's manifest entry of a path (in its part: the manifest is split). */
function entryOf(twin: string, path: string): { size?: number; content?: string } | undefined {
  const part = JSON.parse(git(twin, ['show', `HEAD:${partPath(partOf(path))}`])) as { entries: Array<{ path: string; size?: number; content?: string }> }
  return part.entries.find((e) => e.path === path)
}

describe('files collect over a bind-mounted file: one inode under two names (review K1 of session 49), each snapshot in a private mount namespace', function () {
  this.timeout(600_000)
  let cli: CliSandbox
  let root: string
  /** `snapshot --root` in a mount namespace of its own with these mounts (each a command run first): its output. */
  const snapshot = async (mounts: string[]): Promise<string> => {
    const script = `${mounts.map((m) => `${m} || exit 90; `).join('')}exec node "$@"`
    const r = await run(['/usr/bin/unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sh', TWINSYNC_BIN, 'snapshot', '--root', root, '--repo', cli.twinDir], { env: cli.env() })
    assert.equal(r.code, 0, `snapshot exited ${r.code}:\n${r.stdout}\n${r.stderr}`)
    return r.stdout
  }
  const bind = (from: string, onto: string) => `mount --bind ${join(root, from)} ${join(root, onto)}`
  /** The stat cache's log lost (a crash between its writes, a cache folder cleaned): the cache as last written whole stays. */
  const loseLog = () => rm(join(cli.twinDir, '.git/twinsync/cache/files/stat-cache-log'))
  const head = (path: string) => git(cli.twinDir, ['show', `HEAD:filesystem${path}`])
  const change = (path: string, text: string) => writeFile(join(root, path), text)

  before(() => {
    requireRoot('bind mounts and a tmpfs in a private mount namespace')
    requireTools('unshare', 'mount')
  })
  /** A root above SPLIT_FROM, plus `files`, and its twin (`snapshot --init`, then a snapshot that writes the stat cache whole with every blob id). */
  const rootWith = async (files: Readonly<{ [path: string]: string }>): Promise<void> => {
    cli = await cliSandbox()
    root = join(cli.dir, 'root')
    await mkdir(join(root, 'etc'), { recursive: true })
    await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n')
    await writeFile(join(root, 'etc/group'), 'root:x:0:\n')
    await writeFile(join(root, 'etc/hostname'), 'target\n')
    await writeFile(join(root, 'etc/os-release'), 'ID=debian\nVERSION_ID="13"\nPRETTY_NAME="Debian GNU/Linux 13"\n')
    for (let d = 0; d < FOLDERS; d++) {
      await mkdir(join(root, `etc/many/d${d}`), { recursive: true })
      await Promise.all(Array.from({ length: 100 }, (_, i) => writeFile(join(root, `etc/many/d${d}/f${d * 100 + i}.conf`), `value = ${d * 100 + i}\n`)))
    }
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true })
      await writeFile(join(root, path), text)
    }
    await writeFile(cli.configFile, FILES_ONLY)
    const first = await cli.twinsync(['snapshot', '--init', '--root', root, '--repo', cli.twinDir])
    assert.equal(first.code, 0, first.stdout + first.stderr)
    await snapshot([])
  }
  afterEach(async () => {
    await cli?.cleanup()
  })

  it('the name walked first with no record of its own takes its other name\'s record at the cursor; the other name\'s turn finds it carried, the kept parts are described, and the twin and the stat cache hold the file under each name (fails with the carriedAgain check disabled)', async () => {
    // A = /etc/k1/c.conf; B = /etc/k1/b.conf, made after the cache was written whole (its record only ever in a log).
    const A = '/etc/k1/c.conf'
    const B = '/etc/k1/b.conf'
    await rootWith({ '/etc/k1/a.conf': 'a\n', [A]: 'A content\n', '/etc/k1/d.conf': 'd\n' })
    assert.notEqual(partOf(B), partOf(ELSEWHERE))
    await change(B, 'B before\n')
    assert.match(await snapshot([]), /b\.conf added/)
    assert.equal(head(B), 'B before\n')
    // A guard (the order the review gave: the log lost, then A bind-mounted onto B, nothing else
    // changed): B's stat data moved, so its part is described, B looked up by its path.
    await loseLog()
    assert.match(await snapshot([bind(A, B)]), /b\.conf changed/)
    assert.equal(head(B), 'A content\n')
    assert.equal(entryOf(cli.twinDir, B)?.size, 'A content\n'.length)
    // B's record is in the log again (A's inode's stat data under B's name); lost once more. Then a
    // file changed in another part: B's part is kept, its records carried, and at B's turn the
    // record at the cursor is A's, with B's numbers.
    await loseLog()
    await change(ELSEWHERE, 'changed\n')
    assert.match(await snapshot([bind(A, B)]), /f0\.conf changed/)
    assert.deepEqual(git(cli.twinDir, ['diff', '--name-only', 'HEAD~1', 'HEAD']).split('\n').filter(Boolean), [`filesystem${ELSEWHERE}`, partPath(partOf(ELSEWHERE))].sort())
    assert.equal(head(B), 'A content\n')
    assert.equal(head(A), 'A content\n')
    assert.equal(entryOf(cli.twinDir, B)?.size, 'A content\n'.length)
    assert.equal(git(cli.twinDir, ['status', '--porcelain', '--untracked-files=all']), '')
    // The stat cache: each name its own record, with the one inode's stat data. With the check
    // disabled the kept parts are kept, B is never read, and A's record (carried at B's turn) is
    // the only one: B has none.
    const cache = await statCache(cli.twinDir)
    const a = cache.get(A)
    const b = cache.get(B)
    assert.ok(a !== undefined && a.text === 'A content\n', `${A}'s record: ${JSON.stringify(a)}`)
    assert.ok(b !== undefined, `${B} has a record of its own (the kept parts described when its other name found its record carried)`)
    assert.deepEqual(b, a)
    // Without the bind mount: B is its own file again, and the twin says so.
    assert.match(await snapshot([]), /b\.conf changed/)
    assert.equal(head(B), 'B before\n')
    assert.equal(head(A), 'A content\n')
  })

  it('the other name not walked at all (its folder over-mounted by an empty tmpfs): the name walked takes its record, nothing finds it out, and the twin is still right: the kept part is HEAD\'s, made when that name was described under its own path (a guard: what session 51 found)', async () => {
    // A = /etc/k3/a.conf, the first file after B in the cache's order; B = /etc/k2/z.conf, the last of its folder.
    const A = '/etc/k3/a.conf'
    const B = '/etc/k2/z.conf'
    await rootWith({ '/etc/k2/a.conf': 'a\n', [A]: 'A content\n', '/etc/k3/b.conf': 'b\n' })
    assert.equal(new Set([partOf(B), partOf(A), partOf(ELSEWHERE)]).size, 3)
    await change(B, 'B before\n')
    assert.match(await snapshot([]), /z\.conf added/)
    // A bind-mounted onto B, then A's folder over-mounted: B described (its stat data moved), A's
    // folder's files gone from the walk and from the twin.
    const mounts = [bind(A, B), `mount -t tmpfs twinsync-test ${join(root, 'etc/k3')}`]
    const out = await snapshot(mounts)
    assert.match(out, /z\.conf changed/)
    assert.equal(head(B), 'A content\n')
    assert.throws(() => head(A), 'A is not walked: gone from the twin')
    // The log lost (B's record with it), a file changed elsewhere: B's part kept, B carried with A's record at the cursor.
    await loseLog()
    await change(ELSEWHERE, 'changed\n')
    assert.match(await snapshot(mounts), /f0\.conf changed/)
    assert.ok(!git(cli.twinDir, ['diff', '--name-only', 'HEAD~1', 'HEAD']).includes('k2'), "B's part kept as HEAD holds it")
    assert.equal(head(B), 'A content\n')
    assert.equal(entryOf(cli.twinDir, B)?.size, 'A content\n'.length)
    assert.equal(git(cli.twinDir, ['status', '--porcelain', '--untracked-files=all']), '')
    // What the stat cache holds: A's own record (carried at B's turn, kept though A was not walked)
    // and none of B's; A's folder's other file's record dropped as gone. (Which shows the carry ran
    // as said: B described would have a record, and A's record kept other than carried would be gone.)
    const cache = await statCache(cli.twinDir)
    assert.equal(cache.get(A)?.text, 'A content\n')
    assert.equal(cache.get(B), undefined)
    assert.equal(cache.get('/etc/k3/b.conf'), undefined)
    // A's folder back (the bind mount still on B): A described under its own path, its record its own.
    assert.match(await snapshot([bind(A, B)]), /a\.conf added/)
    assert.equal(head(A), 'A content\n')
    assert.equal(head('/etc/k3/b.conf'), 'b\n')
    assert.equal(head(B), 'A content\n')
    // No mounts: B is its own file again.
    assert.match(await snapshot([]), /z\.conf changed/)
    assert.equal(head(B), 'B before\n')
  })
})
