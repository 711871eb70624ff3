import { strict as assert } from 'node:assert'
import { createTestContext } from '@twinsync/sdk/conformance'
import { SECRET_CHANGED, UNHELD_DIFFERS, unheldOperation, type Change } from '@twinsync/sdk'
import { FilesProvider, type FileEntry, type FilesState } from '../src/index.js'
import { sha256 } from '../src/content.js'
import { assertLinearTime } from '../../../test/support/linear-time.js'

// Pure: no file is touched. The context is only there because the contract passes one.
const ctx = createTestContext('/nonexistent-root-for-pure-diff')
const provider = new FilesProvider()

const accounts = { users: { root: 0, alice: 1000, www: 33 }, groups: { root: 0, shadow: 42, www: 33 } }

function file(path: string, text: string, extra: Partial<FileEntry> = {}): FileEntry {
  return { path, type: 'file', mode: '0644', owner: 'root', uid: 0, group: 'root', gid: 0, size: text.length, content: 'mirrored', sha256: sha256(text), text, ...extra }
}
function dir(path: string, extra: Partial<FileEntry> = {}): FileEntry {
  return { path, type: 'directory', mode: '0755', owner: 'root', uid: 0, group: 'root', gid: 0, ...extra }
}
function link(path: string, target: string): FileEntry {
  return { path, type: 'symlink', mode: '0777', owner: 'root', uid: 0, group: 'root', gid: 0, target }
}
function secret(path: string): FileEntry {
  return { path, type: 'file', mode: '0640', owner: 'root', uid: 0, group: 'shadow', gid: 42, size: 500, content: 'secret', secret: true, secretReason: 'path rule' }
}
function state(...entries: FileEntry[]): FilesState {
  return { entries, leftovers: [], accounts }
}
function diff(desired: FilesState, actual: FilesState): Change[] {
  return provider.diff({ desired, actual, ctx }).changes
}
const ids = (changes: readonly Change[]) => changes.map((c) => c.id)

describe('files provider: diff (pure)', () => {
  // No load() first: the unified diffs come from the SDK's one differ, whatever ran before.
  it('is empty for equal states', () => {
    const s = state(dir('/etc'), file('/etc/hosts', 'a\n'), link('/etc/localtime', '/usr/share/zoneinfo/UTC'))
    assert.deepEqual(diff(s, s), [])
  })

  it('replaces changed text with a unified diff and fingerprints the live file', () => {
    const live = file('/etc/hosts', '127.0.0.1 localhost\n', { origin: 'package-unmodified', package: 'netbase' })
    const [change, ...rest] = diff(state(file('/etc/hosts', '127.0.0.1 localhost\n10.0.0.2 db\n')), state(live))
    assert.equal(rest.length, 0)
    assert.equal(change?.id, 'files:replace:/etc/hosts')
    assert.equal(change?.risk, 'medium')
    assert.match(change?.diff ?? '', /^\+10\.0\.0\.2 db$/m)
    assert.match(change?.diff ?? '', /--- a\/etc\/hosts/)
    assert.match(change?.summary ?? '', /package default of netbase/)
    assert.match(change?.liveFingerprint ?? '', /^sha256:[0-9a-f]{64}$/)
    // A caller that shows no text diff (a snapshot's diary line) gets the same change without one.
    const wanted = state(file('/etc/hosts', '127.0.0.1 localhost\n10.0.0.2 db\n'))
    const [bare, ...none] = provider.diff({ desired: wanted, actual: state(live), ctx, patches: false }).changes
    assert.equal(none.length, 0)
    assert.equal(bare?.diff, undefined)
    const { diff: _patch, ...rest1 } = change as Change
    assert.deepEqual(bare, rest1)
  })

  it('says "modified from the package default" for a locally modified package file', () => {
    const live = file('/etc/motd', 'mine\n', { origin: 'package-modified', package: 'base-files' })
    const [change] = diff(state(file('/etc/motd', 'ours\n')), state(live))
    assert.match(change?.summary ?? '', /modified from the package default of base-files/)
  })

  it('creates directories before the files in them, and new symlinks', () => {
    const changes = diff(
      state(dir('/etc'), dir('/etc/app', { mode: '0750' }), file('/etc/app/app.conf', 'port=1\n'), link('/etc/app/current', 'app.conf')),
      state(dir('/etc')),
    )
    assert.deepEqual(ids(changes), ['files:mkdir:/etc/app', 'files:create:/etc/app/app.conf', 'files:create:/etc/app/current'])
    assert.deepEqual(changes[1]?.requires, ['files:mkdir:/etc/app'])
    assert.deepEqual(changes[0]?.data, { action: 'mkdir', path: '/etc/app', mode: 0o750, uid: 0, gid: 0 })
    assert.equal(changes[1]?.liveFingerprint, 'absent')
  })

  it('changes mode and owner of one path as one change, resolving names with the target\'s accounts', () => {
    // The twin says www (uid 48 where it was taken); this target's www is 33.
    const desired = file('/etc/app.conf', 'x\n', { mode: '0600', owner: 'www', uid: 48, group: 'www', gid: 48 })
    const changes = diff(state(desired), state(file('/etc/app.conf', 'x\n')))
    assert.deepEqual(ids(changes), ['files:attributes:/etc/app.conf'])
    assert.deepEqual(changes[0]?.data, { action: 'attributes', path: '/etc/app.conf', mode: 0o600, uid: 33, gid: 33 })
    assert.equal(changes[0]?.risk, 'low')
    assert.equal(changes[0]?.summary, 'Change mode of /etc/app.conf from 0644 to 0600 and owner from root:root to www:www')
  })

  // Session 45: a name the target does not have falls back to the entry's id; the change showed
  // the twin's name all the same ("r00t", "root\u00a0"), and apply gave the file to that id.
  it("shows the owner and group apply sets: a twin name this target lacks is shown by the target's name of the recorded id, or the number", () => {
    const created = diff(state(dir('/etc/app'), file('/etc/app/app.conf', 'x\n', { owner: 'r00t', uid: 1000, group: 'wheel\u00a0', gid: 33 })), state(dir('/etc/app')))
    assert.deepEqual(created.map((c) => [c.summary, c.after, (c.data as { uid?: number }).uid]), [['Create /etc/app/app.conf', `file 0644 alice:www 2 bytes sha256:${sha256('x\n').slice(0, 12)}`, 1000]])
    const chown = diff(state(file('/etc/a', 'x\n', { owner: 'root\u00a0', uid: 1000 })), state(file('/etc/a', 'x\n')))
    assert.deepEqual(chown.map((c) => [c.summary, c.data]), [['Change owner of /etc/a from root:root to alice:root', { action: 'chown', path: '/etc/a', uid: 1000, gid: 0 }]])
    // No account of the id here: the number, as the live side shows such a file.
    const unnamed = diff(state(file('/etc/a', 'y\n', { owner: 'r00t', uid: 4242 })), state(file('/etc/a', 'x\n')))
    assert.match(unnamed[0]?.summary ?? '', /, with owner root:root to 4242:root$/)
    assert.match(unnamed[0]?.after ?? '', /^file 0644 4242:root /)
    // A name the target has stays as the twin wrote it (its id is the target's).
    const known = diff(state(file('/etc/a', 'x\n', { owner: 'www', uid: 48, group: 'root', gid: 0 })), state(file('/etc/a', 'x\n')))
    assert.deepEqual(known.map((c) => [c.summary, c.data]), [['Change owner of /etc/a from root:root to www:root', { action: 'chown', path: '/etc/a', uid: 33, gid: 0 }]])
  })

  it('changes only the mode, or only the owner, as chmod or chown', () => {
    const modeOnly = diff(state(file('/etc/a', 'x\n', { mode: '0600' })), state(file('/etc/a', 'x\n')))
    assert.deepEqual(modeOnly.map((c) => c.data), [{ action: 'chmod', path: '/etc/a', mode: 0o600 }])
    const ownerOnly = diff(state(file('/etc/a', 'x\n', { owner: 'www', uid: 33, group: 'www', gid: 33 })), state(file('/etc/a', 'x\n')))
    assert.deepEqual(ownerOnly.map((c) => c.data), [{ action: 'chown', path: '/etc/a', uid: 33, gid: 33 }])
  })

  it('writes new content with its new mode and owner in the same change', () => {
    const desired = file('/etc/app.conf', 'y\n', { mode: '0600', owner: 'www', uid: 33, group: 'www', gid: 33 })
    const changes = diff(state(desired), state(file('/etc/app.conf', 'x\n')))
    assert.deepEqual(ids(changes), ['files:replace:/etc/app.conf'])
    assert.deepEqual({ ...(changes[0]?.data as object), sha256: undefined }, { action: 'write', path: '/etc/app.conf', text: 'y\n', sha256: undefined, mode: 0o600, uid: 33, gid: 33 })
    assert.match(changes[0]?.summary ?? '', /, with mode 0644 to 0600 and owner root:root to www:www$/)
  })

  it('rates a setuid change and a sudoers change higher', () => {
    const changes = diff(state(file('/usr/local/bin/t', 'x', { mode: '4755' }), file('/etc/sudoers', 'b\n')), state(file('/usr/local/bin/t', 'x', { mode: '0755' }), file('/etc/sudoers', 'a\n')))
    // Setuid granted: as high as capabilities (session 16; it was medium).
    assert.deepEqual(changes.map((c) => [c.id, c.risk]), [['files:replace:/etc/sudoers', 'high'], ['files:chmod:/usr/local/bin/t', 'high']])
    const dropped = diff(state(file('/usr/local/bin/t', 'x', { mode: '0755' })), state(file('/usr/local/bin/t', 'x', { mode: '4755' })))
    assert.deepEqual(dropped.map((c) => [c.id, c.risk]), [['files:chmod:/usr/local/bin/t', 'medium']], 'taking setuid away deserves a second look, no more')
  })

  // Session 16: a new setuid-root file the twin brings was rated low: no risk shown in the plan.
  it('rates a change that makes a file run as its owner or group high: a new setuid or setgid file, the bit added, such a file given another owner', () => {
    const made = diff(state(file('/usr/local/bin/s', 'x', { mode: '4755' }), file('/usr/local/bin/g', 'x', { mode: '2755' }), file('/usr/local/bin/plain', 'x', { mode: '0755' })), state())
    assert.deepEqual(made.map((c) => [c.id, c.risk]), [
      ['files:create:/usr/local/bin/g', 'high'],
      ['files:create:/usr/local/bin/plain', 'low'],
      ['files:create:/usr/local/bin/s', 'high'],
    ])
    const owned = diff(state(file('/usr/local/bin/s', 'x', { mode: '4755' })), state(file('/usr/local/bin/s', 'x', { mode: '4755', uid: 1000, owner: 'ann' })))
    assert.deepEqual(owned.map((c) => c.risk), ['high'])
  })

  it('retargets a symlink', () => {
    const [change] = diff(state(link('/etc/localtime', '/usr/share/zoneinfo/Europe/Paris')), state(link('/etc/localtime', '/usr/share/zoneinfo/UTC')))
    assert.equal(change?.id, 'files:symlink-retarget:/etc/localtime')
    assert.deepEqual(change?.data, { action: 'symlink', path: '/etc/localtime', target: '/usr/share/zoneinfo/Europe/Paris', uid: 0, gid: 0 })
  })

  it('deletes what the twin no longer has as high-risk changes, a directory with its contents as one', () => {
    const changes = diff(state(dir('/etc')), state(dir('/etc'), dir('/etc/old'), file('/etc/old/a', 'a'), file('/etc/stale', 's')))
    assert.deepEqual(ids(changes), ['files:delete:/etc/old', 'files:delete:/etc/stale'])
    assert.ok(changes.every((c) => c.risk === 'high'))
    assert.match(changes[0]?.summary ?? '', /1 entries below/)
  })

  it('never deletes or overwrites a secret or a file whose content the twin does not hold', () => {
    const binary = file('/etc/logo.png', '', { content: 'binary', sha256: 'a'.repeat(64) })
    delete binary.text
    const result = provider.diff({
      desired: state(dir('/etc'), file('/etc/shadow', 'root:x\n', { mode: '0640', group: 'shadow', gid: 42 }), dir('/etc/keys')),
      actual: state(dir('/etc'), secret('/etc/shadow'), binary, dir('/etc/keys'), secret('/etc/keys/k'), dir('/etc/ssl'), secret('/etc/ssl/private.key')),
      ctx,
    })
    assert.deepEqual(ids(result.changes), [])
    assert.ok(result.diagnostics.some((d) => d.path === '/etc/shadow' && d.code === 'FILES_LEFT_ALONE'))
    assert.ok(result.diagnostics.some((d) => d.path === '/etc/logo.png'))
  })

  // Session 33: these were FILES_LEFT_ALONE like a path not known to differ, and `status` said
  // "In sync" over a binary that changed under /etc (the plan leaves it, by design).
  it('says each file it leaves because the twin holds none of its content, and differs, as UNHELD_DIFFERS with the operation it cannot make', () => {
    const binary = (path: string, hash: string): FileEntry => {
      const entry = file(path, '', { content: 'binary', sha256: hash.repeat(64) })
      delete entry.text
      return entry
    }
    const result = provider.diff({
      desired: state(dir('/etc'), binary('/etc/aliases.db', 'a'), binary('/etc/gone.db', 'b'), file('/etc/grew', 'small\n'), secret('/etc/shadow'), binary('/etc/same.db', 'c'), dir('/etc/was-dir')),
      actual: state(dir('/etc'), binary('/etc/aliases.db', 'd'), binary('/etc/new.db', 'e'), file('/etc/grew', '', { content: 'too-large', sha256: 'f'.repeat(64) }), file('/etc/shadow', 'root:x\n', { mode: '0640', group: 'shadow', gid: 42 }), binary('/etc/same.db', 'c'), binary('/etc/was-dir', '0')),
      ctx,
    })
    assert.deepEqual(ids(result.changes), [])
    const said = result.diagnostics.filter((d) => d.code.startsWith('UNHELD_')).map((d) => [d.code, d.path]).sort()
    assert.deepEqual(said, [
      [UNHELD_DIFFERS.delete, '/etc/new.db'],
      [UNHELD_DIFFERS.create, '/etc/gone.db'],
      [UNHELD_DIFFERS.replace, '/etc/aliases.db'],
      [UNHELD_DIFFERS.replace, '/etc/grew'],
      [UNHELD_DIFFERS.replace, '/etc/was-dir'],
    ].sort())
    for (const d of result.diagnostics.filter((x) => x.code.startsWith('UNHELD_'))) assert.equal(unheldOperation(d) !== undefined && d.severity === 'info' && d.provider === 'files', true)
    // A secret on one side is said once, as SECRET_CHANGED; a binary the same on both sides is not said.
    assert.deepEqual(result.diagnostics.filter((d) => d.path === '/etc/shadow').map((d) => d.code), [SECRET_CHANGED])
    assert.equal(result.diagnostics.some((d) => d.path === '/etc/same.db'), false)
  })

  // Session 34: a folder the machine gained holding a binary and a text file was half deleted: the
  // plan deleted the text file and left the folder with the binary, and status listed them per file.
  it('keeps a folder the twin lacks whole when it holds a file the twin never saw: one note for the folder, nothing in it deleted', () => {
    const blob = file('/etc/vendor/blob.bin', '', { content: 'binary', sha256: 'b'.repeat(64) })
    delete blob.text
    const gained = [dir('/etc/vendor'), blob, file('/etc/vendor/readme', 'hi\n'), dir('/etc/vendor/sub'), file('/etc/vendor/sub/a.conf', 'a\n')]
    const result = provider.diff({ desired: state(dir('/etc'), dir('/etc/keep')), actual: state(dir('/etc'), dir('/etc/keep'), ...gained, file('/etc/keep/new', 'n\n')), ctx })
    // What else differs is still planned: the folder kept whole stops nothing beside it.
    assert.deepEqual(ids(result.changes), ['files:delete:/etc/keep/new'])
    const said = result.diagnostics.filter((d) => d.path?.startsWith('/etc/vendor') === true)
    assert.deepEqual(said.map((d) => [d.code, d.path]), [[UNHELD_DIFFERS.delete, '/etc/vendor']])
    assert.match(said[0]?.summary ?? '', /never saw the content of \/etc\/vendor\/blob\.bin .*not deleted, nor anything in it/)
    assert.equal(said[0]?.detail, 'a folder holding /etc/vendor/blob.bin, whose content the twin never saw, and 3 other entries: kept whole, nothing in it deleted')
    // A folder the twin wants as a file: the one note at the path says it, nothing below is deleted.
    const typed = provider.diff({ desired: state(dir('/etc'), file('/etc/vendor', 'x\n')), actual: state(dir('/etc'), ...gained), ctx })
    assert.deepEqual(ids(typed.changes), [])
    assert.deepEqual(typed.diagnostics.filter((d) => d.code.startsWith('UNHELD_')).map((d) => [d.code, d.path]), [[UNHELD_DIFFERS.replace, '/etc/vendor']])
  })

  // Session 34: a file over 64 MiB (never hashed: collect's MAX_HASHED_SIZE) on both sides that
  // changed size was not known to differ, so status said "In sync" over it.
  it('says a file hashed on neither side differs when its size differs (UNHELD_REPLACE), and not when it is the same size', () => {
    const big = (size: number): FileEntry => {
      const entry = file('/etc/big.img', '', { content: 'too-large', size })
      delete entry.text
      delete entry.sha256
      return entry
    }
    const grown = provider.diff({ desired: state(big(70_000_000)), actual: state(big(70_000_001)), ctx })
    assert.deepEqual(ids(grown.changes), [])
    assert.deepEqual(grown.diagnostics.map((d) => [d.code, d.path]), [[UNHELD_DIFFERS.replace, '/etc/big.img']])
    // Hashed on one side only (it shrank under 64 MiB): the size says it too.
    const shrunk = provider.diff({ desired: state(big(70_000_000)), actual: state({ ...big(1000), sha256: 'c'.repeat(64) }), ctx })
    assert.deepEqual(shrunk.diagnostics.map((d) => [d.code, d.path]), [[UNHELD_DIFFERS.replace, '/etc/big.img']])
    // The same size: not known to differ, so not said.
    assert.deepEqual(provider.diff({ desired: state(big(70_000_000)), actual: state(big(70_000_000)), ctx }).diagnostics, [])
  })

  it('notes a file that gained a secret (or lost its last one) as a changed secret, planning nothing for it', () => {
    const gained = provider.diff({ desired: state(file('/etc/default/worker', 'MODE=prod\n')), actual: state({ ...secret('/etc/default/worker'), mode: '0644', group: 'root', gid: 0 }), ctx })
    assert.deepEqual(ids(gained.changes), [])
    assert.ok(gained.diagnostics.some((d) => d.path === '/etc/default/worker' && d.code === SECRET_CHANGED), JSON.stringify(gained.diagnostics))
    const lost = provider.diff({ desired: state({ ...secret('/etc/default/worker'), mode: '0644', group: 'root', gid: 0 }), actual: state(file('/etc/default/worker', 'MODE=prod\n')), ctx })
    assert.deepEqual(ids(lost.changes), [])
    assert.ok(lost.diagnostics.some((d) => d.path === '/etc/default/worker' && d.code === SECRET_CHANGED))
  })

  it('does not create a file whose content was never copied, and keeps secret metadata changes', () => {
    const wanted = { ...secret('/etc/shadow'), mode: '0600' }
    const result = provider.diff({ desired: state(wanted, secret('/etc/gshadow')), actual: state(secret('/etc/shadow')), ctx })
    assert.deepEqual(ids(result.changes), ['files:chmod:/etc/shadow'])
    assert.ok(result.diagnostics.some((d) => d.path === '/etc/gshadow'))
  })

  it('replaces an entry of another type as a high-risk change', () => {
    const [change] = diff(state(file('/etc/resolv.conf', 'nameserver 1.1.1.1\n')), state(link('/etc/resolv.conf', '../run/resolv.conf')))
    assert.equal(change?.id, 'files:replace:/etc/resolv.conf')
    assert.equal(change?.risk, 'high')
    assert.equal((change?.data as { replaceType?: boolean }).replaceType, true)
  })
})

describe('files provider: diff of many deletes in time of the entries (session 39)', function () {
  this.timeout(300_000)
  it('20,000 folders the twin no longer has, out of name order, one a file the twin never saw: planned in time linear in the entries', () => {
    // Before: a filter of every entry for each folder deleted, and a look at every path deleted so
    // far for each entry: n² (27,000 folders took over 2 minutes of CPU in `plan`).
    const n = 20_000
    const name = (i: number) => `/gen/d${String(i).padStart(6, '0')}`
    const gone = Array.from({ length: n }, (_, i) => dir(name(n - 1 - i)))
    const actual = state(dir('/gen'), ...gone, file(`${name(7)}/kept.conf`, 'x\n'), secret(`${name(9)}/key`), dir('/gen-other'))
    const desired = state(dir('/gen'), file(`${name(7)}/kept.conf`, 'x\n'), dir('/gen-other'))
    let changes: Change[] = []
    assertLinearTime(() => {
      changes = diff(desired, actual)
    }, JSON.stringify(actual.entries), `${n} deletes planned`)
    assert.equal(changes.length, n - 2)
    assert.ok(changes.every((c) => c.operation === 'delete'))
    assert.ok(!changes.some((c) => c.resource === name(7) || c.resource === name(9)), 'a folder holding a wanted file or an unseen one is not deleted')
    assert.equal(changes[0]?.resource, name(0))
  })
})
