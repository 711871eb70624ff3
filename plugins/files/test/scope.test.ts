import { strict as assert } from 'node:assert'
import { existsSync, lstatSync } from 'node:fs'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryTwin, type Change, type Provider } from '@twinsync/sdk'
import { FilesProvider, type Manifest } from '../src/index.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

const provider = new FilesProvider()

function change(path: string, data: Record<string, unknown> = { action: 'write', path, text: 'x\n', sha256: '', mode: 0o644, uid: 0, gid: 0 }): Change {
  return { id: `files:create:${path}`, provider: 'files', category: 'files', operation: 'create', resource: path, summary: `Create ${path}`, risk: 'low', data }
}

describe('files provider: its scope (outOfScope), the rule of what a collect lists', () => {
  let root: TargetRoot
  before(() => {
    root = debianLikeRoot()
  })
  after(() => root.remove())

  it('names every change outside the include set, ignored (itself or a folder above it), a leftover, or with no path; none inside', async () => {
    const ctx = createTestContext(root.dir, { config: { include: ['/etc', '~/.config'], ignore: ['/etc/noise'] } })
    const changes = [
      change('/etc/app/new.conf'),
      change('/home/alice/.config/app/more.ini'),
      change('/root/.config/new.ini'),
      change('/root/evil-dir', { action: 'mkdir', path: '/root/evil-dir', mode: 0o755, uid: 0, gid: 0 }),
      change('/root/.ssh/authorized_keys'),
      change('/home/alice/.bashrc'),
      change('/etc/noise/deep/x.conf'),
      change('/etc/x/node_modules/y/z.js'),
      change('/etc/motd.dpkg-old'),
      { ...change('/etc/app/innocent.conf'), data: { action: 'write', path: '/usr/bin/sudo', text: '', sha256: '', mode: 0o4755, uid: 0, gid: 0 } },
      { ...change('/etc/app/nopath.conf'), data: { action: 'delete' } },
      change('/etc/wireguard/wg1.conf'),
      { ...change('/etc/wireguard'), data: { action: 'chmod', path: '/etc/wireguard', mode: 0o700 } },
    ]
    const found = await provider.outOfScope({ changes, ctx })
    assert.deepEqual(
      found.map((d) => [d.change, d.path, d.severity, d.code]),
      [
        ['files:create:/root/evil-dir', '/root/evil-dir', 'warning', 'FILES_OUTSIDE_SCOPE'],
        ['files:create:/root/.ssh/authorized_keys', '/root/.ssh/authorized_keys', 'warning', 'FILES_OUTSIDE_SCOPE'],
        ['files:create:/home/alice/.bashrc', '/home/alice/.bashrc', 'warning', 'FILES_OUTSIDE_SCOPE'],
        ['files:create:/etc/noise/deep/x.conf', '/etc/noise/deep/x.conf', 'warning', 'FILES_OUTSIDE_SCOPE'],
        ['files:create:/etc/x/node_modules/y/z.js', '/etc/x/node_modules/y/z.js', 'warning', 'FILES_OUTSIDE_SCOPE'],
        ['files:create:/etc/motd.dpkg-old', '/etc/motd.dpkg-old', 'warning', 'FILES_OUTSIDE_SCOPE'],
        ['files:create:/etc/app/innocent.conf', '/usr/bin/sudo', 'warning', 'FILES_OUTSIDE_SCOPE'],
        ['files:create:/etc/app/nopath.conf', '/etc/app/nopath.conf', 'warning', 'FILES_OUTSIDE_SCOPE'],
        // Content for a secret path (a document committed by hand, a pull); a mode change there is the provider's.
        ['files:create:/etc/wireguard/wg1.conf', '/etc/wireguard/wg1.conf', 'warning', 'FILES_OUTSIDE_SCOPE'],
      ],
    )
    assert.match(found[1]?.summary ?? '', /^Create \/root\/\.ssh\/authorized_keys: left out, .* outside the files provider's scope \(not under any path of files\.include\)/)
    assert.match(found[3]?.summary ?? '', /\/etc\/noise is ignored/)
    assert.match(found[0]?.detail ?? '', /add the path .* to files\.include in the configuration/)
  })

  it('a forged manifest entry outside the scope comes out of the diff, and outOfScope names it; the default include set too', async () => {
    const ctx = createTestContext(root.dir)
    const { documents } = await provider.collect({ ctx })
    const twin = new MemoryTwin(documents)
    const manifest = JSON.parse((await twin.readText('system/files/manifest.json')) ?? '') as Manifest
    manifest.entries.push({ path: '/root/evil-dir', type: 'directory', mode: '0755', owner: 'root', uid: 0, group: 'root', gid: 0 })
    twin.set('system/files/manifest.json', JSON.stringify(manifest))
    const desired = await provider.load({ ctx, twin })
    assert.ok(desired.state)
    const diff = provider.diff({ desired: desired.state, actual: (await provider.collect({ ctx })).state, ctx })
    assert.deepEqual(diff.changes.map((c) => c.id), ['files:mkdir:/root/evil-dir'], 'the diff alone would create it')
    assert.deepEqual((await provider.outOfScope({ changes: diff.changes, ctx })).map((d) => d.change), ['files:mkdir:/root/evil-dir'])
    assert.deepEqual(await provider.outOfScope({ changes: [change('/root/.config/app.ini'), change('/etc/new.conf')], ctx }), [])
  })

  it("never makes a folder another provider writes in a symlink (a link TwinSync made is root's in the next run, and root's folder links are followed): left out, and apply refuses it", async () => {
    const others = [
      { name: 'systemd', claims: ['/etc/rc?.d/*', '/etc/systemd/system/*.wants/*'] },
      { name: 'autostart', claims: ['/etc/xdg/autostart/*.desktop', '/home/*/.config/autostart/*.desktop'] },
    ] as unknown as Provider[]
    const ctx = createTestContext(root.dir, { providers: [provider, ...others], config: { include: ['/etc', '~/.config'] } })
    const link = (path: string, target: string): Change => ({ ...change(path), data: { action: 'symlink', path, target, uid: 0, gid: 0 } })
    const changes = [
      link('/etc/rc2.d', '/etc/sudoers.d'),
      link('/etc/xdg', '/root/x'),
      link('/etc/systemd/system/multi-user.target.wants', '/etc/sudoers.d'),
      link('/home/alice/.config/autostart', '/root/.config/autostart'),
      link('/etc/app/current', '/etc/app/v2'),
      link('/etc/rc2.d.note', '/etc/motd'),
    ]
    const found = await provider.outOfScope({ changes, ctx })
    assert.deepEqual(found.map((d) => d.change), changes.slice(0, 4).map((c) => c.id))
    assert.match(found[0]?.summary ?? '', /^Create \/etc\/rc2\.d: left out, \/etc\/rc2\.d is outside the files provider's scope \(systemd writes below it \(\/etc\/rc\?\.d\/\*\)/)
    assert.match(found[0]?.detail ?? '', /Keep it a real folder/)
    const { results } = await provider.apply({ changes: [changes[0] as Change], ctx })
    assert.equal(results[0]?.status, 'failed')
    assert.match(results[0]?.message ?? '', /systemd writes below it/)
    assert.equal(existsSync(root.path('/etc/rc2.d')) && lstatSync(root.path('/etc/rc2.d')).isSymbolicLink(), false)
  })

  it('apply itself refuses such a change, whoever calls it: failed, nothing written', async () => {
    const ctx = createTestContext(root.dir)
    const forged = [change('/root/evil-dir', { action: 'mkdir', path: '/root/evil-dir', mode: 0o755, uid: 0, gid: 0 }), change('/etc/node_modules/x/new.js'), change('/etc/wireguard/wg1.conf')]
    const { results } = await provider.apply({ changes: forged, ctx })
    assert.deepEqual(results.map((r) => r.status), ['failed', 'failed', 'failed'])
    assert.match(results[2]?.message ?? '', /a secret path .*whose content a twin never sets/)
    assert.equal(existsSync(root.path('/etc/wireguard/wg1.conf')), false)
    assert.match(results[0]?.message ?? '', /\/root\/evil-dir is outside the files provider's scope \(not under any path of files\.include\)/)
    assert.equal(existsSync(root.path('/root/evil-dir')), false)
    assert.equal(existsSync(root.path('/etc/node_modules/x/new.js')), false)
  })

  // Session 55: a pulled tree 300 folders deep (hostile-write.test.ts) asked each change's every
  // folder again, about 45,000 classOf calls for 301 changes (28 s of that test alone). Each folder
  // is asked once now; the answers are the same, an ignored folder deep in the tree too.
  it('asks about each folder once for all the changes below it (a tree 300 folders deep), with the same answers', async () => {
    const folders = Array.from({ length: 300 }, (_, i) => `/etc/${Array.from({ length: i + 1 }, (_, j) => `d${j}`).join('/')}`)
    const ctx = createTestContext(root.dir, { config: { include: ['/etc'], ignore: [folders[200] as string] } })
    let asked = 0
    const claims = ctx.claims
    const isClaimedByOther = claims.isClaimedByOther.bind(claims)
    claims.isClaimedByOther = (...args: Parameters<typeof isClaimedByOther>) => {
      asked++
      return isClaimedByOther(...args)
    }
    const changes = [...folders.map((f) => change(f, { action: 'mkdir', path: f, mode: 0o755, uid: 0, gid: 0 })), change(`${folders[299]}/f`)]
    const found = await provider.outOfScope({ changes, ctx })
    // Every change at or below /etc/d0/…/d200 is left out, naming that folder; none above it.
    assert.deepEqual(found.map((d) => d.path), changes.slice(200).map((c) => c.resource))
    assert.match(found[0]?.summary ?? '', /ignored \(files\.ignore or the built-in ignore list\)/)
    assert.match(found[100]?.summary ?? '', /\/d200 is ignored/)
    // One ask a path (and one more for each change left out): 403; 45,852 when each change asked its every folder.
    assert.ok(asked <= 2 * changes.length, `${asked} asks for ${changes.length} changes`)
  })
})
