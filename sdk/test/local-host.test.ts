import { strict as assert } from 'node:assert'
import { execFileSync } from 'node:child_process'
import { chmod, chown, lchown, lstat, mkdtemp, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost } from '../src/local-host.js'
import { writeFileAtomic } from '../src/atomic-write.js'
import { isTwinSyncError } from '../src/errors.js'

const refused2 = (folder: string) => (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK' && e.message.includes(`below ${folder}, a symbolic link`)

describe('LocalHost against a root other than /', () => {
  let root: string
  let outside: string
  let host: LocalHost

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-root-'))
    outside = await mkdtemp(join(tmpdir(), 'twinsync-outside-'))
    await mkdir(join(root, 'etc/app'), { recursive: true })
    await mkdir(join(root, 'opt/real'), { recursive: true })
    await writeFile(join(root, 'etc/hosts'), '127.0.0.1 localhost\n')
    await writeFile(join(outside, 'secret'), 'host file\n')
    host = new LocalHost(root)
  })

  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
    await rm(outside, { recursive: true, force: true })
  })

  it('maps target paths under the root', async () => {
    assert.equal(await host.resolve('/etc/hosts'), join(root, 'etc/hosts'))
    assert.equal((await host.readTextIfExists('/etc/hosts'))?.trim(), '127.0.0.1 localhost')
    assert.equal(await host.readTextIfExists('/etc/missing'), undefined)
    assert.equal(host.live, false)
  })

  it('re-roots absolute symlinks the way chroot sees them', async () => {
    await writeFile(join(root, 'opt/real/conf'), 'inside\n')
    await symlink('/opt/real', join(root, 'etc/linked'))
    assert.equal(await host.readTextIfExists('/etc/linked/conf', { follow: 'root-owned' }), 'inside\n')
    assert.equal((await host.lstat('/etc/linked'))?.type, 'symlink')
    assert.equal((await host.stat('/etc/linked'))?.type, 'directory')
  })

  it('refuses a relative symlink that climbs out of the root', async () => {
    await symlink('../../../../../../../../' + outside.slice(1), join(root, 'etc/escape'))
    await assert.rejects(host.readFile('/etc/escape/secret'), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_OUTSIDE_ROOT')
    // Root's link is followed by a write as by a read, as far as the root allows.
    await assert.rejects(host.writeFileAtomic('/etc/escape/new', 'x'), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_OUTSIDE_ROOT')
    // A user's link is refused sooner: below a symlinked folder a user placed at all (the test after this one).
    await lchown(join(root, 'etc/escape'), 1000, 1000)
    await assert.rejects(host.writeFileAtomic('/etc/escape/new', 'x'), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK')
    await assert.rejects(host.mkdir('/etc/escape/../../x'), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_INVALID')
    assert.equal(await readFile(join(outside, 'secret'), 'utf8'), 'host file\n')
  })

  it('changes nothing below a symlinked folder a user placed or can swap (PATH_THROUGH_SYMLINK), whatever the call, but the distribution\'s own links (merged /usr, /var/run)', async () => {
    await mkdir(join(root, 'root/.ssh'), { recursive: true })
    await writeFile(join(root, 'root/.ssh/authorized_keys'), 'mine\n')
    // A link a user owns, in root's /etc; a link of root's in ann's home (hers to swap).
    await symlink('/root/.ssh', join(root, 'etc/keys'))
    await lchown(join(root, 'etc/keys'), 1000, 1000)
    await mkdir(join(root, 'home/ann'), { recursive: true })
    await chown(join(root, 'home/ann'), 1000, 1000)
    await symlink('../../root', join(root, 'home/ann/.config'))
    const before = await readFile(join(root, 'root/.ssh/authorized_keys'), 'utf8')
    const refused = (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK' && e.exitCode === 2 && /below \/(etc\/keys|home\/ann\/\.config), a symbolic link/.test(e.message)
    await assert.rejects(host.writeFileAtomic('/etc/keys/authorized_keys', 'attacker\n'), refused)
    await assert.rejects(host.writeFileAtomic('/home/ann/.config/.ssh/authorized_keys', 'attacker\n'), refused)
    await assert.rejects(host.mkdir('/etc/keys/new'), refused)
    await assert.rejects(host.symlink('/x', '/etc/keys/new'), refused)
    await assert.rejects(host.chmod('/etc/keys/authorized_keys', 0o666), refused)
    await assert.rejects(host.chown('/etc/keys/authorized_keys', 1000, 1000), refused)
    await assert.rejects(host.setAttributes('/etc/keys/authorized_keys', { mode: 0o666 }), refused)
    await assert.rejects(host.remove('/etc/keys/authorized_keys'), refused)
    await assert.rejects(host.rmdir('/home/ann/.config/.ssh'), refused)
    // A program that writes in a folder: refused before it runs when the folder, or one above it, is a link.
    await assert.rejects(host.exec('touch', [join(root, 'etc/keys/ran')], { writesIn: ['/etc/keys'] }), refused)
    await assert.rejects(host.exec('touch', [join(root, 'etc/keys/ran')], { writesIn: ['/etc/keys/sub'] }), refused)
    assert.equal(await readFile(join(root, 'root/.ssh/authorized_keys'), 'utf8'), before)
    assert.deepEqual((await stat(join(root, 'root/.ssh/authorized_keys'))).mode & 0o777, 0o644)
    // The link itself is the last name, never followed: it can be replaced or removed.
    await host.remove('/etc/keys')
    assert.equal(await readFile(join(root, 'root/.ssh/authorized_keys'), 'utf8'), before)
    // Merged /usr and /var/run as Debian makes them are followed to their real folders, and checked there.
    await mkdir(join(root, 'usr/lib/app'), { recursive: true })
    await mkdir(join(root, 'run'), { recursive: true })
    await mkdir(join(root, 'var'), { recursive: true })
    await symlink('usr/lib', join(root, 'lib'))
    await symlink('/run', join(root, 'var/run'))
    await host.writeFileAtomic('/lib/app/ok.conf', 'ok\n')
    await host.writeFileAtomic('/var/run/ok.pid', '1\n')
    assert.equal(await readFile(join(root, 'usr/lib/app/ok.conf'), 'utf8'), 'ok\n')
    assert.equal(await readFile(join(root, 'run/ok.pid'), 'utf8'), '1\n')
    await symlink('/root/.ssh', join(root, 'usr/lib/keys'))
    await lchown(join(root, 'usr/lib/keys'), 1000, 1000)
    await assert.rejects(host.writeFileAtomic('/lib/keys/authorized_keys', 'attacker\n'), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK' && /below \/usr\/lib\/keys/.test(e.message))
    // The same names pointing elsewhere are no distribution link (a user's: root's own would be followed).
    await rm(join(root, 'var/run'))
    await symlink('/root/.ssh', join(root, 'var/run'))
    await lchown(join(root, 'var/run'), 1000, 1000)
    await assert.rejects(host.writeFileAtomic('/var/run/authorized_keys', 'attacker\n'), refused2('/var/run'))
    assert.equal(await readFile(join(root, 'root/.ssh/authorized_keys'), 'utf8'), before)
  })

  it('finds the same under a folder it lstat-ed first (kept as resolved) as a fresh host does, symlinked folders included', async () => {
    await writeFile(join(root, 'opt/real/conf'), 'inside\n')
    await mkdir(join(root, 'etc/app/deep'), { recursive: true })
    await writeFile(join(root, 'etc/app/deep/file'), 'deep\n')
    await symlink('/opt/real', join(root, 'etc/linked'))
    await symlink('../opt/real', join(root, 'etc/relative'))
    await symlink('../../../../../../../../' + outside.slice(1), join(root, 'etc/escape'))
    await symlink('/nowhere', join(root, 'etc/dangling'))
    const paths = ['/etc', '/etc/app', '/etc/app/deep', '/etc/app/deep/file', '/etc/linked', '/etc/linked/conf', '/etc/relative', '/etc/relative/conf', '/etc/escape', '/etc/escape/secret', '/etc/dangling', '/etc/dangling/x', '/opt/real/conf']
    const outcome = async (h: LocalHost, path: string, how: 'lstat' | 'stat' | 'read'): Promise<unknown> => {
      try {
        if (how === 'read') return (await h.readTextIfExists(path)) ?? null
        const s = how === 'lstat' ? await h.lstat(path) : await h.stat(path)
        return s === undefined ? null : [s.type, s.ino]
      } catch (error) {
        return isTwinSyncError(error) ? error.code : String(error)
      }
    }
    const walked = new LocalHost(root)
    for (const path of paths) await outcome(walked, path, 'lstat')
    for (const path of paths) {
      for (const how of ['lstat', 'stat', 'read'] as const) {
        assert.deepEqual(await outcome(walked, path, how), await outcome(new LocalHost(root), path, how), `${how} ${path}`)
      }
    }
  })

  it('reads small files and large ones whole, the same either way', async () => {
    const large = 'x'.repeat(1024 * 1024) + 'the end\n' // above the synchronous read's limit
    await writeFile(join(root, 'etc/large'), large)
    assert.equal((await host.readFile('/etc/large')).toString(), large)
    assert.equal(await host.readTextIfExists('/etc/large'), large)
    assert.equal((await host.readFile('/etc/hosts')).toString(), '127.0.0.1 localhost\n')
    assert.equal(await host.readTextIfExists('/etc/hosts'), '127.0.0.1 localhost\n')
    assert.equal(await host.readTextIfExists('/etc/missing'), undefined)
    assert.equal(await host.readTextIfExists('/etc/hosts/below'), undefined, 'a path below a file is missing too (ENOTDIR)')
    await assert.rejects(host.readFile('/etc/missing'), /ENOENT/)
    await assert.rejects(host.readTextIfExists('/etc/app'), /EISDIR/)
    // A file whose size says 0 is read to its end.
    assert.match((await new LocalHost('/').readTextIfExists('/proc/self/status', { follow: 'root-owned' })) ?? '', /^Name:/)
  })

  describe('reads the regular file at exactly that path, never through a link a user swapped in (READ_REFUSED)', () => {
    const refusedRead = (pattern: RegExp) => (e: unknown) => isTwinSyncError(e) && e.code === 'READ_REFUSED' && pattern.test(e.message)

    beforeEach(async () => {
      await mkdir(join(root, 'home/ann/.config'), { recursive: true })
      await writeFile(join(root, 'home/ann/.config/notes'), 'hers\n')
      await mkdir(join(root, 'etc/secret'), { recursive: true })
      await writeFile(join(root, 'etc/secret/notes'), 'ROOT-ONLY-MARKER\n', { mode: 0o600 })
      await writeFile(join(root, 'etc/shadow'), 'root:$6$ROOT-ONLY-MARKER:\n', { mode: 0o600 })
    })

    it('(a) the last name swapped for a symlink after the look: refused, the link\'s target not read', async () => {
      // What a provider does: look (lstat: a regular file), then read. The swap lands in between.
      assert.equal((await host.lstat('/home/ann/.config/notes'))?.type, 'file')
      await rm(join(root, 'home/ann/.config/notes'))
      await symlink('/etc/shadow', join(root, 'home/ann/.config/notes'))
      await assert.rejects(host.readFile('/home/ann/.config/notes'), refusedRead(/^\/home\/ann\/\.config\/notes is a symbolic link/))
      await assert.rejects(host.readTextIfExists('/home/ann/.config/notes'), refusedRead(/is a symbolic link/))
      // A relative link, and one to a file that is no secret: refused all the same.
      await rm(join(root, 'home/ann/.config/notes'))
      await symlink('../../../etc/hosts', join(root, 'home/ann/.config/notes'))
      await assert.rejects(host.readFile('/home/ann/.config/notes'), refusedRead(/is a symbolic link/))
    })

    it('(b) a folder on the way swapped for a symlink after the look: refused by the descriptor\'s own path', async () => {
      await chown(join(root, 'home/ann'), 1000, 1000)
      assert.equal((await host.lstat('/home/ann/.config/notes'))?.type, 'file')
      await rm(join(root, 'home/ann/.config'), { recursive: true })
      await symlink('../../etc/secret', join(root, 'home/ann/.config'))
      await lchown(join(root, 'home/ann/.config'), 1000, 1000)
      await assert.rejects(host.readFile('/home/ann/.config/notes'), refusedRead(/was reached at \/etc\/secret\/notes: a folder on the way/))
      await assert.rejects(host.readTextIfExists('/home/ann/.config/notes'), refusedRead(/was reached at \/etc\/secret\/notes/))
      // A fresh host (nothing resolved before): the standing link is refused too.
      await assert.rejects(new LocalHost(root).readFile('/home/ann/.config/notes'), refusedRead(/was reached at \/etc\/secret\/notes/))
      // Root's own link on the way (/home -> /srv/home, as servers have it) is followed; ann's link below it is still hers, refused.
      await mkdir(join(root, 'srv'), { recursive: true })
      await rename(join(root, 'home'), join(root, 'srv/home'))
      await symlink('/srv/home', join(root, 'home'))
      await rm(join(root, 'srv/home/ann/.config'))
      await symlink('/etc/secret', join(root, 'srv/home/ann/.config'))
      await lchown(join(root, 'srv/home/ann/.config'), 1000, 1000)
      await assert.rejects(new LocalHost(root).readFile('/home/ann/.config/notes'), refusedRead(/was reached at \/etc\/secret\/notes/))
      await rm(join(root, 'srv/home/ann/.config'))
      await mkdir(join(root, 'srv/home/ann/.config'))
      await writeFile(join(root, 'srv/home/ann/.config/notes'), 'hers\n')
      assert.equal(await new LocalHost(root).readTextIfExists('/home/ann/.config/notes'), 'hers\n')
    })

    it('(c) a FIFO swapped in: refused at once, the read does not wait for a writer', async () => {
      await rm(join(root, 'home/ann/.config/notes'))
      execFileSync('mkfifo', [join(root, 'home/ann/.config/notes')])
      await assert.rejects(host.readFile('/home/ann/.config/notes'), refusedRead(/is not a regular file \(fifo\)/))
      await assert.rejects(host.readTextIfExists('/home/ann/.config/notes'), refusedRead(/is not a regular file/))
    })

    it('reads through the distribution\'s own folder links (merged /usr), and a missing file is missing', async () => {
      await mkdir(join(root, 'usr/lib/systemd/system'), { recursive: true })
      await writeFile(join(root, 'usr/lib/systemd/system/x.service'), '[Unit]\n')
      await symlink('usr/lib', join(root, 'lib'))
      assert.equal(await host.readTextIfExists('/lib/systemd/system/x.service'), '[Unit]\n')
      assert.equal(await host.readTextIfExists('/home/ann/.config/missing'), undefined)
    })

    it('follow: \'root-owned\' follows links only root can place, never one in (or below) a folder another user can write', async () => {
      await mkdir(join(root, 'usr/lib'), { recursive: true })
      await writeFile(join(root, 'usr/lib/os-release'), 'ID=debian\n')
      await symlink('../usr/lib/os-release', join(root, 'etc/os-release'))
      assert.equal(await host.readTextIfExists('/etc/os-release', { follow: 'root-owned' }), 'ID=debian\n')
      await assert.rejects(host.readTextIfExists('/etc/os-release'), refusedRead(/is a symbolic link/), 'without follow, the link is refused')
      // Ann's home is hers: a link there is not followed, to a file or through a folder.
      await chown(join(root, 'home/ann'), 1000, 1000)
      await rm(join(root, 'home/ann/.config/notes'))
      await symlink('/etc/shadow', join(root, 'home/ann/.config/notes'))
      await assert.rejects(host.readFile('/home/ann/.config/notes', { follow: 'root-owned' }), refusedRead(/through \/home\/ann\/\.config\/notes, a symbolic link in a folder other users can write/))
      await rm(join(root, 'home/ann/.config'), { recursive: true })
      await symlink('../../etc/secret', join(root, 'home/ann/.config'))
      await assert.rejects(new LocalHost(root).readFile('/home/ann/.config/notes', { follow: 'root-owned' }), refusedRead(/through \/home\/ann\/\.config, a symbolic link/))
      // This host resolved /home/ann/.config as a folder a moment ago (a swap since): the descriptor's own path refuses it.
      await assert.rejects(host.readFile('/home/ann/.config/notes', { follow: 'root-owned' }), refusedRead(/was reached at \/etc\/secret\/notes/))
      // A folder of root's, writable by others (a /tmp): a link in it is not followed either; nor a link another user owns.
      await mkdir(join(root, 'srv/drop'), { recursive: true })
      await chmod(join(root, 'srv/drop'), 0o1777)
      await symlink('/etc/shadow', join(root, 'srv/drop/x'))
      await assert.rejects(host.readFile('/srv/drop/x', { follow: 'root-owned' }), refusedRead(/a symbolic link in a folder other users can write/))
      await symlink('/etc/shadow', join(root, 'etc/theirs'))
      await lchown(join(root, 'etc/theirs'), 1000, 1000)
      await assert.rejects(host.readFile('/etc/theirs', { follow: 'root-owned' }), refusedRead(/etc\/theirs, a symbolic link/))
      // A regular file in a user's folder is read as it is.
      await mkdir(join(root, 'home/bob'), { recursive: true })
      await writeFile(join(root, 'home/bob/plain'), 'plain\n')
      await chown(join(root, 'home/bob'), 1001, 1001)
      assert.equal(await host.readTextIfExists('/home/bob/plain', { follow: 'root-owned' }), 'plain\n')
    })
  })

  describe('one rule of folder links for reads and writes: followed when only root can have placed it, refused when a user placed it or can swap it', () => {
    const throughLink = (folder: string) => (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK' && e.message.includes(`below ${folder}, a symbolic link`)
    const readRefusedAt = (at: RegExp) => (e: unknown) => isTwinSyncError(e) && e.code === 'READ_REFUSED' && at.test(e.message)

    beforeEach(async () => {
      // /home -> /srv/home as servers have it: root's link, an absolute target (inside the root), ann's home hers.
      await mkdir(join(root, 'srv/home/ann/.config'), { recursive: true })
      await chown(join(root, 'srv/home/ann'), 1000, 1000)
      await chown(join(root, 'srv/home/ann/.config'), 1000, 1000)
      await writeFile(join(root, 'srv/home/ann/.config/app.conf'), 'mine=1\n')
      await symlink('/srv/home', join(root, 'home'))
      await mkdir(join(root, 'root/secret'), { recursive: true, mode: 0o700 })
      await writeFile(join(root, 'root/secret/app.conf'), 'ROOT-ONLY\n', { mode: 0o600 })
    })

    it('root\'s /home link: ann\'s file read, written, chmod-ed, a folder made, all where the link leads', async () => {
      assert.equal(await host.readTextIfExists('/home/ann/.config/app.conf'), 'mine=1\n')
      await host.writeFileAtomic('/home/ann/.config/app.conf', 'mine=2\n', { mode: 0o644 })
      assert.equal(await readFile(join(root, 'srv/home/ann/.config/app.conf'), 'utf8'), 'mine=2\n')
      await host.chmod('/home/ann/.config/app.conf', 0o600)
      assert.equal((await stat(join(root, 'srv/home/ann/.config/app.conf'))).mode & 0o777, 0o600)
      await host.mkdir('/home/ann/.config/sub', { mode: 0o700 })
      await host.exec('true', [], { writesIn: ['/home/ann/.config/sub'] })
      assert.equal((await stat(join(root, 'srv/home/ann/.config/sub'))).mode & 0o777, 0o700)
      // A fresh port (nothing looked at before) reads it the same.
      assert.equal(await new LocalHost(root).readTextIfExists('/home/ann/.config/app.conf'), 'mine=2\n')
      // A relative target with ".." (the kernel's way: from the folder reached), and a chain of root's links.
      await mkdir(join(root, 'srv/data'), { recursive: true })
      await symlink('../srv/./home/../data', join(root, 'opt/data'))
      await symlink('data', join(root, 'opt/chain'))
      await host.writeFileAtomic('/opt/chain/f', 'f\n')
      assert.equal(await readFile(join(root, 'srv/data/f'), 'utf8'), 'f\n')
      assert.equal(await host.readTextIfExists('/opt/data/f'), 'f\n')
    })

    it('a user\'s link, or root\'s where a user can swap it (her home, a /tmp), or one below such a folder: refused, reads and writes; nothing reached', async () => {
      const cases: Array<[string, string, string]> = []
      // Ann's own link in her home (below root's /home link).
      await symlink('/root/secret', join(root, 'srv/home/ann/.config/x'))
      await lchown(join(root, 'srv/home/ann/.config/x'), 1000, 1000)
      cases.push(['/home/ann/.config/x/app.conf', '/srv/home/ann/.config/x', '/root/secret/app.conf'])
      // A user's link in root's folder.
      await symlink('/root/secret', join(root, 'etc/theirs'))
      await lchown(join(root, 'etc/theirs'), 1000, 1000)
      cases.push(['/etc/theirs/app.conf', '/etc/theirs', '/root/secret/app.conf'])
      // Root's link in ann's home: she can rename it away and put her own.
      await symlink('/root/secret', join(root, 'srv/home/ann/rootlink'))
      cases.push(['/home/ann/rootlink/app.conf', '/srv/home/ann/rootlink', '/root/secret/app.conf'])
      // Root's link in a folder everyone can write (a /tmp).
      await mkdir(join(root, 'srv/drop'), { recursive: true })
      await chmod(join(root, 'srv/drop'), 0o1777)
      await symlink('/root/secret', join(root, 'srv/drop/s'))
      cases.push(['/srv/drop/s/app.conf', '/srv/drop/s', '/root/secret/app.conf'])
      // Root's link that leads into ann's home: followed, but what is below it is hers: her link there refused.
      await symlink('/home/ann/.config', join(root, 'opt/annconf'))
      cases.push(['/opt/annconf/x/app.conf', '/srv/home/ann/.config/x', '/root/secret/app.conf'])
      for (const [path, folder, at] of cases) {
        await assert.rejects(host.writeFileAtomic(path, 'attacker\n'), throughLink(folder), path)
        await assert.rejects(host.chmod(path, 0o666), throughLink(folder), path)
        await assert.rejects(host.exec('true', [], { writesIn: [path.slice(0, path.lastIndexOf('/'))] }), throughLink(folder), path)
        await assert.rejects(new LocalHost(root).readFile(path), readRefusedAt(new RegExp(`was reached at ${at.replace(/\./g, '\\.')}`)), path)
        await assert.rejects(new LocalHost(root).readFile(path, { follow: 'root-owned' }), readRefusedAt(/a symbolic link in a folder other users can write/), path)
      }
      assert.deepEqual(await readdir(join(root, 'root/secret')), ['app.conf'])
      assert.equal((await stat(join(root, 'root/secret/app.conf'))).mode & 0o777, 0o600)
      // Root's link into ann's home: the folder itself is followed.
      await host.writeFileAtomic('/opt/annconf/y', 'y\n')
      assert.equal(await readFile(join(root, 'srv/home/ann/.config/y'), 'utf8'), 'y\n')
    })

    it('the last name is never followed, root\'s link or not; a loop of root\'s links is refused', async () => {
      await symlink('/root/secret/app.conf', join(root, 'opt/conf-link'))
      await assert.rejects(host.chmod('/opt/conf-link', 0o666), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK' && /\/opt\/conf-link is a symbolic link/.test(e.message))
      await assert.rejects(host.readFile('/opt/conf-link'), readRefusedAt(/is a symbolic link/))
      // A write replaces the link itself.
      await host.writeFileAtomic('/opt/conf-link', 'new\n')
      assert.equal((await lstat(join(root, 'opt/conf-link'))).isFile(), true)
      assert.equal(await readFile(join(root, 'root/secret/app.conf'), 'utf8'), 'ROOT-ONLY\n')
      await symlink('/opt/loop2', join(root, 'opt/loop1'))
      await symlink('/opt/loop1', join(root, 'opt/loop2'))
      await assert.rejects(host.writeFileAtomic('/opt/loop1/f', 'x'), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK' && /below \/opt\/loop[12], a symbolic link/.test(e.message))
      await assert.rejects(host.readFile('/opt/loop1/f'), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_INVALID' && /Too many levels/.test(e.message))
    })

    it('a link this port made in this run is the twin\'s: never followed, though root owns it', async () => {
      await host.symlink('/root/secret', '/etc/made')
      await assert.rejects(host.writeFileAtomic('/etc/made/app.conf', 'attacker\n'), throughLink('/etc/made'))
      await assert.rejects(host.readFile('/etc/made/app.conf'), readRefusedAt(/was reached at \/root\/secret\/app\.conf/))
      assert.equal(await new LocalHost(root).readTextIfExists('/etc/made/app.conf'), 'ROOT-ONLY\n', 'a later run finds it root\'s')
      assert.equal(await readFile(join(root, 'root/secret/app.conf'), 'utf8'), 'ROOT-ONLY\n')
    })

    it('ann swaps her folder for a link after the check, below root\'s /home link: the write and the chmod are refused by the descriptor\'s own path, nothing lands where it leads', async () => {
      const swapping = host as unknown as { refuseThroughSymlink: (p: string, i?: boolean) => Promise<void> }
      const check = swapping.refuseThroughSymlink.bind(host)
      let swaps = 0
      swapping.refuseThroughSymlink = async (p, i) => {
        await check(p, i)
        swaps++
        await rename(join(root, 'srv/home/ann/.config'), join(root, `srv/home/ann/.config-${swaps}`))
        await symlink('/root/secret', join(root, 'srv/home/ann/.config'))
        await lchown(join(root, 'srv/home/ann/.config'), 1000, 1000)
      }
      const restore = async () => {
        await rm(join(root, 'srv/home/ann/.config'))
        await rename(join(root, `srv/home/ann/.config-${swaps}`), join(root, 'srv/home/ann/.config'))
      }
      await assert.rejects(host.writeFileAtomic('/home/ann/.config/app.conf', 'attacker\n'), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK' && /was reached at .*\/root\/secret\/\.app\.conf\.twinsync-/.test(e.message))
      await restore()
      await assert.rejects(host.chmod('/home/ann/.config/app.conf', 0o666), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK' && /was reached at .*\/root\/secret\/app\.conf/.test(e.message))
      await restore()
      assert.deepEqual(await readdir(join(root, 'root/secret')), ['app.conf'])
      assert.equal((await stat(join(root, 'root/secret/app.conf'))).mode & 0o777, 0o600)
      assert.equal(await readFile(join(root, 'root/secret/app.conf'), 'utf8'), 'ROOT-ONLY\n')
    })
  })

  it('writes atomically with the given mode and leaves no temp file', async () => {
    await host.writeFileAtomic('/etc/app/app.conf', 'a=1\n', { mode: 0o640, uid: 0, gid: 0 })
    const s = await stat(join(root, 'etc/app/app.conf'))
    assert.equal(s.mode & 0o7777, 0o640)
    assert.deepEqual((await host.readdir('/etc/app')).map((e) => e.name), ['app.conf'])
  })

  it('writes a file whose name is as long as the file system allows (its temp file name is cut to fit)', async () => {
    for (const name of ['a'.repeat(255), '\u00e9'.repeat(127), 'b'.repeat(232), '\u{1F600}'.repeat(63)]) {
      await host.writeFileAtomic(`/etc/app/${name}`, 'long\n', { mode: 0o644 })
      assert.equal(await readFile(join(root, 'etc/app', name), 'utf8'), 'long\n')
    }
    assert.equal((await host.readdir('/etc/app')).filter((e) => e.name.includes('twinsync-')).length, 0, 'a temp file left')
  })

  it('never changes a mode through a symlink in the final name: chmod (PATH_THROUGH_SYMLINK, the file it leads to untouched)', async () => {
    await writeFile(join(root, 'etc/shadow'), 'root:x:\n', { mode: 0o640 })
    await symlink('/etc/shadow', join(root, 'etc/app/notes'))
    const refused = (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK' && e.message.includes('/etc/app/notes is a symbolic link')
    await assert.rejects(host.chmod('/etc/app/notes', 0o666), refused)
    assert.equal((await stat(join(root, 'etc/shadow'))).mode & 0o7777, 0o640)
    // setAttributes on a link changes the link's owner only, never the mode of where it leads.
    await host.setAttributes('/etc/app/notes', { mode: 0o666 })
    assert.equal((await stat(join(root, 'etc/shadow'))).mode & 0o7777, 0o640)
  })

  it('a folder on the way made a symlink after the check, before the chmod: refused by the descriptor\'s own path, nothing changed where it leads', async () => {
    await mkdir(join(root, 'home/ann/notes'), { recursive: true })
    await chown(join(root, 'home/ann'), 1000, 1000)
    await writeFile(join(root, 'home/ann/notes/todo'), 'x\n', { mode: 0o600 })
    await mkdir(join(root, 'etc/secret'), { recursive: true })
    await writeFile(join(root, 'etc/secret/todo'), 'root only\n', { mode: 0o600 })
    // The swap lands between the port's lstat walk and its open (as a user racing it would).
    const swapping = host as unknown as { refuseThroughSymlink: (p: string, i?: boolean) => Promise<void> }
    const check = swapping.refuseThroughSymlink.bind(host)
    swapping.refuseThroughSymlink = async (p, i) => {
      await check(p, i)
      await rm(join(root, 'home/ann/notes'), { recursive: true })
      await symlink('../../etc/secret', join(root, 'home/ann/notes'))
    }
    await assert.rejects(host.chmod('/home/ann/notes/todo', 0o644), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK' && /was reached at .*\/etc\/secret\/todo/.test(e.message))
    assert.equal((await stat(join(root, 'etc/secret/todo'))).mode & 0o7777, 0o600)
  })

  it('a folder on the way made a symlink after the check, before the write: the temp file is found where the link led and removed, nothing written there (PATH_THROUGH_SYMLINK)', async () => {
    await mkdir(join(root, 'home/ann/notes'), { recursive: true })
    await chown(join(root, 'home/ann'), 1000, 1000)
    await mkdir(join(root, 'etc/cron.d'), { recursive: true })
    const swapping = host as unknown as { refuseThroughSymlink: (p: string, i?: boolean) => Promise<void> }
    const check = swapping.refuseThroughSymlink.bind(host)
    swapping.refuseThroughSymlink = async (p, i) => {
      await check(p, i)
      await rm(join(root, 'home/ann/notes'), { recursive: true })
      await symlink('../../etc/cron.d', join(root, 'home/ann/notes'))
    }
    await assert.rejects(host.writeFileAtomic('/home/ann/notes/job', '* * * * * root id\n'), (e: unknown) => isTwinSyncError(e) && e.code === 'PATH_THROUGH_SYMLINK' && /was reached at .*\/etc\/cron\.d\/\.job\.twinsync-/.test(e.message))
    assert.deepEqual(await readdir(join(root, 'etc/cron.d')), [])
  })

  it('a folder swapped for a symlink between the write and the rename: the rename finds no temp file there (ENOENT), nothing lands where the link leads', async () => {
    await mkdir(join(root, 'home/ann/notes'), { recursive: true })
    await mkdir(join(root, 'etc/cron.d'), { recursive: true })
    const swap = async () => {
      await rename(join(root, 'home/ann/notes'), join(root, 'home/ann/moved'))
      await symlink('../../etc/cron.d', join(root, 'home/ann/notes'))
    }
    await assert.rejects(writeFileAtomic(join(root, 'home/ann/notes/job'), 'x\n', { finish: swap }), { code: 'ENOENT' })
    assert.deepEqual(await readdir(join(root, 'etc/cron.d')), [])
  })

  it('keeps setuid bits that chown would clear', async () => {
    await host.writeFileAtomic('/etc/app/tool', '#!/bin/sh\n', { mode: 0o4755, uid: 0, gid: 0 })
    assert.equal((await host.lstat('/etc/app/tool'))?.mode, 0o4755)
  })

  it('removes an empty directory with rmdir and never what one holds: not-empty, gone, a symlink refused', async () => {
    await mkdir(join(root, 'etc/app/sub'))
    await writeFile(join(root, 'etc/app/sub/kept.conf'), 'kept\n')
    assert.equal(await host.rmdir('/etc/app/sub'), 'not-empty')
    assert.equal(await readFile(join(root, 'etc/app/sub/kept.conf'), 'utf8'), 'kept\n')
    await rm(join(root, 'etc/app/sub/kept.conf'))
    assert.equal(await host.rmdir('/etc/app/sub'), 'removed')
    assert.equal(await host.rmdir('/etc/app/sub'), 'gone')
    await symlink('/etc/app', join(root, 'etc/app-link'))
    await assert.rejects(host.rmdir('/etc/app-link'), /ENOTDIR/)
    assert.ok((await stat(join(root, 'etc/app'))).isDirectory(), 'a symlink is not followed')
  })

  it('removes one entry that is no folder with unlink, never a folder and what it holds: directory, gone, a symlink itself', async () => {
    await writeFile(join(root, 'etc/app/one.conf'), '1\n')
    assert.equal(await host.unlink('/etc/app/one.conf'), 'removed')
    assert.equal(await host.unlink('/etc/app/one.conf'), 'gone')
    await mkdir(join(root, 'etc/app/dir'))
    await writeFile(join(root, 'etc/app/dir/kept.conf'), 'kept\n')
    assert.equal(await host.unlink('/etc/app/dir'), 'directory')
    assert.equal(await readFile(join(root, 'etc/app/dir/kept.conf'), 'utf8'), 'kept\n')
    await symlink('/etc/app/dir', join(root, 'etc/app/link'))
    assert.equal(await host.unlink('/etc/app/link'), 'removed')
    assert.equal(await readFile(join(root, 'etc/app/dir/kept.conf'), 'utf8'), 'kept\n', 'a symlink is not followed')
  })

  it('runs commands with an argument list and returns non-zero exits', async () => {
    const r = await host.exec('sh', ['-c', 'echo "$1"; exit 3', 'sh', 'a; rm -rf /'])
    assert.equal(r.exitCode, 3)
    assert.equal(r.stdout, 'a; rm -rf /\n')
  })

  it("takes the distribution's program before one of the same name in /usr/local (a twin can have one made there), for which and for what it runs", async () => {
    for (const dir of ['usr/local/bin', 'usr/bin']) {
      await mkdir(join(root, dir), { recursive: true })
      await writeFile(join(root, dir, 'dpkg-query'), '#!/bin/sh\n', { mode: 0o755 })
    }
    await writeFile(join(root, 'usr/local/bin/only-local'), '#!/bin/sh\n', { mode: 0o755 })
    assert.equal(await host.which('dpkg-query', { inTarget: true }), '/usr/bin/dpkg-query')
    assert.equal(await host.which('only-local', { inTarget: true }), '/usr/local/bin/only-local', 'found where the distribution has none')
    const path = (await host.exec('sh', ['-c', 'printf %s "$PATH"'])).stdout.split(':')
    assert.ok(path.indexOf('/usr/bin') < path.indexOf('/usr/local/bin') && path.indexOf('/bin') < path.indexOf('/usr/local/sbin'), path.join(':'))
  })

  it('reports a missing program with a stable code', async () => {
    await assert.rejects(host.exec('no-such-program-twinsync', []), (e: unknown) => isTwinSyncError(e) && e.code === 'COMMAND_NOT_FOUND')
    assert.equal(await host.which('no-such-program-twinsync'), undefined)
    assert.ok(await host.which('sh'))
  })
})

describe('LocalHost: a reading program without execa (plain-query.ts)', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-query-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('gives what exec gives (output, errors, exit codes, a signal, a missing program, one in the target), and never loads execa', async () => {
    // A child node whose module resolution refuses execa: exec fails there, query must not.
    const hook = join(dir, 'no-execa.mjs')
    await writeFile(hook, `import { register } from 'node:module'\nregister('data:text/javascript,' + encodeURIComponent('export async function resolve(s, c, next) { if (s.includes("execa")) throw new Error("execa loaded"); return next(s, c) }'))\n`)
    const cases: Array<[string, string[], Record<string, unknown>]> = [
      ['sh', ['-c', 'printf "a; rm -rf /\\n"; printf "é\\377\\n" >&2; exit 3', 'sh'], {}],
      ['sh', ['-c', 'echo "$HOME:$LANG:$X"; pwd; read line; echo "[$line]"'], { env: { X: 'y' }, cwd: dir }],
      ['sh', ['-c', 'kill -TERM $$']],
      ['no-such-program-twinsync', []],
      ['no-such-program-twinsync', [], { inTarget: true }],
      ['true', [], { inTarget: true }],
    ].map(([c, a, o]) => [c as string, a as string[], (o ?? {}) as Record<string, unknown>])
    const script = `
      const { LocalHost } = await import(${JSON.stringify(join(process.cwd(), 'sdk/src/local-host.ts'))})
      const root = new LocalHost(${JSON.stringify(dir)})
      const out = []
      for (const [command, args, options] of ${JSON.stringify(cases)}) {
        const host = options.inTarget ? root : new LocalHost('/')
        out.push(await host[process.argv[1]](command, args, options).then((r) => r, (e) => ({ code: e.code, message: e.message })))
      }
      console.log(JSON.stringify(out))`
    const { execFileSync } = await import('node:child_process')
    const run = (method: 'query' | 'exec', block: boolean) =>
      JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', ...(block ? ['--import', hook] : []), '--input-type=module', '-e', script, method], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as unknown[]
    const byExec = run('exec', false)
    assert.deepEqual(run('query', true), byExec)
    assert.equal((byExec[0] as { exitCode: number }).exitCode, 3)
    assert.equal((byExec[2] as { exitCode: number }).exitCode, 1, 'killed by a signal: 1')
    assert.equal((byExec[3] as { code: string }).code, 'COMMAND_NOT_FOUND')
    assert.equal((byExec[4] as { code: string }).code, 'COMMAND_NOT_FOUND')
    assert.match(JSON.stringify(run('exec', true)[0]), /execa loaded/, 'the hook refuses execa')
  })
})

// Session 45: a program in the live target started in the folder TwinSync was run from, so a
// plans/ command's relative path named a file of wherever the person typed `twinsync apply` (the
// twin itself, when run from there), and another one than the rehearsal's chroot ran.
describe("LocalHost: a program in the target starts in the target's /", () => {
  let dir: string
  let was: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinsync-cwd-'))
    was = process.cwd()
    process.chdir(dir)
  })
  after(async () => {
    process.chdir(was)
    await rm(dir, { recursive: true, force: true })
  })

  it('in the live target: / whatever folder TwinSync runs in (exec and query alike); a folder asked is kept; on the host: its own', async () => {
    const live = new LocalHost('/')
    for (const call of ['exec', 'query'] as const) {
      assert.equal((await live[call]('pwd', [], { inTarget: true })).stdout, '/\n', call)
      assert.equal((await live[call]('pwd', [], { inTarget: true, cwd: '/tmp' })).stdout, '/tmp\n', `${call}: a folder asked is kept`)
      assert.equal((await live[call]('pwd', [])).stdout, `${await realCwd()}\n`, `${call}: on the host, its own`)
    }
  })
})

async function realCwd(): Promise<string> {
  const { realpath } = await import('node:fs/promises')
  return realpath(process.cwd())
}
