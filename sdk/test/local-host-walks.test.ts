// The host port's reads check where each descriptor is against the walk of its folder made once a
// run (LocalHost.reachedAt, issue 22, session 16): N reads in one folder walk it once, not N
// times; a change by the port walks it again; and a folder changed since by someone else is
// walked again before a read is refused or accepted (a user's link refused, root's followed).
import { strict as assert } from 'node:assert'
import { Session } from 'node:inspector'
import { execFileSync } from 'node:child_process'
import { lchown, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost } from '../src/local-host.js'
import { isTwinSyncError } from '../src/errors.js'

describe('LocalHost: a folder walked once a run for the reads in it (reachedAt)', () => {
  let root: string
  let host: LocalHost
  let session: Session
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T))))
  /** Calls of walkLinksSync (the one walk, walkLinks, answered by the port's lstat) since the last ask. */
  const walks = async (): Promise<number> => {
    const { result } = await post<{ result: Array<{ functions: Array<{ functionName: string; ranges: Array<{ startOffset: number; endOffset: number; count: number }> }> }> }>('Profiler.takePreciseCoverage')
    // The function itself, not a same-named export getter the TypeScript loader may add (the widest range of that name).
    let widest = { size: -1, count: 0 }
    for (const script of result) {
      for (const f of script.functions) {
        const range = f.ranges[0]
        if (f.functionName === 'walkLinksSync' && range !== undefined && range.endOffset - range.startOffset > widest.size) widest = { size: range.endOffset - range.startOffset, count: range.count }
      }
    }
    return widest.count
  }

  before(async () => {
    session = new Session()
    session.connect()
    await post('Profiler.enable')
    await post('Profiler.startPreciseCoverage', { callCount: true, detailed: false })
  })
  after(async () => {
    await post('Profiler.stopPreciseCoverage')
    session.disconnect()
  })
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-walks-'))
    await mkdir(join(root, 'etc/app'), { recursive: true })
    for (let i = 0; i < 20; i++) await writeFile(join(root, `etc/app/f${i}`), `${i}\n`)
    host = new LocalHost(root)
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('twenty reads in one folder walk it once; a change by the port walks it again', async () => {
    await walks()
    for (let i = 0; i < 20; i++) assert.equal(await host.readTextIfExists(`/etc/app/f${i}`), `${i}\n`)
    assert.equal(await walks(), 1)
    await host.writeFileAtomic('/etc/other.conf', 'x\n')
    await walks()
    assert.equal(await host.readTextIfExists('/etc/app/f0'), '0\n')
    assert.equal(await walks(), 1, 'the write took the looks again')
  })

  // Session 53 (issue 22): a read that follows root's links (systemd's unit files) walks its folder
  // once a run and opens its last name as it is; only a link there is walked. Fails on d2302de0,
  // whose every such read walked its whole path (20 walks) and lstat-ed its last name first.
  it('twenty following reads in one folder below root\'s link walk it once', async () => {
    await mkdir(join(root, 'usr/lib/app'), { recursive: true })
    for (let i = 0; i < 20; i++) await writeFile(join(root, `usr/lib/app/u${i}`), `${i}\n`)
    await symlink('usr/lib', join(root, 'lib'))
    await walks()
    for (let i = 0; i < 20; i++) assert.equal(await host.readTextIfExists(`/lib/app/u${i}`, { follow: 'root-owned' }), `${i}\n`)
    assert.equal(await walks(), 1)
    assert.equal(await host.readTextIfExists('/lib/app/none', { follow: 'root-owned' }), undefined)
    assert.equal(await walks(), 0, 'nothing there: opened as it is, no walk')
    await host.writeFileAtomic('/etc/other.conf', 'x\n')
    await walks()
    assert.equal(await host.readTextIfExists('/lib/app/u0', { follow: 'root-owned' }), '0\n')
    assert.equal(await walks(), 1, 'the write took the looks again')
  })

  // Guards (pass on d2302de0 too): what a following read finds at its last name, and a user's folder link on the way.
  it('a following read: root\'s link at the end followed, ann\'s refused, a folder, a FIFO and ann\'s folder link as before', async () => {
    await mkdir(join(root, 'usr/lib/app'), { recursive: true })
    await writeFile(join(root, 'usr/lib/app/real'), 'real\n')
    await symlink('real', join(root, 'usr/lib/app/roots'))
    await symlink('real', join(root, 'usr/lib/app/anns'))
    await lchown(join(root, 'usr/lib/app/anns'), 1000, 1000)
    await symlink('/usr/lib/app/real', join(root, 'usr/lib/app/absolute'))
    await mkdir(join(root, 'usr/lib/app/folder'))
    execFileSync('mkfifo', [join(root, 'usr/lib/app/fifo')])
    await mkdir(join(root, 'home/ann/real'), { recursive: true })
    await writeFile(join(root, 'home/ann/real/x'), 'hers\n')
    await symlink('real', join(root, 'home/ann/link'))
    await lchown(join(root, 'home/ann'), 1000, 1000)
    await lchown(join(root, 'home/ann/link'), 1000, 1000)
    const follow = { follow: 'root-owned' } as const
    for (let round = 0; round < 2; round++) {
      assert.equal(await host.readTextIfExists('/usr/lib/app/roots', follow), 'real\n')
      assert.equal(await host.readTextIfExists('/usr/lib/app/absolute', follow), 'real\n')
      await assert.rejects(host.readTextIfExists('/usr/lib/app/anns', follow), (e: unknown) => isTwinSyncError(e) && e.code === 'READ_REFUSED' && /is reached through \/usr\/lib\/app\/anns, a symbolic link/.test(e.message))
      await assert.rejects(host.readTextIfExists('/usr/lib/app/anns'), (e: unknown) => isTwinSyncError(e) && e.code === 'READ_REFUSED' && /is a symbolic link/.test(e.message))
      await assert.rejects(host.readTextIfExists('/usr/lib/app/folder', follow), (e: unknown) => (e as NodeJS.ErrnoException).code === 'EISDIR')
      await assert.rejects(host.readTextIfExists('/usr/lib/app/fifo', follow), (e: unknown) => isTwinSyncError(e) && e.code === 'READ_REFUSED' && /is not a regular file \(fifo\)/.test(e.message))
      await assert.rejects(host.readTextIfExists('/home/ann/link/x', follow), (e: unknown) => isTwinSyncError(e) && e.code === 'READ_REFUSED' && /is reached through \/home\/ann\/link, a symbolic link/.test(e.message))
      assert.equal(await host.readTextIfExists('/home/ann/real/x', follow), 'hers\n')
      assert.equal(await host.readTextIfExists('/usr/lib/app/gone', follow), undefined)
    }
  })

  it('a folder swapped since its walk: ann\'s link refused, root\'s link followed (walked again, not taken from the kept walk)', async () => {
    await mkdir(join(root, 'home/ann/.config'), { recursive: true })
    await writeFile(join(root, 'home/ann/.config/a'), 'hers\n')
    await lchown(join(root, 'home/ann'), 1000, 1000)
    await mkdir(join(root, 'etc/secret'))
    await writeFile(join(root, 'etc/secret/b'), 'ROOT-ONLY\n', { mode: 0o600 })
    assert.equal(await host.readTextIfExists('/home/ann/.config/a'), 'hers\n')
    // Ann makes her folder a link to root's: the kept walk (a real folder) does not lead there.
    await rename(join(root, 'home/ann/.config'), join(root, 'home/ann/.config-was'))
    await symlink('../../etc/secret', join(root, 'home/ann/.config'))
    await lchown(join(root, 'home/ann/.config'), 1000, 1000)
    await assert.rejects(host.readTextIfExists('/home/ann/.config/b'), (e: unknown) => isTwinSyncError(e) && e.code === 'READ_REFUSED' && /was reached at \/etc\/secret\/b/.test(e.message))
    // Root makes /etc/app a link of its own (another program, not this port): followed.
    assert.equal(await host.readTextIfExists('/etc/app/f1'), '1\n')
    await mkdir(join(root, 'srv'))
    await rename(join(root, 'etc/app'), join(root, 'srv/app'))
    await writeFile(join(root, 'srv/app/moved'), 'moved\n')
    await symlink('../srv/app', join(root, 'etc/app'))
    assert.equal(await host.readTextIfExists('/etc/app/moved'), 'moved\n')
    // And back to a real folder: the kept walk (through the link) is walked again too.
    await rm(join(root, 'etc/app'))
    await mkdir(join(root, 'etc/app'))
    await writeFile(join(root, 'etc/app/moved'), 'real\n')
    assert.equal(await host.readTextIfExists('/etc/app/moved'), 'real\n')
  })
})
