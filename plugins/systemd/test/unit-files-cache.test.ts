import { strict as assert } from 'node:assert'
import { appendFile, mkdir, mkdtemp, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalHost, MemoryCache, RACY_MS, type HostPort, type ProviderContext } from '@twinsync/sdk'
import { collectSystemdState } from '../src/collect.js'

/** A host port that counts the directories listed through it. */
function counting(host: HostPort): { host: HostPort; listed: () => number } {
  let listed = 0
  const wrapped = new Proxy(host, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown
      if (name === 'readdir') return (path: string) => (listed++, target.readdir(path))
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { host: wrapped, listed: () => listed }
}

/** Longer than the racy window: what was just written is trusted by its times. */
const settle = () => new Promise((resolve) => setTimeout(resolve, RACY_MS + 60))

describe('systemd: the unit files kept with the stat data of what they were read from', () => {
  let root: string
  const lib = (name: string) => join(root, 'usr/lib/systemd/system', name)
  const etc = (name: string) => join(root, 'etc/systemd/system', name)

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'twinsync-unit-cache-'))
    await mkdir(join(root, 'usr/lib/systemd/system'), { recursive: true })
    await mkdir(join(root, 'usr/lib/systemd/system-preset'), { recursive: true })
    await mkdir(join(root, 'etc/systemd/system'), { recursive: true })
    await symlink('usr/lib', join(root, 'lib'))
    await writeFile(lib('a.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
    await writeFile(lib('b.service'), '[Service]\nExecStart=/bin/true\n')
    await writeFile(lib('c@.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
    await writeFile(lib('multi-user.target'), '[Unit]\nDescription=Multi-User\n')
    await symlink('multi-user.target', lib('default.target'))
    await writeFile(join(root, 'usr/lib/systemd/system-preset/90-default.preset'), 'enable a.service\ndisable *\n')
    await writeFile(etc('d.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
  })
  afterEach(() => rm(root, { recursive: true, force: true }))

  it('an unchanged root is answered from the cache (nothing listed); every change of what it came from is seen, and equals a collect without a cache', async () => {
    const cache = new MemoryCache()
    const { host, listed } = counting(new LocalHost(root))
    const cached = async () => (await collectSystemdState({ host, cache } as unknown as ProviderContext)).state
    const fresh = async () => (await collectSystemdState({ host: new LocalHost(root), cache: new MemoryCache() } as unknown as ProviderContext)).state
    const agree = async (what: string) => {
      await settle()
      const before = listed()
      const [got, want] = [await cached(), await fresh()]
      assert.deepEqual(got, want, what)
      return { got, listedNow: listed() - before }
    }

    const first = await agree('the first collect')
    assert.ok(first.listedNow > 0, 'the first collect reads the directories')
    assert.equal(first.got.units['a.service']?.state, 'disabled')
    const again = await agree('unchanged')
    assert.equal(again.listedNow, 0, 'unchanged: nothing listed, the cache answers')

    // systemctl enable: a link in a .wants folder (a folder that did not exist).
    await mkdir(etc('multi-user.target.wants'))
    await symlink('/usr/lib/systemd/system/a.service', etc('multi-user.target.wants/a.service'))
    assert.equal((await agree('a unit enabled')).got.units['a.service']?.state, 'enabled')
    // An instance of the template enabled in the same folder (only that folder's listing moves).
    await symlink('/usr/lib/systemd/system/c@.service', etc('multi-user.target.wants/c@one.service'))
    assert.ok((await agree('an instance enabled')).got.startup.wantedAtBoot.includes('c@one.service'))
    // The administrator's own unit edited in place: its hash.
    const hash = (await agree('unchanged again')).got.units['d.service']?.hash
    await appendFile(etc('d.service'), '# edited\n')
    assert.notEqual((await agree('an admin unit edited in place')).got.units['d.service']?.hash, hash)
    // A vendor unit's [Install] rewritten in place (same folder listing): its state.
    await writeFile(lib('b.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
    assert.equal((await agree('a vendor unit gains [Install]')).got.units['b.service']?.state, 'disabled')
    // Masked: a link to /dev/null where the unit's name is.
    await symlink('/dev/null', etc('b.service'))
    assert.equal((await agree('a unit masked')).got.units['b.service']?.state, 'masked')
    // The presets file replaced by a new one (rename over it) and edited in place.
    await writeFile(join(root, 'usr/lib/systemd/system-preset/.new'), 'enable a.service\nenable b.service\ndisable *\n')
    await rename(join(root, 'usr/lib/systemd/system-preset/.new'), join(root, 'usr/lib/systemd/system-preset/90-default.preset'))
    await agree('presets replaced')
    await writeFile(join(root, 'usr/lib/systemd/system-preset/90-default.preset'), 'enable a.service\nenable d.service\ndisable *\n')
    assert.equal((await agree('presets edited in place')).got.units['d.service']?.preset, 'enabled')
    // A drop-in adds an alias; a search folder that was missing appears with a unit.
    await mkdir(lib('a.service.d'))
    await writeFile(lib('a.service.d/alias.conf'), '[Install]\nAlias=alpha.service\n')
    await agree('a drop-in')
    await mkdir(join(root, 'run/systemd/system'), { recursive: true })
    await writeFile(join(root, 'run/systemd/system/e.service'), '[Service]\nExecStart=/bin/true\n')
    assert.equal((await agree('a unit in a folder that did not exist')).got.units['e.service']?.state, 'static')
    // default.target pointed elsewhere (the link replaced).
    await rm(lib('default.target'))
    await writeFile(lib('graphical.target'), '[Unit]\nDescription=Graphical\n')
    await symlink('graphical.target', lib('default.target'))
    assert.equal((await agree('another default target')).got.startup.defaultTarget, 'graphical.target')
    // A unit moved from the vendor folder to the administrator's, its times kept (mv).
    await writeFile(lib('f.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
    await agree('a vendor unit')
    await rename(lib('f.service'), etc('f.service'))
    assert.ok((await agree('the unit moved to /etc')).got.units['f.service']?.hash !== undefined)
    // A second drop-in in a folder that had one, then the first edited in place.
    await writeFile(lib('a.service.d/more.conf'), '[Install]\nAlias=alpha2.service\n')
    await agree('another drop-in')
    await writeFile(lib('a.service.d/alias.conf'), '[Install]\nAlias=alpha3.service\n')
    await agree('a drop-in edited in place')
    assert.equal((await agree('unchanged at the end')).listedNow, 0)
  })

  it('a first collect asks no path its lstat or stat again for the cache when the work itself asked it (session 52), and what it keeps answers unchanged', async () => {
    await settle()
    const asked = new Map<string, number>()
    const local = new LocalHost(root)
    const host = new Proxy(local, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown
        if (name === 'lstat' || name === 'stat') {
          return (path: string) => {
            const key = `${String(name)} ${path}`
            asked.set(key, (asked.get(key) ?? 0) + 1)
            return name === 'lstat' ? target.lstat(path) : target.stat(path)
          }
        }
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const cache = new MemoryCache()
    const first = (await collectSystemdState({ host, cache } as unknown as ProviderContext)).state
    const twice = [...asked].filter(([, n]) => n > 1).map(([key]) => key)
    // Only the work's own second asks: the administrator's unit file (its hash: collect.ts looks
    // whether it is a file) and multi-user.target (reached as a unit and through default.target).
    // Before, each unit file's lstat (unit_file_load_or_readlink) was asked again for the cache, as
    // was the stat of each file it read.
    assert.deepEqual(twice, ['lstat /etc/systemd/system/d.service', 'lstat /lib/systemd/system/multi-user.target'], 'asked twice in one first collect')
    assert.ok(asked.has('lstat /lib/systemd/system/a.service'), 'the work asks a unit file its lstat')
    asked.clear()
    await settle()
    const { host: counted, listed } = counting(new LocalHost(root))
    const again = (await collectSystemdState({ host: counted, cache } as unknown as ProviderContext)).state
    assert.deepEqual(again, first)
    assert.equal(listed(), 0, 'the kept stat data answer the next collect')
  })

  it("a unit's [Install] section parsed from a file changed too recently to trust its times is parsed again, even when an edit in that moment kept its stat data", async () => {
    // The kernel's clock is coarse (a jiffy; whole seconds on some file systems): a same-size edit
    // right after a read may leave size, times and inode as they were. The host below gives b.service's
    // first stat data after the edit, as such a clock would.
    const frozen = new Map<string, unknown>()
    let freeze = false
    const local = new LocalHost(root)
    const host = new Proxy(local, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown
        if ((name === 'lstat' || name === 'stat') && typeof value === 'function') {
          return async (path: string) => {
            const key = `${String(name)}:${path}`
            if (freeze && frozen.has(key)) return frozen.get(key)
            const st = await (value as (p: string) => Promise<unknown>).call(target, path)
            if (path.endsWith('/b.service')) frozen.set(key, st)
            return st
          }
        }
        return typeof value === 'function' ? value.bind(target) : value
      },
    }) as HostPort
    const cache = new MemoryCache()
    await writeFile(lib('b.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')
    const first = (await collectSystemdState({ host, cache } as unknown as ProviderContext)).state
    assert.equal(first.units['b.service']?.state, 'disabled')
    await writeFile(lib('b.service'), '[Service]\nExecStart=/bin/true\n[Instal_]\nWantedBy=multi-user.target\n')
    freeze = true
    assert.ok(frozen.size > 0, 'the unit was looked at')
    const second = (await collectSystemdState({ host, cache } as unknown as ProviderContext)).state
    assert.equal(second.units['b.service']?.state, 'static', 'no [Install] section any more')
  })

  it('a change too recent to trust its times is read, and not kept: the next collect reads again', async () => {
    const cache = new MemoryCache()
    const { host, listed } = counting(new LocalHost(root))
    const collect = async () => (await collectSystemdState({ host, cache } as unknown as ProviderContext)).state
    await settle()
    await collect()
    await appendFile(etc('d.service'), '# edited\n')
    // Its times an hour ahead: too recent to trust however late the collect starts (under load one
    // started more than RACY_MS after the edit, and kept it); then back in the past, not on a whole second.
    const ahead = new Date(Date.now() + 3_600_000)
    await utimes(etc('d.service'), ahead, ahead)
    const before = listed()
    const racy = await collect()
    assert.ok(listed() > before, 'read, not taken from the cache')
    assert.deepEqual(racy, (await collectSystemdState({ host: new LocalHost(root), cache: new MemoryCache() } as unknown as ProviderContext)).state)
    const past = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000 + 123)
    await utimes(etc('d.service'), past, past)
    await settle()
    const after = listed()
    await collect()
    assert.ok(listed() > after, 'nothing was kept from the racy collect: read again')
    const last = listed()
    await collect()
    assert.equal(listed(), last, 'then kept')
  })
})
