// A person's edit of one manifest entry that is partly planned: a secret file flipped to
// `"content": "mirrored"` with a document AND its mode changed (the chmod is planned, the flip
// cannot be); a mirrored file's text edited AND a secretHash put beside it (the write is planned,
// the hash cannot be). Before session 40 the path's change hid the rest: `status` listed only the
// chmod (or the write), the apply undid the whole entry's edit with the change's places after the
// step ran, and its snapshot dropped the rest without a word. Then a mirrored file's document
// replaced by bytes that are not UTF-8 text, or by a symlink: a load warning only, "in sync", and the next
// snapshot put the old text back silently. Now each is pending, named, kept by snapshots and the
// apply, until discarded, and what the plan can do (the chmod, the write) runs. Real binary.
import { strict as assert } from 'node:assert'
import { lstat, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { commitTwin, json, recordingTwinsync, smallCliRoot, type CliSandbox } from '../support/cli.js'

interface StatusJson {
  pending: { count: number; items: Array<{ id: string; reason: string; code?: string; nextStep?: string }> }
}
interface PlanJson {
  changes: Array<{ id: string }>
  diagnostics: Array<{ code: string; change?: string }>
}
interface Entry {
  path: string
  mode?: string
  content?: string
  secret?: true
  secretHash?: string
  secretReason?: string
  [k: string]: unknown
}

const MACHINE_PASSWORD = fakeChars('s40-sp-machine', 24)
const TWIN_PASSWORD = fakeChars('s40-sp-twin', 24)
const NOT_TEXT = new Uint8Array([0x68, 0x69, 0xff, 0xfe, 0x0a])
const FILES = {
  'etc/app/db.conf': `db_password = "${MACHINE_PASSWORD}"\n`,
  'etc/app/plain.conf': 'hello\n',
  'etc/app/other.conf': 'other\n',
  'etc/app/linked.conf': 'linked\n',
  'etc/app/typed.conf': 'typed\n',
}
const MANIFEST = 'system/files/manifest.json'
const field = (path: string, name?: string) => `files:describe:${MANIFEST}#entries/path=${path}${name === undefined ? '' : `/${name}`}`
const CODE = 'DESCRIPTION_EDIT_NOT_APPLIED'

describe('an entry edit partly planned (a flip beside a chmod, a secretHash beside a text edit) and a document that is not text: the rest pending, never dropped by the apply or a snapshot', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  const { twinsync, printed } = recordingTwinsync(() => ({ cli, root }))
  const status = async () => json<StatusJson>(await twinsync('status', '--json'))
  const ids = async () => (await status()).pending.items.map((i) => i.id).sort()
  const manifest = async () => JSON.parse(await readFile(join(cli.twinDir, MANIFEST), 'utf8')) as { entries: Entry[] }
  const entryOf = async (path: string) => (await manifest()).entries.find((e) => e.path === path)
  const editManifest = async (edit: (e: Entry) => Entry) => {
    const m = await manifest()
    m.entries = m.entries.map(edit)
    await writeFile(join(cli.twinDir, MANIFEST), `${JSON.stringify(m, null, 2)}\n`)
  }
  const head = async (path: string) => (await run(['git', '-C', cli.twinDir, 'show', `HEAD:${path}`])).stdout
  const modeOf = async (path: string) => ((await stat(join(root, path))).mode & 0o7777).toString(8)

  before(async () => {
    ;({ cli, root } = await smallCliRoot({ files: FILES }))
    const db = await entryOf('/etc/app/db.conf')
    assert.deepEqual([db?.content, db?.secret, db?.mode, (await entryOf('/etc/app/plain.conf'))?.content], ['secret', true, '0644', 'mirrored'], 'the premise')
  })
  after(() => cli.cleanup())
  afterEach(() => assert.ok(!printed().includes(TWIN_PASSWORD) && !printed().includes(MACHINE_PASSWORD), 'a secret was printed'))

  it('a secret file flipped to mirrored with a document and its mode changed: the chmod applies, the flip stays pending through the apply and its snapshot, discard drops it', async () => {
    await editManifest((e) => {
      if (e.path !== '/etc/app/db.conf') return e
      const { secret: _s, secretHash: _h, secretReason: _r, ...rest } = e
      return { ...rest, content: 'mirrored', mode: '0600' }
    })
    await mkdir(join(cli.twinDir, 'filesystem/etc/app'), { recursive: true })
    await writeFile(join(cli.twinDir, 'filesystem/etc/app/db.conf'), `db_password = "${TWIN_PASSWORD}"\n`)
    await commitTwin(cli.twinDir, 'flip db.conf to mirrored, and chmod it')

    const before = await status()
    const flip = ['files:describe:filesystem/etc/app/db.conf', field('/etc/app/db.conf', 'content'), field('/etc/app/db.conf', 'secret'), field('/etc/app/db.conf', 'secretHash')]
    assert.deepEqual(before.pending.items.map((i) => [i.id, i.code]).sort(), [['files:chmod:/etc/app/db.conf', undefined], ...flip.map((id) => [id, CODE])].sort(), JSON.stringify(before.pending))
    assert.match(before.pending.items.find((i) => i.id === field('/etc/app/db.conf', 'content'))?.nextStep ?? '', /the plan changes only the mode of \/etc\/app\/db\.conf, never its "content"/)
    const plan = json<PlanJson>(await twinsync('plan', '--json'))
    assert.deepEqual(plan.changes.map((c) => c.id), ['files:chmod:/etc/app/db.conf'])
    assert.deepEqual(plan.diagnostics.filter((d) => d.code === CODE).map((d) => d.change).sort(), flip.sort(), 'the plan names what it leaves out')

    const applied = json<{ applied: boolean }>(await twinsync('apply', '--yes', '--json'))
    assert.equal(applied.applied, true)
    assert.equal(await modeOf('etc/app/db.conf'), '600', 'the chmod ran')
    assert.equal(await readFile(join(root, 'etc/app/db.conf'), 'utf8'), FILES['etc/app/db.conf'], 'the content is not taken from the twin')
    // After the apply's snapshot: the flip is pending, as one entry, with its document.
    const after = ['files:describe:filesystem/etc/app/db.conf', field('/etc/app/db.conf')]
    assert.deepEqual(await ids(), after)
    assert.equal(await readFile(join(cli.twinDir, 'filesystem/etc/app/db.conf'), 'utf8'), `db_password = "${TWIN_PASSWORD}"\n`, 'the document is still in the working twin')
    assert.deepEqual([(await entryOf('/etc/app/db.conf'))?.content, (await entryOf('/etc/app/db.conf'))?.secret], ['mirrored', undefined])
    const recorded = (JSON.parse(await head(MANIFEST)) as { entries: Entry[] }).entries.find((e) => e.path === '/etc/app/db.conf')
    assert.deepEqual([recorded?.mode, recorded?.secret, recorded?.content], ['0600', true, 'secret'], "the snapshot's commit records the machine: the new mode, still secret")

    await writeFile(join(root, 'etc/motd'), 'the machine moved\n')
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.deepEqual(await ids(), after, 'a plain snapshot keeps it too')
    assert.equal((await twinsync('discard', 'files')).code, 0)
    assert.equal((await twinsync('status', '--exit-code')).code, 0, 'discarded: in sync')
    assert.equal((await entryOf('/etc/app/db.conf'))?.secret, true)
  })

  it("a mirrored file's text edited and a secretHash put beside it: the write applies, the hash stays pending", async () => {
    const hash = `hmac-sha256:${'1'.repeat(64)}`
    await editManifest((e) => (e.path === '/etc/app/plain.conf' ? { ...e, secretHash: hash } : e))
    await writeFile(join(cli.twinDir, 'filesystem/etc/app/plain.conf'), 'hello world\n')
    await commitTwin(cli.twinDir, 'edit plain.conf, and a hash beside it')
    assert.deepEqual(await ids(), [field('/etc/app/plain.conf', 'secretHash'), 'files:replace:/etc/app/plain.conf'])

    assert.equal(json<{ applied: boolean }>(await twinsync('apply', '--yes', '--json')).applied, true)
    assert.equal(await readFile(join(root, 'etc/app/plain.conf'), 'utf8'), 'hello world\n', 'the write ran')
    assert.deepEqual(await ids(), [field('/etc/app/plain.conf')], 'the hash is pending, in the entry')
    assert.equal((await entryOf('/etc/app/plain.conf'))?.secretHash, hash)
    assert.equal((await twinsync('discard', field('/etc/app/plain.conf'))).code, 0)
    assert.equal((await twinsync('status', '--exit-code')).code, 0)
    assert.equal((await entryOf('/etc/app/plain.conf'))?.secretHash, undefined)
  })

  it('a document that is not UTF-8 text (for a mirrored file, for a new one) or a symlink: pending FILES_NOT_TEXT_NOT_PLANNED / FILES_TWIN_SYMLINK_NOT_PLANNED, kept by a snapshot (not in its commit), never applied, discard puts the text back', async () => {
    await writeFile(join(cli.twinDir, 'filesystem/etc/app/other.conf'), NOT_TEXT)
    await writeFile(join(cli.twinDir, 'filesystem/etc/app/new.bin'), NOT_TEXT)
    await rm(join(cli.twinDir, 'filesystem/etc/app/linked.conf'))
    await symlink('../motd', join(cli.twinDir, 'filesystem/etc/app/linked.conf'))
    await commitTwin(cli.twinDir, 'binary bytes and a link in the twin')
    const items = ['files:create:/etc/app/new.bin', 'files:replace:/etc/app/linked.conf', 'files:replace:/etc/app/other.conf']
    const s = await status()
    assert.deepEqual(
      s.pending.items.map((i) => [i.id, i.code]).sort(),
      items.map((id) => [id, id.includes('linked') ? 'FILES_TWIN_SYMLINK_NOT_PLANNED' : 'FILES_NOT_TEXT_NOT_PLANNED']),
    )
    const other = s.pending.items.find((i) => i.id === 'files:replace:/etc/app/other.conf')
    assert.match(other?.reason ?? '', /^never applied: the twin's document for it is not UTF-8 text/)
    assert.match(other?.nextStep ?? '', /Save the file under filesystem\/ as UTF-8 text/)
    assert.match(s.pending.items.find((i) => i.id.includes('linked'))?.nextStep ?? '', /Replace the link under filesystem\/ with the file's content/)
    assert.equal((await twinsync('status', '--exit-code')).code, 1)
    const plan = json<PlanJson>(await twinsync('plan', '--json'))
    assert.deepEqual([plan.changes, plan.diagnostics.filter((d) => d.code.endsWith('_NOT_PLANNED')).map((d) => d.change).sort()], [[], items])

    await writeFile(join(root, 'etc/motd'), 'moved again\n')
    const snap = await twinsync('snapshot')
    assert.match(snap.stdout, /^Pending intent kept on top of it \(3 twin files: filesystem\/etc\/app\/linked\.conf, filesystem\/etc\/app\/new\.bin, filesystem\/etc\/app\/other\.conf\)/m, snap.stdout)
    assert.deepEqual(await readFile(join(cli.twinDir, 'filesystem/etc/app/other.conf')), Buffer.from(NOT_TEXT), 'kept in the working twin')
    assert.ok((await lstat(join(cli.twinDir, 'filesystem/etc/app/linked.conf'))).isSymbolicLink(), 'so is the link')
    assert.equal(await head('filesystem/etc/app/linked.conf'), 'linked\n')
    assert.equal(await head('filesystem/etc/app/other.conf'), 'other\n', "the snapshot's commit records the machine")
    assert.equal(json<{ applied: boolean }>(await twinsync('apply', '--yes', '--json')).applied, false)
    assert.equal(await readFile(join(root, 'etc/app/other.conf'), 'utf8'), 'other\n', 'never applied')
    assert.equal(await readFile(join(root, 'etc/app/linked.conf'), 'utf8'), 'linked\n')
    await assert.rejects(stat(join(root, 'etc/app/new.bin')), /ENOENT/)
    assert.deepEqual(await ids(), items)

    assert.equal((await twinsync('discard', 'files:replace:/etc/app/other.conf')).code, 0)
    assert.equal(await readFile(join(cli.twinDir, 'filesystem/etc/app/other.conf'), 'utf8'), 'other\n', 'discard puts the text back')
    assert.equal((await twinsync('discard', 'files')).code, 0)
    assert.equal((await twinsync('status', '--exit-code')).code, 0)
    assert.equal(await readFile(join(cli.twinDir, 'filesystem/etc/app/linked.conf'), 'utf8'), 'linked\n', 'the link is a file again')
  })

  it("a file's entry made a symlink while its document stays: the document wins, so the type edit is pending with what to do, kept by a snapshot, dropped by discard", async () => {
    await editManifest((e) => {
      if (e.path !== '/etc/app/typed.conf') return e
      const { content: _c, sha256: _h, size: _s, origin: _o, ...rest } = e
      return { ...rest, type: 'symlink', target: '/etc/motd', mode: '0777' }
    })
    await commitTwin(cli.twinDir, 'typed.conf a symlink, its document left')
    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => [i.id, i.code]), [[field('/etc/app/typed.conf'), CODE]])
    assert.match(s.pending.items[0]?.nextStep ?? '', /the document wins: the plan keeps a file there; to make it a symlink, delete filesystem\/etc\/app\/typed\.conf in the twin too/)
    await writeFile(join(root, 'etc/motd'), 'moved once more\n')
    assert.equal((await twinsync('snapshot')).code, 0)
    assert.equal((await entryOf('/etc/app/typed.conf'))?.type, 'symlink', 'kept by the snapshot')
    assert.equal((await twinsync('discard', field('/etc/app/typed.conf'))).code, 0)
    assert.equal((await entryOf('/etc/app/typed.conf'))?.type, 'file')
    assert.equal((await twinsync('status', '--exit-code')).code, 0)
  })
})
