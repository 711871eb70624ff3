import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { createTestContext } from '@twinsync/sdk/conformance'
import { knownBlob, MemoryCache, PathClaims, type HostPort, type ProviderCache, type ProviderContext, type TwinDocument } from '@twinsync/sdk'
import { FilesProvider } from '../src/index.js'
import { StatCache } from '../src/stat-cache.js'
import { KEPT_BINARY, ROOT_ONLY_UNCHECKED } from '../src/secrets.js'
import { FileCache } from '../../../core/src/collect/file-cache.js'
import { debianLikeRoot, md5, type TargetRoot } from './target-root.js'

/** The context's host, wrapped so every readFile is counted (what the stat cache must save). */
function countingReads(ctx: ProviderContext): { ctx: ProviderContext; reads: string[] } {
  const reads: string[] = []
  const host = ctx.host
  const counted = new Proxy(host, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      if (key === 'readFile' || key === 'readTextIfExists') {
        return (path: string) => {
          reads.push(path)
          return (value as HostPort['readFile']).call(target, path)
        }
      }
      return (value as (...args: unknown[]) => unknown).bind(target)
    },
  })
  return { ctx: { ...ctx, host: counted }, reads }
}

const sha256Of = (s: string) => createHash('sha256').update(s).digest('hex')
const text = (docs: readonly TwinDocument[]) => docs.map((d) => [d.path, String(d.content), d.executable === true])

describe('files provider: stat cache', () => {
  let root: TargetRoot
  before(() => {
    root = debianLikeRoot()
  })
  after(() => root.remove())

  it('does not read unchanged files again on a second collect, and gives identical documents', async () => {
    // Files changed in the last moments are not trusted (racily clean); age the tree first.
    await new Promise((resolve) => setTimeout(resolve, 150))
    const provider = new FilesProvider()
    const { ctx, reads } = countingReads(createTestContext(root.dir))
    const first = await provider.collect({ ctx })
    const firstReads = reads.splice(0).filter((p) => !p.startsWith('/var/lib/dpkg/'))
    const second = await provider.collect({ ctx })
    const secondReads = reads.splice(0)

    assert.deepEqual(text(second.documents), text(first.documents))
    assert.deepEqual(second.state, first.state)
    assert.ok(firstReads.includes('/etc/hosts') && firstReads.includes('/etc/app/app.conf'))
    // Only the account tables are read again (every run needs the target's names).
    assert.deepEqual(secondReads.sort(), ['/etc/group', '/etc/passwd'])
  })

  it('reads a file again when it changed, and shows the change', async () => {
    await new Promise((resolve) => setTimeout(resolve, 150))
    const provider = new FilesProvider()
    const { ctx, reads } = countingReads(createTestContext(root.dir))
    await provider.collect({ ctx })
    root.file('/etc/hosts', '127.0.0.1 localhost\n10.0.0.1 db\n')
    reads.splice(0)
    const after = await provider.collect({ ctx })
    assert.ok(reads.includes('/etc/hosts'))
    assert.equal(String(after.documents.find((d) => d.path === 'filesystem/etc/hosts')?.content), '127.0.0.1 localhost\n10.0.0.1 db\n')
    const hosts = after.state.entries.find((e) => e.path === '/etc/hosts')
    assert.equal(hosts?.origin, 'package-modified', 'the origin follows the new content')
  })

  it('sees a rewrite with the same size and the same mtime (to the nanosecond): the ctime moved', async () => {
    const provider = new FilesProvider()
    const { ctx } = countingReads(createTestContext(root.dir))
    root.file('/etc/same.conf', 'level = 1\n')
    // A whole second, so that putting it back below is exact.
    const second = Math.floor(Date.now() / 1000) - 60
    utimesSync(root.path('/etc/same.conf'), second, second)
    await new Promise((resolve) => setTimeout(resolve, 150))
    const first = await provider.collect({ ctx })
    assert.equal(String(first.documents.find((d) => d.path === 'filesystem/etc/same.conf')?.content), 'level = 1\n')
    const before = statSync(root.path('/etc/same.conf'))
    root.file('/etc/same.conf', 'level = 2\n')
    utimesSync(root.path('/etc/same.conf'), second, second)
    const after = statSync(root.path('/etc/same.conf'))
    assert.equal(after.size, before.size)
    assert.equal(after.mtimeMs, before.mtimeMs)
    assert.equal(after.ino, before.ino)
    await new Promise((resolve) => setTimeout(resolve, 150))
    const again = await provider.collect({ ctx })
    assert.equal(String(again.documents.find((d) => d.path === 'filesystem/etc/same.conf')?.content), 'level = 2\n')
    assert.equal(again.state.entries.find((e) => e.path === '/etc/same.conf')?.sha256, sha256Of('level = 2\n'))
  })

  it('sees what moves only the ctime (chmod, chown: the verdict follows who may read), a cp -p over a file and a file removed and made again with its size and times', async () => {
    const provider = new FilesProvider()
    const { ctx } = countingReads(createTestContext(root.dir))
    const second = Math.floor(Date.now() / 1000) - 120
    const binary = Buffer.from([0, 1, 2, 3, 255, 0, 7])
    root.file('/etc/keys/blob.bin', binary, { mode: 0o644 })
    root.file('/etc/copied.conf', 'copy = 1\n')
    root.file('/etc/keys/group.bin', binary, { mode: 0o640, uid: 0, gid: 12345 })
    root.file('/etc/copied.src', 'copy = 2\n')
    root.file('/etc/again.conf', 'again = 1\n')
    for (const p of ['/etc/keys/blob.bin', '/etc/keys/group.bin', '/etc/copied.conf', '/etc/copied.src', '/etc/again.conf']) utimesSync(root.path(p), second, second)
    await new Promise((resolve) => setTimeout(resolve, 150))
    const entry = (state: { entries: Array<{ path: string }> }, path: string) => state.entries.find((e) => e.path === path) as Record<string, unknown> | undefined
    const first = (await provider.collect({ ctx })).state
    assert.equal(entry(first, '/etc/keys/blob.bin')?.content, 'binary')
    // Its group may read it, others may not: held, as kept from other users (session 42; it was
    // 'binary' before, its plain sha256 in the twin), by another reason than root's own.
    assert.deepEqual([entry(first, '/etc/keys/group.bin')?.content, entry(first, '/etc/keys/group.bin')?.secretReason], ['secret', KEPT_BINARY])

    // Only root may read it now: binary content no one can show is free of secrets is kept as a secret.
    execFileSync('chmod', ['600', root.path('/etc/keys/blob.bin')])
    // Its group now root's: only root may read it, the same.
    execFileSync('chown', ['0:0', root.path('/etc/keys/group.bin')])
    execFileSync('cp', ['-p', root.path('/etc/copied.src'), root.path('/etc/copied.conf')])
    execFileSync('rm', [root.path('/etc/again.conf')])
    writeFileSync(root.path('/etc/again.conf'), 'again = 2\n')
    utimesSync(root.path('/etc/again.conf'), second, second)
    await new Promise((resolve) => setTimeout(resolve, 150))
    const second2 = await provider.collect({ ctx })
    // Without a stat cache (the same key for secrets' hashes).
    const uncached = new MemoryCache()
    await uncached.write('secret-hash-key', (await ctx.cache.read('secret-hash-key')) as string)
    const fresh = await new FilesProvider().collect({ ctx: createTestContext(root.dir, { cache: uncached }) })
    assert.deepEqual(text(second2.documents), text(fresh.documents), 'the same documents as a collect without a stat cache')
    assert.equal(entry(second2.state, '/etc/keys/blob.bin')?.content, 'secret')
    assert.equal(entry(second2.state, '/etc/copied.conf')?.sha256, sha256Of('copy = 2\n'))
    assert.deepEqual([entry(second2.state, '/etc/keys/group.bin')?.content, entry(second2.state, '/etc/keys/group.bin')?.secretReason], ['secret', ROOT_ONLY_UNCHECKED])
    assert.equal(String(second2.documents.find((d) => d.path === 'filesystem/etc/again.conf')?.content), 'again = 2\n')
  })

  it('sees a deleted and an added file, and writes the cache back only when something moved', async () => {
    const provider = new FilesProvider()
    const writes: string[] = []
    const memory = new MemoryCache()
    const cache: ProviderCache = { read: (key) => memory.read(key), write: (key, value) => (writes.push(key), memory.write(key, value)) }
    const { ctx } = countingReads(createTestContext(root.dir, { cache }))
    root.file('/etc/going.conf', 'going\n')
    await new Promise((resolve) => setTimeout(resolve, 150))
    await provider.collect({ ctx })
    // The collect after a first one works the mirrored files' blob ids out and keeps them (once).
    await provider.collect({ ctx })
    writes.splice(0)
    const unchanged = await provider.collect({ ctx })
    assert.ok(unchanged.documents.some((d) => d.path === 'filesystem/etc/going.conf'))
    assert.deepEqual(writes.filter((k) => k === 'stat-cache'), [], 'nothing moved: the stat cache is not written')
    unlinkSync(root.path('/etc/going.conf'))
    root.file('/etc/coming.conf', 'coming\n')
    await new Promise((resolve) => setTimeout(resolve, 150))
    const moved = await provider.collect({ ctx })
    assert.ok(!moved.documents.some((d) => d.path === 'filesystem/etc/going.conf'))
    assert.ok(!moved.state.entries.some((e) => e.path === '/etc/going.conf'))
    assert.equal(String(moved.documents.find((d) => d.path === 'filesystem/etc/coming.conf')?.content), 'coming\n')
    assert.ok(writes.includes('stat-cache'), 'a file went and one came: the cache is written')
    // And the cache written then gives the same answer again.
    const kept = await provider.collect({ ctx })
    assert.deepEqual(text(kept.documents), text(moved.documents))
  })

  it('a file changed a moment ago is read again until its times can be trusted, without the whole cache written for it', async () => {
    const provider = new FilesProvider()
    const writes: string[] = []
    const memory = new MemoryCache()
    const cache: ProviderCache = { read: (key) => memory.read(key), write: (key, value) => (writes.push(key), memory.write(key, value)) }
    const { ctx, reads } = countingReads(createTestContext(root.dir, { cache }))
    root.file('/etc/busy.conf', 'one\n')
    await new Promise((resolve) => setTimeout(resolve, 150))
    await provider.collect({ ctx })
    await provider.collect({ ctx }) // the blob ids a first collect leaves, kept (see above)
    root.file('/etc/busy.conf', 'two\n')
    // Its times an hour ahead: too recent to trust however long the collects below take (on a
    // loaded machine one took longer than RACY_MS, and the file was kept too early).
    const ahead = new Date(Date.now() + 3_600_000)
    utimesSync(root.path('/etc/busy.conf'), ahead, ahead)
    writes.splice(0)
    reads.splice(0)
    const racy = await provider.collect({ ctx })
    assert.equal(String(racy.documents.find((d) => d.path === 'filesystem/etc/busy.conf')?.content), 'two\n')
    assert.ok(reads.includes('/etc/busy.conf'))
    assert.deepEqual(writes.filter((k) => k === 'stat-cache'), [], 'nothing it could keep: not written')
    reads.splice(0)
    const still = await provider.collect({ ctx })
    assert.equal(String(still.documents.find((d) => d.path === 'filesystem/etc/busy.conf')?.content), 'two\n')
    assert.ok(reads.includes('/etc/busy.conf'), 'still too recent: read again')
    // Back in the past (not on a whole second): the change time utimes gives is older than RACY_MS after the wait.
    const past = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000 + 123)
    utimesSync(root.path('/etc/busy.conf'), past, past)
    await new Promise((resolve) => setTimeout(resolve, 150))
    await provider.collect({ ctx })
    assert.ok(writes.includes('stat-cache'), 'now kept: written')
    reads.splice(0)
    const kept = await provider.collect({ ctx })
    assert.ok(!reads.includes('/etc/busy.conf'))
    assert.equal(String(kept.documents.find((d) => d.path === 'filesystem/etc/busy.conf')?.content), 'two\n')
  })

  it('on a file system that keeps whole seconds, keeps no file changed in the second or two before the read (an edit later in that second keeps its times)', async () => {
    // Seen on ext4 made with 128-byte inodes (mkfs.ext4 -I 128): written, snapshot 300 ms later,
    // the same size written again in that second: the next snapshot showed the first text.
    const second = Math.floor(Date.now() / 1000) * 1000 - 10_000
    const file = (ctimeMs: number) => ({ type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 10, mtimeMs: ctimeMs, ctimeMs, ino: 42, dev: 7, nlink: 1 })
    const memory = new MemoryCache()
    const first = await StatCache.open(memory, 'rules', second + 300, 'stamp')
    first.remember('/etc/coarse.conf', file(second), { content: 'mirrored', sha256: 'a'.repeat(64) }, 'level = 1\n')
    first.remember('/etc/fine.conf', file(second + 0.25), { content: 'mirrored', sha256: 'b'.repeat(64) }, 'level = 1\n')
    await first.save()
    first.close()
    const next = await StatCache.open(memory, 'rules', second + 900, 'stamp')
    assert.equal(next.lookup('/etc/coarse.conf', file(second)), undefined, 'whole seconds: read again')
    assert.equal(next.lookup('/etc/fine.conf', file(second + 0.25))?.text, 'level = 1\n', 'a file system that keeps less than a second: kept after 100 ms')
  })

  it('works an unchanged file\'s origin out again when dpkg\'s database moved, without reading the file', async () => {
    const provider = new FilesProvider()
    const { ctx, reads } = countingReads(createTestContext(root.dir))
    await new Promise((resolve) => setTimeout(resolve, 150))
    const first = await provider.collect({ ctx })
    assert.equal(first.state.entries.find((e) => e.path === '/etc/adduser.conf')?.origin, 'package-unmodified')
    // dpkg now records another md5 for the conffile (an upgrade shipped other bytes).
    const status = root.path('/var/lib/dpkg/status')
    const before = readFileSync(status, 'utf8')
    writeFileSync(status, before.replace(md5('DSHELL=/bin/bash\n'), md5('DSHELL=/bin/sh\n')))
    try {
      reads.splice(0)
      await new Promise((resolve) => setTimeout(resolve, 150))
      const after = await provider.collect({ ctx })
      const entry = after.state.entries.find((e) => e.path === '/etc/adduser.conf')
      assert.equal(entry?.origin, 'package-modified')
      assert.equal(entry?.package, 'adduser')
      assert.ok(!reads.includes('/etc/adduser.conf'), 'the file itself is not read again')
      assert.ok(reads.includes('/var/lib/dpkg/status'), 'the package index is')
      // And nothing of dpkg's is read while the database stays as it is.
      reads.splice(0)
      const again = await provider.collect({ ctx })
      assert.equal(again.state.entries.find((e) => e.path === '/etc/adduser.conf')?.origin, 'package-modified')
      assert.deepEqual(reads.filter((p) => p.startsWith('/var/lib/dpkg/')), [])
    } finally {
      writeFileSync(status, before)
    }
  })

  it('reads an unchanged symlink\'s target from the cache, and a link made anew (another target, or a file in its place) again', async () => {
    const provider = new FilesProvider()
    const links: string[] = []
    const base = createTestContext(root.dir)
    const host = new Proxy(base.host, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver)
        if (typeof value !== 'function') return value
        if (key === 'readlink') return (path: string) => (links.push(path), (value as HostPort['readlink']).call(target, path))
        return (value as (...args: unknown[]) => unknown).bind(target)
      },
    })
    const ctx = { ...base, host }
    root.link('/etc/alternatives/editor', '/usr/bin/vi').link('/etc/alternatives/pager', '/bin/more')
    await new Promise((resolve) => setTimeout(resolve, 150))
    const first = await provider.collect({ ctx })
    assert.ok(links.includes('/etc/alternatives/editor') && links.includes('/etc/localtime'))
    links.splice(0)
    const second = await provider.collect({ ctx })
    assert.deepEqual(links, [], 'no link read again')
    assert.deepEqual(second.state, first.state)
    assert.deepEqual(text(second.documents), text(first.documents))
    // Another target of the same length (the link's size), and a file where a link was.
    unlinkSync(root.path('/etc/alternatives/editor'))
    root.link('/etc/alternatives/editor', '/usr/bin/vy')
    unlinkSync(root.path('/etc/alternatives/pager'))
    root.file('/etc/alternatives/pager', '/bin/more')
    await new Promise((resolve) => setTimeout(resolve, 150))
    const moved = await provider.collect({ ctx })
    assert.deepEqual(links, ['/etc/alternatives/editor'])
    const entry = (path: string) => moved.state.entries.find((e) => e.path === path)
    assert.equal(entry('/etc/alternatives/editor')?.target, '/usr/bin/vy')
    assert.equal(entry('/etc/alternatives/pager')?.type, 'file')
    assert.equal(entry('/etc/alternatives/pager')?.target, undefined)
    // A link where the file was: its target read, then kept.
    unlinkSync(root.path('/etc/alternatives/pager'))
    root.link('/etc/alternatives/pager', '/bin/less')
    links.splice(0)
    await new Promise((resolve) => setTimeout(resolve, 150))
    assert.equal((await provider.collect({ ctx })).state.entries.find((e) => e.path === '/etc/alternatives/pager')?.target, '/bin/less')
    assert.deepEqual(links, ['/etc/alternatives/pager'])
    links.splice(0)
    assert.equal((await provider.collect({ ctx })).state.entries.find((e) => e.path === '/etc/alternatives/pager')?.target, '/bin/less')
    assert.deepEqual(links, [])
    unlinkSync(root.path('/etc/alternatives/editor'))
    unlinkSync(root.path('/etc/alternatives/pager'))
  })

  it('lists a folder whose stat data did not move from the cache, and one a name came to, went from or was renamed in again', async () => {
    const provider = new FilesProvider()
    const listed: string[] = []
    const base = createTestContext(root.dir)
    const host = new Proxy(base.host, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver)
        if (typeof value !== 'function') return value
        if (key === 'readdir') return (path: string) => (listed.push(path), (value as HostPort['readdir']).call(target, path))
        return (value as (...args: unknown[]) => unknown).bind(target)
      },
    })
    const ctx = { ...base, host }
    root.file('/etc/deep/er/one.conf', '1\n').file('/etc/deep/two.conf', '2\n').dirAt('/etc/deep/empty')
    await new Promise((resolve) => setTimeout(resolve, 150))
    const first = await provider.collect({ ctx })
    assert.ok(listed.includes('/etc') && listed.includes('/etc/deep/er') && listed.includes('/etc/deep/empty'))
    listed.splice(0)
    const second = await provider.collect({ ctx })
    assert.deepEqual(listed, [], 'no folder listed again')
    assert.deepEqual(second.state, first.state)
    assert.deepEqual(text(second.documents), text(first.documents))
    assert.equal(second.state.entries.find((e) => e.path === '/etc/deep/empty')?.empty, true)
    // A name added deep down, one renamed, a file into the empty folder.
    root.file('/etc/deep/er/three.conf', '3\n').file('/etc/deep/empty/now.conf', 'n\n')
    renameSync(root.path('/etc/deep/two.conf'), root.path('/etc/deep/zwei.conf'))
    await new Promise((resolve) => setTimeout(resolve, 150))
    const moved = await provider.collect({ ctx })
    assert.deepEqual(listed.sort(), ['/etc/deep', '/etc/deep/empty', '/etc/deep/er'])
    const paths = moved.state.entries.map((e) => e.path)
    for (const p of ['/etc/deep/er/three.conf', '/etc/deep/empty/now.conf', '/etc/deep/zwei.conf']) assert.ok(paths.includes(p), p)
    assert.ok(!paths.includes('/etc/deep/two.conf'))
    assert.equal(moved.state.entries.find((e) => e.path === '/etc/deep/empty')?.empty, undefined)
    // A name removed; the whole deep folder gone.
    unlinkSync(root.path('/etc/deep/er/one.conf'))
    listed.splice(0)
    await new Promise((resolve) => setTimeout(resolve, 150))
    assert.ok(!(await provider.collect({ ctx })).state.entries.some((e) => e.path === '/etc/deep/er/one.conf'))
    assert.deepEqual(listed, ['/etc/deep/er'])
    rmSync(root.path('/etc/deep'), { recursive: true })
    await new Promise((resolve) => setTimeout(resolve, 150))
    assert.ok(!(await provider.collect({ ctx })).state.entries.some((e) => e.path.startsWith('/etc/deep')))
  })

  it('walks an unchanged folder by the walk\'s rules of this run: an ignore pattern or a claim added or taken away since is followed', async () => {
    await new Promise((resolve) => setTimeout(resolve, 150))
    const provider = new FilesProvider()
    const memory = new MemoryCache()
    const base = createTestContext(root.dir, { cache: memory })
    const paths = async (ctx: ProviderContext) => (await provider.collect({ ctx })).state.entries.map((e) => e.path)
    const all = await paths(base)
    assert.ok(all.includes('/etc/app/app.conf') && all.includes('/etc/hosts'))
    assert.deepEqual(await paths(base), all, 'the classes kept')
    const ignoring = await paths({ ...base, config: { ignore: ['app.conf'] } })
    assert.ok(!ignoring.includes('/etc/app/app.conf') && ignoring.includes('/etc/hosts'), 'an ignore pattern added')
    assert.deepEqual(await paths(base), all, 'and taken away again')
    const claims = new PathClaims()
    claims.claim('other', '/etc/hosts')
    const claimed = await paths({ ...base, claims })
    assert.ok(!claimed.includes('/etc/hosts') && claimed.includes('/etc/app/app.conf'), 'a claim added')
    assert.deepEqual(await paths(base), all, 'and taken away again')
  })

  it('re-reads everything when the rules change (a smaller size limit)', async () => {
    const provider = new FilesProvider()
    const base = createTestContext(root.dir)
    const { ctx, reads } = countingReads(base)
    await provider.collect({ ctx })
    reads.splice(0)
    const stricter = await provider.collect({ ctx: { ...ctx, config: { maxFileSize: 10 } } })
    assert.ok(reads.includes('/etc/adduser.conf'))
    assert.equal(stricter.state.entries.find((e) => e.path === '/etc/adduser.conf')?.content, 'too-large')
  })
  it('trusts no record of a damaged cache: every file read again, the same documents', async () => {
    await new Promise((resolve) => setTimeout(resolve, 150))
    const provider = new FilesProvider()
    const memory = new MemoryCache()
    const { ctx, reads } = countingReads(createTestContext(root.dir, { cache: memory }))
    const first = await provider.collect({ ctx })
    const good = (await memory.readBytes('stat-cache')) as Uint8Array
    const at = Buffer.from(good).indexOf('127.0.0.1 localhost')
    assert.ok(at > 0, 'the text of /etc/hosts is in the cache')
    const damaged: Array<[string, Buffer]> = [
      ['a byte of a text changed', Buffer.from(good).fill('X', at, at + 1)],
      ['cut short', Buffer.from(good).subarray(0, good.length - 100)],
      ['a byte appended', Buffer.concat([good, Buffer.from([0])])],
      ['empty', Buffer.alloc(0)],
      ['another format', Buffer.from(JSON.stringify({ rules: 'x', files: [] }))],
    ]
    // A text's length made to reach beyond its record, the CRC-32 made right again: the record
    // does not add up, so its file is read (no other record is affected).
    const overlong = Buffer.from(good)
    overlong.writeUInt32LE(0x7fffffff, at - 4)
    overlong.writeUInt32LE(crc32(overlong.subarray(0, overlong.length - 4)), overlong.length - 4)
    for (const [what, bytes] of damaged) {
      await memory.writeBytes('stat-cache', bytes)
      reads.splice(0)
      const again = await provider.collect({ ctx })
      assert.deepEqual(text(again.documents), text(first.documents), what)
      assert.deepEqual(again.state, first.state, what)
      assert.ok(reads.includes('/etc/hosts') && reads.includes('/etc/app/app.conf'), `${what}: every file is read again`)
    }
    await memory.writeBytes('stat-cache', overlong)
    reads.splice(0)
    const again = await provider.collect({ ctx })
    assert.deepEqual(text(again.documents), text(first.documents))
    assert.deepEqual(reads.filter((p) => p.startsWith('/etc/') && p !== '/etc/passwd' && p !== '/etc/group'), ['/etc/hosts'], 'only the record that does not add up is read')
  })

  it('hands each mirrored file over with its text\'s git blob id from the second collect on (worked out once, then kept); a changed file with its new id', async () => {
    await new Promise((resolve) => setTimeout(resolve, 150))
    const provider = new FilesProvider()
    const writes: string[] = []
    const memory = new MemoryCache()
    const cache: ProviderCache = { read: (key) => memory.read(key), write: (key, value) => (writes.push(key), memory.write(key, value)), readBytes: (key) => memory.readBytes(key), writeBytes: (key, value) => (writes.push(key), memory.writeBytes(key, value)) }
    const { ctx } = countingReads(createTestContext(root.dir, { cache }))
    const blobOf = (content: string | Uint8Array) => createHash('sha1').update(`blob ${Buffer.byteLength(content)}\0`).update(content).digest('hex')
    const mirrored = (docs: readonly TwinDocument[]) => docs.filter((d) => d.path.startsWith('filesystem/'))
    const first = await provider.collect({ ctx })
    assert.ok(mirrored(first.documents).length > 2)
    assert.ok(mirrored(first.documents).every((d) => knownBlob(d) === undefined), 'a first collect leaves the ids to the next')
    writes.splice(0)
    const second = await provider.collect({ ctx })
    for (const d of mirrored(second.documents)) assert.equal(knownBlob(d), blobOf(d.content), d.path)
    assert.ok(writes.includes('stat-cache'), 'the ids are kept')
    writes.splice(0)
    const third = await provider.collect({ ctx })
    for (const d of mirrored(third.documents)) assert.equal(knownBlob(d), blobOf(d.content), d.path)
    assert.deepEqual(writes, [], 'then nothing is written')
    root.file('/etc/hosts', '127.0.0.1 localhost changed\n')
    await new Promise((resolve) => setTimeout(resolve, 150))
    const changed = await provider.collect({ ctx })
    const hosts = changed.documents.find((d) => d.path === 'filesystem/etc/hosts')
    assert.equal(String(hosts?.content), '127.0.0.1 localhost changed\n')
    assert.equal(knownBlob(hosts as TwinDocument), blobOf('127.0.0.1 localhost changed\n'))
  })

  it('in a store that checks its files itself (the core\'s), writes no CRC-32 of its own; the store refuses a damaged file and every file is read again', async () => {
    await new Promise((resolve) => setTimeout(resolve, 150))
    const provider = new FilesProvider()
    const dir = mkdtempSync(join(tmpdir(), 'twinsync-stat-cache-'))
    try {
      const store = new FileCache(dir)
      const { ctx, reads } = countingReads(createTestContext(root.dir, { cache: store }))
      const first = await provider.collect({ ctx })
      const good = (await store.readBytes('stat-cache')) as Buffer
      assert.equal(good.readUInt32LE(good.length - 4), 0, 'no CRC-32 of its own')
      reads.splice(0)
      const second = await provider.collect({ ctx })
      assert.deepEqual(reads.sort(), ['/etc/group', '/etc/passwd'], 'the cache is used')
      assert.deepEqual(text(second.documents), text(first.documents))
      // A byte of a text changed on disk: the store's own check refuses the file.
      const file = join(dir, 'stat-cache')
      const onDisk = readFileSync(file)
      const at = onDisk.indexOf('127.0.0.1 localhost')
      assert.ok(at > 0)
      writeFileSync(file, onDisk.fill('X', at, at + 1))
      reads.splice(0)
      const again = await provider.collect({ ctx })
      assert.deepEqual(text(again.documents), text(first.documents))
      assert.ok(reads.includes('/etc/hosts') && reads.includes('/etc/app/app.conf'), 'every file is read again')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('keeps its bytes exactly through a cache of strings; the JSON cache before it is removed', async () => {
    await new Promise((resolve) => setTimeout(resolve, 150))
    const provider = new FilesProvider()
    // Strings only (a plugin's own cache): the bytes go through as latin1.
    const strings = new Map<string, string>()
    const stringCache: ProviderCache = { read: async (key) => strings.get(key), write: async (key, value) => void strings.set(key, value) }
    const memory = new MemoryCache()
    await memory.write('stat-index', '{"rules":"old","files":[]}')
    await memory.write('text-blobs', '{}')
    root.file('/etc/utf8.conf', 'naïve — ☃ \u{1F600}\n')
    await new Promise((resolve) => setTimeout(resolve, 150))
    try {
      for (const cache of [stringCache, memory]) {
        const { ctx, reads } = countingReads(createTestContext(root.dir, { cache }))
        const first = await provider.collect({ ctx })
        reads.splice(0)
        const second = await provider.collect({ ctx })
        assert.deepEqual(text(second.documents), text(first.documents))
        assert.deepEqual(second.state, first.state)
        assert.deepEqual(reads.sort(), ['/etc/group', '/etc/passwd'], 'nothing read again')
        assert.equal(String(second.documents.find((d) => d.path === 'filesystem/etc/utf8.conf')?.content), 'naïve — ☃ \u{1F600}\n')
      }
      assert.ok(strings.has('stat-cache'))
      assert.equal(await memory.read('stat-index'), undefined)
      assert.equal(await memory.read('text-blobs'), undefined)
    } finally {
      unlinkSync(root.path('/etc/utf8.conf'))
    }
  })
  it("writes each record's numbers as little-endian doubles and its lengths as little-endian u32s: a guard (session 55's DataView writer, the bytes Buffer's writers made)", async () => {
    await new Promise((resolve) => setTimeout(resolve, 150))
    root.file('/etc/guard-ü.conf', 'naïve — ☃\n')
    await new Promise((resolve) => setTimeout(resolve, 150))
    try {
      const memory = new MemoryCache()
      await new FilesProvider().collect({ ctx: createTestContext(root.dir, { cache: memory }) })
      const bytes = Buffer.from((await memory.readBytes('stat-cache')) as Uint8Array)
      // The format read here on its own (not through StatCache): magic, header, records, CRC-32.
      const magic = 'TwinSync files stat cache 1\n'
      assert.equal(bytes.subarray(0, magic.length).toString('latin1'), magic)
      let at = magic.length
      const headerLength = bytes.readUInt32LE(at)
      const header = JSON.parse(bytes.subarray(at + 4, at + 4 + headerLength).toString('utf8')) as { count: number }
      at += 4 + headerLength
      const string = (): string | null => {
        const length = bytes.readUInt32LE(at)
        at += 4
        if (length === 0xffffffff) return null
        at += length
        return bytes.subarray(at - length, at).toString('utf8')
      }
      const seen = new Map<string, number[]>()
      for (let i = 0; i < header.count; i++) {
        const end = at + 4 + bytes.readUInt32LE(at)
        at += 4
        const path = string() as string
        const numbers = [0, 1, 2, 3, 4].map((n) => bytes.readDoubleLE(at + n * 8))
        at += 41
        for (let field = 0; field < 8; field++) string()
        assert.equal(at, end, `${path}: its length is its bytes'`)
        seen.set(path, numbers)
      }
      assert.equal(bytes.readUInt32LE(at), crc32(bytes.subarray(0, at)))
      assert.equal(at + 4, bytes.length)
      const stat = statSync(root.path('/etc/guard-ü.conf'))
      const numbers = [...seen].find(([path]) => path.endsWith('/etc/guard-ü.conf'))?.[1]
      assert.deepEqual(numbers, [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, stat.dev])
    } finally {
      unlinkSync(root.path('/etc/guard-ü.conf'))
    }
  })
  it("a folder's record is found without the files' paths decoded; a file asked for afterwards by its stat as ever; a path there twice gives no record", async () => {
    await new Promise((resolve) => setTimeout(resolve, 150))
    const memory = new MemoryCache()
    await new FilesProvider().collect({ ctx: createTestContext(root.dir, { cache: memory }) })
    const stored = Buffer.from((await memory.readBytes('stat-cache')) as Uint8Array)
    const rules = JSON.parse(stored.toString('utf8', stored.indexOf('{'), stored.indexOf('}') + 1)).rules as string
    const statOf = (path: string, type: 'file' | 'directory' = 'file') => {
      const st = statSync(root.path(path))
      return { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev, nlink: st.nlink }
    }
    const open = (bytes: Buffer) => StatCache.open({ read: async () => undefined, write: async () => undefined, readBytes: async () => Buffer.from(bytes) }, rules, Date.now(), 'stamp')
    const cache = await open(stored)
    assert.ok(cache.lookupListing('/etc/app', statOf('/etc/app', 'directory'))?.names.includes('app.conf'), "the folder's names")
    assert.equal(cache.lookupListing('/etc/hosts', statOf('/etc/hosts')), undefined, "a file's record is no folder's")
    assert.equal(cache.lookupLink('/etc/hosts', statOf('/etc/hosts')), undefined, "nor a link's")
    assert.equal(cache.lookup('/etc/hosts', statOf('/etc/hosts'))?.text, readFileSync(root.path('/etc/hosts'), 'utf8'), 'the file, asked for after the folders')
    // The same size and mtime, another inode (a file made anew): not taken.
    const hosts = statOf('/etc/hosts')
    assert.equal((await open(stored)).lookup('/etc/hosts', { ...hosts, ino: hosts.ino + 1 }), undefined)
    // Another file's record (a path as long as /etc/hosts) given the path /etc/hosts, the CRC-32 made right: a path twice.
    const fixed = Buffer.from(stored)
    let at = 'TwinSync files stat cache 1\n'.length
    at += 4 + fixed.readUInt32LE(at)
    let other = -1
    while (at < fixed.length - 4 && other < 0) {
      const pathLength = fixed.readUInt32LE(at + 4)
      const name = fixed.toString('utf8', at + 8, at + 8 + pathLength)
      // A file's record: its content kind (after the path and five numbers) below 'link'.
      if (name !== '/etc/hosts' && name.length === '/etc/hosts'.length && (fixed[at + 8 + pathLength + 40] as number) < 5) other = at + 8
      at += 4 + fixed.readUInt32LE(at)
    }
    assert.ok(other > 0, 'a file record to give the path')
    fixed.write('/etc/hosts', other, 'latin1')
    fixed.writeUInt32LE(crc32(fixed.subarray(0, fixed.length - 4)), fixed.length - 4)
    const doubled = await open(fixed)
    assert.ok(doubled.lookupListing('/etc/app', statOf('/etc/app', 'directory')) !== undefined, 'a folder asked before the files: its record')
    assert.equal(doubled.lookup('/etc/hosts', statOf('/etc/hosts')), undefined, 'no record of a path there twice')
    assert.equal(doubled.lookup('/etc/app/app.conf', statOf('/etc/app/app.conf')), undefined, 'nor of any other file: the cache is as refused')
  })

  it("carries a kept file's record saying what it is without decoding its text (session 42)", async () => {
    // A split manifest's kept parts carry about 19,500 records on the scale root's one-file
    // snapshot: each mirrored file's text was made a string only to see that it was there.
    const at = Date.now() - 60_000
    const file = (ino: number) => ({ type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 10, mtimeMs: at, ctimeMs: at, ino, dev: 7, nlink: 1 })
    const memory = new MemoryCache()
    const first = await StatCache.open(memory, 'rules', Date.now(), 'stamp')
    first.remember('/etc/a.conf', file(1), { content: 'mirrored', sha256: 'a'.repeat(64) }, 'level = 1\n')
    first.remember('/etc/b.conf', file(2), { content: 'mirrored', sha256: 'b'.repeat(64) }, 'level = 2\n')
    first.remember('/etc/c.bin', file(3), { content: 'binary', sha256: 'c'.repeat(64) })
    await first.save()
    first.close()
    const next = await StatCache.open(memory, 'rules', Date.now(), 'stamp')
    assert.equal(next.carry('/etc/a.conf', file(1)), 'mirrored')
    // A path is decoded to be compared (RecordIndex's cursor), a text never.
    const toString = Buffer.prototype.toString
    let decoded = 0
    Buffer.prototype.toString = function (this: Buffer, ...args: Parameters<Buffer['toString']>) {
      const made = toString.apply(this, args)
      if (made.startsWith('level = ')) decoded++
      return made
    }
    try {
      assert.equal(next.carry('/etc/b.conf', file(2)), 'mirrored')
      assert.equal(next.carry('/etc/c.bin', file(3)), 'other')
      assert.equal(next.carry('/etc/b.conf', file(9)), undefined, 'its stat data moved: described')
    } finally {
      Buffer.prototype.toString = toString
    }
    assert.equal(decoded, 0, 'no text decoded')
    next.close()
  })

  it('hands its buffer off when closed, never a slice of a buffer others share', async () => {
    await new Promise((resolve) => setTimeout(resolve, 150))
    const memory = new MemoryCache()
    await new FilesProvider().collect({ ctx: createTestContext(root.dir, { cache: memory }) })
    const stored = Buffer.from((await memory.readBytes('stat-cache')) as Uint8Array)
    const rules = JSON.parse(stored.toString('utf8', stored.indexOf('{'), stored.indexOf('}') + 1)).rules as string
    // Its own buffer: detached once closed (its memory freed at the next young collection).
    const own = Buffer.from(stored)
    const ownCache: ProviderCache = { read: async () => undefined, write: async () => undefined, readBytes: async () => own }
    const cache = await StatCache.open(ownCache, rules, Date.now(), 'stamp')
    const hosts = statSync(root.path('/etc/hosts'))
    const stat = { type: 'file' as const, mode: hosts.mode & 0o7777, uid: hosts.uid, gid: hosts.gid, size: hosts.size, mtimeMs: hosts.mtimeMs, ctimeMs: hosts.ctimeMs, ino: hosts.ino, dev: hosts.dev, nlink: hosts.nlink }
    assert.equal(cache.lookup('/etc/hosts', stat)?.text, readFileSync(root.path('/etc/hosts'), 'utf8'))
    cache.close()
    assert.equal(own.byteLength, 0)
    assert.equal(cache.lookup('/etc/hosts', stat), undefined, 'nothing is looked up once closed')
    // A view into a larger buffer (as Node's pool hands out small ones): left as it is.
    const shared = Buffer.alloc(stored.length + 16)
    stored.copy(shared, 8)
    const view = shared.subarray(8, 8 + stored.length)
    const viewCache: ProviderCache = { read: async () => undefined, write: async () => undefined, readBytes: async () => view }
    ;(await StatCache.open(viewCache, rules, Date.now(), 'stamp')).close()
    assert.equal(view.byteLength, stored.length)
    assert.equal(shared.byteLength, stored.length + 16)
  })
})
