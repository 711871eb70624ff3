import { strict as assert } from 'node:assert'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryCache, validatorOf, type Provider, type TwinDocument } from '@twinsync/sdk'
import { FilesProvider, type Manifest, type ManifestEntry } from '../src/index.js'
import { parseManifest } from '../src/manifest.js'
import { Manifest as ManifestSchema } from '../src/state.js'
import { debianLikeRoot, PEM_KEY, type TargetRoot } from './target-root.js'

const autostart: Provider = {
  name: 'autostart',
  version: '0.1.0',
  category: 'startup',
  description: 'test double that claims .desktop entries',
  twinPaths: [],
  claims: ['/etc/xdg/autostart/*.desktop'],
  detect: async () => ({ detected: true, diagnostics: [] }),
  collect: async () => ({ state: {}, documents: [], diagnostics: [] }),
}

function manifestOf(documents: readonly TwinDocument[]): Manifest {
  const doc = documents.find((d) => d.path === 'system/files/manifest.json')
  assert.ok(doc, 'collect writes system/files/manifest.json')
  return JSON.parse(String(doc.content)) as Manifest
}

function entry(manifest: Manifest, path: string): ManifestEntry {
  const found = manifest.entries.find((e) => e.path === path)
  assert.ok(found, `the manifest lists ${path}`)
  return found
}

describe('files provider: collect', () => {
  let root: TargetRoot
  let manifest: Manifest
  let documents: TwinDocument[]
  const provider = new FilesProvider()
  // One twin's cache: it holds the key of the secrets' keyed hash.
  const cache = new MemoryCache()

  before(async () => {
    root = debianLikeRoot()
    const ctx = createTestContext(root.dir, { providers: [autostart], config: { maxFileSize: 4096 }, cache })
    root.file('/etc/big.conf', 'x'.repeat(5000))
    const result = await provider.collect({ ctx })
    documents = result.documents
    manifest = manifestOf(documents)
  })
  after(() => root.remove())

  it('mirrors text files into filesystem/<path> and records owner, group and mode', () => {
    const hosts = documents.find((d) => d.path === 'filesystem/etc/hosts')
    assert.equal(String(hosts?.content), '127.0.0.1 localhost\n')
    assert.deepEqual(
      { mode: entry(manifest, '/etc/sudoers').mode, owner: entry(manifest, '/etc/sudoers').owner, group: entry(manifest, '/etc/sudoers').group },
      { mode: '0440', owner: 'root', group: 'root' },
    )
  })

  it('makes a manifest that passes its schema (plan trusts a twin manifest equal to it); an edit of it is checked again', () => {
    const text = String(documents.find((d) => d.path === 'system/files/manifest.json')?.content)
    assert.equal(validatorOf(ManifestSchema).Check(JSON.parse(text)), true, 'what collect makes is a valid manifest')
    assert.ok('manifest' in parseManifest(text))
    // The same text with one mode no longer four octal digits: not what this process made, so checked and refused.
    const edited = text.replace(/"mode": ?"0644"/, '"mode":"644x"')
    assert.notEqual(edited, text)
    assert.match((parseManifest(edited) as { problem: string }).problem, /mode/)
  })

  it('names owners and groups from the target\'s own passwd and group files, with their ids', () => {
    const owned = entry(manifest, '/etc/app/owned')
    assert.deepEqual([owned.owner, owned.uid, owned.group, owned.gid, owned.mode], ['alice', 1000, 'webops', 1234, '0640'])
  })

  it('keeps setuid, setgid and sticky bits, symlinks as links, and empty directories', () => {
    assert.equal(entry(manifest, '/usr/local/bin/tool').mode, '4755')
    assert.ok(documents.find((d) => d.path === 'filesystem/usr/local/bin/tool')?.executable)
    const localtime = entry(manifest, '/etc/localtime')
    assert.deepEqual([localtime.type, localtime.target], ['symlink', '/usr/share/zoneinfo/Etc/UTC'])
    const empty = entry(manifest, '/etc/empty.d')
    assert.deepEqual([empty.type, empty.mode, empty.empty], ['directory', '0750', true])
  })

  it('marks secrets by path and by content, records them as present, and never copies their bytes', () => {
    for (const path of ['/etc/shadow', '/etc/gshadow-', '/etc/ssh/ssh_host_ed25519_key', '/etc/ssl/private/site.key', '/etc/app/app.conf', '/etc/app/tokens.env', '/etc/app/aws.env', '/etc/app/slack.env']) {
      const e = entry(manifest, path)
      assert.equal(e.secret, true, `${path} is secret`)
      assert.equal(e.content, 'secret')
      assert.equal(e.sha256, undefined, `${path} has no plain hash in the twin`)
      assert.match(e.secretHash ?? '', /^hmac-sha256:[0-9a-f]{64}$/, `${path} has a keyed hash`)
      assert.ok(e.size !== undefined && e.size > 0)
      assert.ok(!documents.some((d) => d.path === `filesystem${path}`), `${path} is not mirrored`)
    }
    assert.equal(entry(manifest, '/etc/app/app.conf').secretReason, 'private-key')
    const everything = Buffer.concat(documents.map((d) => Buffer.from(d.content)))
    for (const needle of ['PRIVATE KEY', PEM_KEY.split('\n')[1] as string, 'secrethash', 'ghp_aaaa', 'AKIAABCDEFGHIJKLMNOP', 'xoxb-1234567890']) {
      assert.equal(everything.includes(needle), false, `${needle} appears in no twin document`)
    }
    assert.equal(entry(manifest, '/etc/ssh/ssh_host_ed25519_key.pub').content, 'mirrored')
  })

  it('records binary and oversized files with size and hash but does not copy them', () => {
    for (const [path, kind] of [['/etc/app/logo.png', 'binary'], ['/etc/big.conf', 'too-large']] as const) {
      const e = entry(manifest, path)
      assert.equal(e.content, kind)
      assert.match(e.sha256 ?? '', /^[0-9a-f]{64}$/)
      assert.ok(!documents.some((d) => d.path === `filesystem${path}`))
    }
  })

  it('leaves out ignored noise, lists dpkg leftovers apart, and skips paths other providers claim', () => {
    const paths = new Set(manifest.entries.map((e) => e.path))
    for (const path of ['/etc/hosts.swp', '/etc/ld.so.cache', '/etc/node_modules', '/home/alice/.cache', '/etc/motd.dpkg-dist', '/etc/xdg/autostart/app.desktop']) {
      assert.equal(paths.has(path), false, `${path} is not in the manifest`)
    }
    assert.deepEqual(manifest.leftovers, ['/etc/motd.dpkg-dist'])
  })

  it('mirrors the dotfiles and ~/.config of root and of users with uid >= 1000 and a home', () => {
    assert.ok(documents.some((d) => d.path === 'filesystem/home/alice/.bashrc'))
    assert.ok(documents.some((d) => d.path === 'filesystem/home/alice/.config/app/settings.ini'))
    assert.equal(entry(manifest, '/root/.profile').mode, '0600')
    assert.ok(!manifest.entries.some((e) => e.path.startsWith('/home/ghost')))
  })

  it('tells package files as shipped, package files modified locally, and local files apart', () => {
    assert.deepEqual([entry(manifest, '/etc/adduser.conf').origin, entry(manifest, '/etc/adduser.conf').package], ['package-unmodified', 'adduser'])
    assert.deepEqual([entry(manifest, '/etc/hosts').origin, entry(manifest, '/etc/hosts').package], ['package-unmodified', 'netbase'])
    assert.deepEqual([entry(manifest, '/etc/motd').origin, entry(manifest, '/etc/motd').package], ['package-modified', 'base-files'])
    assert.equal(entry(manifest, '/etc/app/owned').origin, 'local')
    assert.equal(entry(manifest, '/home/alice/.bashrc').origin, undefined)
  })

  it('gives byte-identical documents on a second collect', async () => {
    const again = await provider.collect({ ctx: createTestContext(root.dir, { providers: [autostart], config: { maxFileSize: 4096 }, cache }) })
    assert.deepEqual(again.documents.map((d) => [d.path, String(d.content)]), documents.map((d) => [d.path, String(d.content)]))
  })

  it('honours configured users, includes, ignores and secret paths', async () => {
    const ctx = createTestContext(root.dir, {
      config: { include: ['/etc/app', '~/.bashrc'], users: ['alice'], ignore: ['/etc/app/*.env'], secrets: { paths: ['/etc/app/owned'], detectContent: true } },
    })
    const m = manifestOf((await provider.collect({ ctx })).documents)
    assert.deepEqual(
      m.entries.map((e) => e.path),
      ['/etc/app', '/etc/app/app.conf', '/etc/app/logo.png', '/etc/app/owned', '/home/alice/.bashrc'],
    )
    assert.equal(entry(m, '/etc/app/owned').secret, true)
  })

  it('detects any target with /etc', async () => {
    assert.equal((await provider.detect({ ctx: createTestContext(root.dir) })).detected, true)
    assert.equal((await provider.detect({ ctx: createTestContext(root.path('/home')) })).detected, false)
  })
})

/**
 * Session 45: a machine's own .gitmodules (a plugin manager's in ~/.config/nvim, a checkout under
 * /etc) was mirrored as it is; git's fsck judges such a blob in any folder, so a hostile or
 * malformed one made a mirror that checks what it is sent (GitHub) refuse that push and every
 * later one. Such a file is left out, named; a sound one is mirrored.
 */
describe('files provider: a .gitmodules or .gitattributes git fsck refuses', () => {
  let root: TargetRoot
  const provider = new FilesProvider()
  const cache = new MemoryCache()
  before(() => {
    root = debianLikeRoot()
    root.file('/etc/hostile/.gitmodules', '[submodule "x"]\n\tpath = x\n\turl = -u./payload\n')
    root.file('/etc/hostile/.GITATTRIBUTES', `${'a'.repeat(3000)} text\n`)
    root.file('/etc/sound/.gitmodules', '[submodule "p"]\n\tpath = p\n\turl = https://github.com/a/p\n')
  })
  after(() => root.remove())

  it('leaves it out of the manifest and the documents with FILES_GIT_REFUSES_CONTENT naming it and why, at every collect (the stat cache known or not); a sound one is mirrored', async () => {
    for (const run of ['first', 'cached']) {
      const ctx = createTestContext(root.dir, { providers: [autostart], cache })
      const result = await provider.collect({ ctx })
      const paths = result.documents.map((d) => d.path)
      assert.ok(paths.includes('filesystem/etc/sound/.gitmodules'), run)
      assert.ok(!paths.some((p) => p.startsWith('filesystem/etc/hostile/')), `${run}: ${paths.filter((p) => p.includes('hostile')).join(', ')}`)
      const listed = manifestOf(result.documents).entries.map((e) => e.path)
      assert.ok(listed.includes('/etc/sound/.gitmodules') && !listed.includes('/etc/hostile/.gitmodules') && !listed.includes('/etc/hostile/.GITATTRIBUTES'), run)
      const said = result.diagnostics.filter((d) => d.code === 'FILES_GIT_REFUSES_CONTENT')
      assert.deepEqual(said.map((d) => [d.severity, d.path]), [['warning', '/etc/hostile/.GITATTRIBUTES'], ['warning', '/etc/hostile/.gitmodules']], run)
      assert.match(said[1]?.summary ?? '', /^\/etc\/hostile\/\.gitmodules is left out of the twin: a submodule url beginning with - \(gitmodulesUrl\): "-u\.\/payload"; a mirror that checks what it is sent \(GitHub does\) would refuse every push holding it$/)
      assert.match(said[1]?.detail ?? '', /twinsync forget \/etc\/hostile\/\.gitmodules/)
    }
  })
})
