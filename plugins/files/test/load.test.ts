import { strict as assert } from 'node:assert'
import { readFileSync } from 'node:fs'
import { createTestContext } from '@twinsync/sdk/conformance'
import { MemoryTwin, TwinSyncError } from '@twinsync/sdk'
import { FilesProvider, type FilesState } from '../src/index.js'
import { debianLikeRoot, type TargetRoot } from './target-root.js'

describe('files provider: load of documents the manifest does not list', () => {
  let root: TargetRoot
  const provider = new FilesProvider()
  before(() => {
    root = debianLikeRoot()
  })
  after(() => root.remove())

  it('takes a new file in the include set as root-owned 0644; one outside it, ignored or secret by path is an entry too (no folders made for it), whose change outOfScope names', async () => {
    const ctx = createTestContext(root.dir, { config: { ignore: ['/etc/noise/**'] } })
    const actual = await provider.collect({ ctx })
    const twin = new MemoryTwin(actual.documents)
    twin.set('filesystem/etc/app/new.conf', 'setting = 1\n')
    twin.set('filesystem/opt/outside/app.conf', 'x\n')
    twin.set('filesystem/etc/noise/sub/log.conf', 'x\n')
    twin.set('filesystem/etc/wireguard/wg0.conf', 'x\n')
    const loaded = await provider.load({ ctx, twin })
    const added = (loaded.state as FilesState).entries.find((e) => e.path === '/etc/app/new.conf')
    assert.deepEqual(
      { ...added, sha256: undefined },
      { path: '/etc/app/new.conf', type: 'file', mode: '0644', owner: 'root', uid: 0, group: 'root', gid: 0, size: 12, content: 'mirrored', sha256: undefined, text: 'setting = 1\n' },
    )
    // No warning of its own: what the twin asks for is a change, left out by the one scope rule (scope.ts).
    assert.deepEqual(loaded.diagnostics, [])
    const diff = provider.diff({ desired: loaded.state as FilesState, actual: actual.state as FilesState, ctx })
    assert.deepEqual(
      diff.changes.map((c) => c.id).sort(),
      ['files:create:/etc/app/new.conf', 'files:create:/etc/noise/sub/log.conf', 'files:create:/etc/wireguard/wg0.conf', 'files:create:/opt/outside/app.conf'],
      'no folder is made for one outside the scope (/opt/outside, /etc/noise/sub, /etc/wireguard)',
    )
    const outside = await provider.outOfScope({ changes: diff.changes, ctx })
    assert.deepEqual(
      outside.map((d) => [d.change, d.code]),
      [
        ['files:create:/opt/outside/app.conf', 'FILES_OUTSIDE_SCOPE'],
        ['files:create:/etc/noise/sub/log.conf', 'FILES_OUTSIDE_SCOPE'],
        ['files:create:/etc/wireguard/wg0.conf', 'FILES_OUTSIDE_SCOPE'],
      ].sort((a, b) => diff.changes.findIndex((c) => c.id === a[0]) - diff.changes.findIndex((c) => c.id === b[0])),
    )
    assert.match(outside.find((d) => d.path === '/opt/outside/app.conf')?.summary ?? '', /not under any path of files\.include/)
    assert.match(outside.find((d) => d.path === '/etc/wireguard/wg0.conf')?.summary ?? '', /a secret path .*whose content a twin never sets/)
    assert.match(outside.find((d) => d.path === '/etc/wireguard/wg0.conf')?.detail ?? '', /Write the file on the machine itself/)
  })
})

describe('files provider: a path the manifest lists twice', () => {
  let root: TargetRoot
  const provider = new FilesProvider()
  const MANIFEST = 'system/files/manifest.json'
  type Entry = { path: string; mode: string; owner?: string; uid: number; group?: string; gid: number; [key: string]: unknown }
  before(() => {
    root = debianLikeRoot()
  })
  after(() => root.remove())

  /** The collected twin with /etc/app/owned listed a second time, as `copy` makes it of the collected entry. */
  async function twiceListed(copy: (collected: Entry) => Entry) {
    const ctx = createTestContext(root.dir)
    const collected = await provider.collect({ ctx })
    const twin = new MemoryTwin(collected.documents)
    const manifest = JSON.parse((await twin.readText(MANIFEST)) as string) as { entries: Entry[] }
    const at = manifest.entries.findIndex((e) => e.path === '/etc/app/owned')
    manifest.entries.splice(at, 0, copy(manifest.entries[at] as Entry))
    twin.set(MANIFEST, JSON.stringify(manifest, null, 2))
    return { ctx, actual: collected.state as FilesState, loaded: await provider.load({ ctx, twin }) }
  }

  it('reads it as one when both entries ask the same (one by hand: ids for names, no size, hash or origin), and says so', async () => {
    // alice is uid 1000 and webops gid 1234 in the target's own accounts.
    const { ctx, actual, loaded } = await twiceListed((e) => ({ path: e.path, type: 'file', mode: e.mode, owner: 'alice', uid: 0, gid: 1234, content: 'mirrored' }))
    assert.deepEqual(loaded.diagnostics.map((d) => [d.severity, d.code, d.path]), [['info', 'FILES_MANIFEST_DUPLICATE_MERGED', '/etc/app/owned']])
    const state = loaded.state as FilesState
    assert.equal(state.entries.filter((e) => e.path === '/etc/app/owned').length, 1)
    assert.deepEqual(provider.diff({ desired: state, actual, ctx }).changes, [], 'nothing to plan: the machine has it')
  })

  it('refuses it when the entries ask different things: FILES_MANIFEST_DUPLICATE, what differs, and the next step', async () => {
    const { loaded } = await twiceListed((e) => ({ ...e, mode: '0600' }))
    assert.equal(loaded.state, undefined)
    assert.deepEqual(loaded.diagnostics.map((d) => [d.severity, d.code]), [['error', 'FILES_MANIFEST_DUPLICATE']])
    assert.match(loaded.diagnostics[0]?.summary ?? '', /lists "\/etc\/app\/owned" twice, asking different things of it \(mode "0600" and "0640"\)/)
    assert.match(loaded.diagnostics[0]?.detail ?? '', /delete the other, then plan again; or drop every pending file edit with `twinsync discard files`/)
  })
})

describe('files provider: a document for a file the manifest lists as not mirrored (secret, binary, too large)', () => {
  let root: TargetRoot
  const provider = new FilesProvider()
  before(() => {
    root = debianLikeRoot()
  })
  after(() => root.remove())

  // What a person commits (or a mirror serves) at each such path; the secrets must go nowhere else.
  const DOCUMENTS: Record<string, string> = {
    '/etc/shadow': 'root:TWIN-SHADOW-HASH:19000:0:99999:7:::\n',
    '/etc/app/tokens.env': 'GITHUB_TOKEN=TWIN-TOKEN-VALUE\n',
    '/etc/app/logo.png': 'a logo as text now\n',
    '/etc/adduser.conf': 'DSHELL=/bin/zsh\n',
  }

  it('is a change planned without its content (`not-mirrored`), which outOfScope names by kind and apply refuses; before session 39 it was never read', async () => {
    // adduser.conf (17 bytes) is over maxFileSize here: recorded, never copied.
    const ctx = createTestContext(root.dir, { config: { maxFileSize: 16 } })
    const actual = await provider.collect({ ctx })
    const state = actual.state as FilesState
    const kinds = Object.keys(DOCUMENTS).map((path) => {
      const e = state.entries.find((x) => x.path === path)
      return [path, e?.secret === true ? 'secret' : e?.content]
    })
    assert.deepEqual(kinds, [['/etc/shadow', 'secret'], ['/etc/app/tokens.env', 'secret'], ['/etc/app/logo.png', 'binary'], ['/etc/adduser.conf', 'too-large']], 'the premise: none of them mirrored')
    const twin = new MemoryTwin(actual.documents)
    const untouched = await provider.load({ ctx, twin })
    assert.deepEqual(provider.diff({ desired: untouched.state as FilesState, actual: state, ctx }).changes, [], 'the snapshot as it is asks for nothing')

    for (const [path, text] of Object.entries(DOCUMENTS)) twin.set(`filesystem${path}`, text)
    const loaded = await provider.load({ ctx, twin })
    assert.deepEqual(loaded.diagnostics, [])
    const desired = loaded.state as FilesState
    for (const [path, text] of Object.entries(DOCUMENTS)) {
      const entry = desired.entries.find((e) => e.path === path)
      assert.equal(entry?.unmirroredDocument, Buffer.byteLength(text), path)
      assert.equal(entry?.text, undefined, `${path}: its content is not taken`)
    }
    const diff = provider.diff({ desired, actual: state, ctx })
    assert.deepEqual(
      diff.changes.map((c) => [c.id, (c.data as { action: string }).action, (c.data as { content?: string }).content]),
      [
        ['files:replace:/etc/adduser.conf', 'not-mirrored', 'too-large'],
        ['files:replace:/etc/app/logo.png', 'not-mirrored', 'binary'],
        ['files:replace:/etc/app/tokens.env', 'not-mirrored', 'secret'],
        ['files:replace:/etc/shadow', 'not-mirrored', 'secret'],
      ],
    )
    const seen = JSON.stringify([desired, diff])
    for (const secret of ['TWIN-SHADOW-HASH', 'TWIN-TOKEN-VALUE']) assert.ok(!seen.includes(secret), `${secret} is in no state, change or diagnostic`)

    const outside = await provider.outOfScope({ changes: diff.changes, ctx })
    assert.deepEqual(outside.map((d) => [d.change, d.code]), diff.changes.map((c) => [c.id, 'FILES_NOT_MIRRORED_NOT_PLANNED']))
    const said = Object.fromEntries(outside.map((d) => [d.path, d.summary]))
    assert.match(said['/etc/shadow'] ?? '', /^Replace \/etc\/shadow.*: left out, the twin has a document for it, but the file holds a secret .*never taken from the twin$/)
    assert.match(said['/etc/app/logo.png'] ?? '', /the file is binary/)
    assert.match(said['/etc/adduser.conf'] ?? '', /the file is bigger than maxFileSize/)
    assert.match(outside[0]?.detail ?? '', /Change the file on the machine itself/)
    // The line names the change it drops (a context without ProviderContext.twinsync: no --root, --repo or --config).
    assert.ok(outside[0]?.detail?.includes(`(\`twinsync discard ${outside[0]?.change}\`)`), outside[0]?.detail)

    // Apply itself refuses one, whoever calls (a plan file edited to hold it): failed, nothing written.
    const before = Object.keys(DOCUMENTS).map((p) => readFileSync(root.path(p)))
    const { results } = await provider.apply({ changes: diff.changes, ctx })
    assert.deepEqual(results.map((r) => r.status), ['failed', 'failed', 'failed', 'failed'])
    assert.match(results[0]?.message ?? '', /^\/etc\/adduser\.conf: the twin has a document for it, .*; not applied$/)
    assert.deepEqual(Object.keys(DOCUMENTS).map((p) => readFileSync(root.path(p))), before)
  })
})

describe('files provider: a twin document that is not UTF-8 text', () => {
  let root: TargetRoot
  const provider = new FilesProvider()
  before(() => {
    root = debianLikeRoot()
  })
  after(() => root.remove())

  it('for a mirrored file or a new one: a change planned without its content (`not-text`), which outOfScope names and apply refuses; before session 40 a warning, no change, and a snapshot dropped it silently', async () => {
    const ctx = createTestContext(root.dir)
    const actual = await provider.collect({ ctx })
    const state = actual.state as FilesState
    assert.equal(state.entries.find((e) => e.path === '/etc/motd')?.content, 'mirrored', 'the premise: motd is mirrored')
    const twin = new MemoryTwin(actual.documents)
    twin.set('filesystem/etc/motd', new Uint8Array([0x68, 0x69, 0xff, 0xfe, 0x0a]))
    twin.set('filesystem/etc/app/new.bin', new Uint8Array([0x61, 0, 0x62]))
    const loaded = await provider.load({ ctx, twin })
    assert.deepEqual(loaded.diagnostics, [], 'no warning of its own: a change, left out by the one scope rule')
    const desired = loaded.state as FilesState
    const motd = desired.entries.find((e) => e.path === '/etc/motd')
    assert.deepEqual([motd?.notText, motd?.text, motd?.content], [5, undefined, 'mirrored'])
    assert.equal(desired.entries.find((e) => e.path === '/etc/app/new.bin')?.notText, 3)
    const diff = provider.diff({ desired, actual: state, ctx })
    assert.deepEqual(
      diff.changes.map((c) => [c.id, (c.data as { action: string }).action, (c.data as { size?: number }).size]),
      [
        ['files:create:/etc/app/new.bin', 'not-text', 3],
        ['files:replace:/etc/motd', 'not-text', 5],
      ],
    )
    // The manifest's entry is as the snapshot wrote it: no place of it named besides the change.
    assert.deepEqual(provider.unapplied({ desired, actual: state, changes: diff.changes, ctx }), [])
    const outside = await provider.outOfScope({ changes: diff.changes, ctx })
    assert.deepEqual(outside.map((d) => [d.change, d.code]), diff.changes.map((c) => [c.id, 'FILES_NOT_TEXT_NOT_PLANNED']))
    assert.match(outside[1]?.summary ?? '', /^Replace \/etc\/motd.*: left out, the twin's document for it is not UTF-8 text/)
    assert.match(outside[0]?.detail ?? '', /Save the file under filesystem\/ as UTF-8 text/)
    assert.ok(outside[0]?.detail?.includes(`to drop the edit, \`twinsync discard ${outside[0]?.change}\`.`), outside[0]?.detail)

    const before = readFileSync(root.path('/etc/motd'))
    const { results } = await provider.apply({ changes: diff.changes, ctx })
    assert.deepEqual(results.map((r) => r.status), ['failed', 'failed'])
    assert.match(results[1]?.message ?? '', /^\/etc\/motd: the twin's document for it is not UTF-8 text.*; not applied$/)
    assert.deepEqual(readFileSync(root.path('/etc/motd')), before)
    assert.throws(() => readFileSync(root.path('/etc/app/new.bin')), /ENOENT/)
  })

  it('a symlink in the twin for a mirrored, a secret or a new file: `not-text` with `symlink`, FILES_TWIN_SYMLINK_NOT_PLANNED, never followed; before session 40 a warning, and a snapshot dropped it silently', async () => {
    const ctx = createTestContext(root.dir)
    const actual = await provider.collect({ ctx })
    const state = actual.state as FilesState
    assert.equal(state.entries.find((e) => e.path === '/etc/app/tokens.env')?.secret, true, 'the premise: tokens.env is secret')
    const links = new Set(['filesystem/etc/motd', 'filesystem/etc/app/tokens.env', 'filesystem/etc/app/linked.conf'])
    const twin = new MemoryTwin(actual.documents)
    for (const l of links) twin.set(l, '/etc/shadow')
    // As the git twin reader does: a link is listed, and never read (TWIN_SYMLINK).
    const reader = Object.assign(Object.create(twin) as MemoryTwin, {
      read: async (path: string) => {
        if (links.has(path)) throw new TwinSyncError('TWIN_SYMLINK', `${path} is a symlink in the twin`)
        return twin.read(path)
      },
      sizeOf: async (path: string) => (links.has(path) ? undefined : twin.sizeOf(path)),
    })
    const loaded = await provider.load({ ctx, twin: reader })
    assert.deepEqual(loaded.diagnostics, [])
    const diff = provider.diff({ desired: loaded.state as FilesState, actual: state, ctx })
    assert.deepEqual(
      diff.changes.map((c) => [c.id, (c.data as { action: string }).action, (c.data as { symlink?: true }).symlink]),
      [
        ['files:create:/etc/app/linked.conf', 'not-text', true],
        ['files:replace:/etc/app/tokens.env', 'not-text', true],
        ['files:replace:/etc/motd', 'not-text', true],
      ],
    )
    const outside = await provider.outOfScope({ changes: diff.changes, ctx })
    assert.deepEqual(outside.map((d) => d.code), ['FILES_TWIN_SYMLINK_NOT_PLANNED', 'FILES_TWIN_SYMLINK_NOT_PLANNED', 'FILES_TWIN_SYMLINK_NOT_PLANNED'])
    assert.match(outside[0]?.summary ?? '', /left out, the twin's document for it is a symlink, which is never followed/)
    assert.match(outside[0]?.detail ?? '', /Replace the link under filesystem\/ with the file's content/)
    const { results } = await provider.apply({ changes: diff.changes, ctx })
    assert.deepEqual(results.map((r) => r.status), ['failed', 'failed', 'failed'])
  })
})
