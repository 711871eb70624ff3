// A person's edit of the files manifest that the files diff plans nothing for: an entry of a secret
// or binary file flipped to `"content": "mirrored"` with a document committed for it, an edited
// secretHash, an entry added by hand for a file whose content the twin never holds, an entry of a
// secret file taken out. The diff only says why (an info: SECRET_CHANGED, "not put back", "cannot
// be created from the twin", "not deleted"), as it must against the machine. Before session 39
// `status` said "In sync ... nothing pending" and the next snapshot dropped the edits (and the
// documents) without a word. The files provider names them now (Provider.unapplied, asked only
// between two twins): pending and never applied, kept by snapshots, until discarded. Real binary.
import { strict as assert } from 'node:assert'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { commitTwin, json, recordingTwinsync, smallCliRoot, type CliSandbox } from '../support/cli.js'

interface StatusJson {
  pending: { count: number; items: Array<{ id: string; reason: string; code?: string; nextStep?: string }> }
}
interface Entry {
  path: string
  content?: string
  secret?: true
  secretHash?: string
  secretReason?: string
  sha256?: string
  [k: string]: unknown
}

const MACHINE_PASSWORD = fakeChars('s39-en-machine', 24)
const TWIN_PASSWORD = fakeChars('s39-en-twin', 24)
const FILES = {
  'etc/app/db.conf': `db_password = "${MACHINE_PASSWORD}"\n`,
  'etc/app/api.conf': `api_password = "${fakeChars('s39-en-api', 24)}"\n`,
  'etc/app/blob.bin': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 0xff]),
  'etc/app/other.bin': new Uint8Array([0, 0, 0xfe, 1]),
}
const MANIFEST = 'system/files/manifest.json'
const item = (path: string) => `files:describe:${MANIFEST}#entries/path=${path}`
const CODE = 'DESCRIPTION_EDIT_NOT_APPLIED'

describe("a manifest edit the files diff plans nothing for (a flip to mirrored, a secretHash, an entry added or removed by hand) is pending, never dropped by a snapshot", function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  const { twinsync, printed } = recordingTwinsync(() => ({ cli, root }))
  const status = async () => json<StatusJson>(await twinsync('status', '--json'))
  const manifest = async () => JSON.parse(await readFile(join(cli.twinDir, MANIFEST), 'utf8')) as { entries: Entry[] }
  const editManifest = async (edit: (entries: Entry[]) => Entry[]) => {
    const m = await manifest()
    m.entries = edit(m.entries)
    await writeFile(join(cli.twinDir, MANIFEST), `${JSON.stringify(m, null, 2)}\n`)
  }
  const machine = () => Promise.all(Object.keys(FILES).map((p) => readFile(join(root, p))))
  let machineBefore: Buffer[]

  before(async () => {
    ;({ cli, root } = await smallCliRoot({ files: FILES }))
    machineBefore = await machine()
    const kinds = (await manifest()).entries.filter((e) => e.path.startsWith('/etc/app/')).map((e) => [e.path, e.content, e.secret])
    assert.deepEqual(
      kinds,
      [
        ['/etc/app/api.conf', 'secret', true],
        ['/etc/app/blob.bin', 'binary', undefined],
        ['/etc/app/db.conf', 'secret', true],
        ['/etc/app/other.bin', 'binary', undefined],
      ],
      'the premise: the snapshot mirrors none of them',
    )
  })
  after(() => cli.cleanup())
  afterEach(() => assert.ok(!printed().includes(TWIN_PASSWORD) && !printed().includes(MACHINE_PASSWORD), 'a secret was printed'))

  it('flipped to mirrored with a document: pending (entry and document), kept by the next snapshot, not in its commit', async () => {
    await editManifest((entries) =>
      entries.map((e) => {
        if (e.path !== '/etc/app/db.conf' && e.path !== '/etc/app/blob.bin') return e
        const { secret: _s, secretHash: _h, secretReason: _r, ...rest } = e
        return { ...rest, content: 'mirrored' }
      }),
    )
    await mkdir(join(cli.twinDir, 'filesystem/etc/app'), { recursive: true })
    await writeFile(join(cli.twinDir, 'filesystem/etc/app/db.conf'), `db_password = "${TWIN_PASSWORD}"\n`)
    await writeFile(join(cli.twinDir, 'filesystem/etc/app/blob.bin'), 'text now\n')
    await commitTwin(cli.twinDir, 'flip two entries to mirrored, with documents')

    const ids = ['files:describe:filesystem/etc/app/blob.bin', 'files:describe:filesystem/etc/app/db.conf', item('/etc/app/blob.bin'), item('/etc/app/db.conf')]
    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => [i.id, i.code]), ids.map((id) => [id, CODE]), JSON.stringify(s.pending))
    assert.match(s.pending.items[0]?.reason ?? '', /^never applied: files plans nothing for this value$/)
    assert.equal((await twinsync('status', '--exit-code')).code, 1, 'not in sync')

    await writeFile(join(root, 'etc/motd'), 'the machine moved\n')
    const snap = await twinsync('snapshot')
    assert.equal(snap.code, 0, snap.stdout + snap.stderr)
    assert.match(snap.stdout, /^Pending intent kept on top of it \(3 twin files: filesystem\/etc\/app\/blob\.bin, filesystem\/etc\/app\/db\.conf, system\/files\/manifest\.json\)/m, snap.stdout)
    assert.equal(await readFile(join(cli.twinDir, 'filesystem/etc/app/db.conf'), 'utf8'), `db_password = "${TWIN_PASSWORD}"\n`, 'the document is still in the working twin')
    assert.equal((await manifest()).entries.find((e) => e.path === '/etc/app/db.conf')?.content, 'mirrored', 'so is the manifest edit')
    const head = await run(['git', '-C', cli.twinDir, 'show', 'HEAD:system/files/manifest.json'])
    assert.match(head.stdout, /"path": "\/etc\/app\/db\.conf",\n\s+"secret": true/, "the snapshot's commit records the machine")
    const tree = await run(['git', '-C', cli.twinDir, 'ls-tree', '-r', '--name-only', 'HEAD', 'filesystem/etc/app'])
    assert.equal(tree.stdout, '', "no document in the snapshot's commit")
    assert.deepEqual((await status()).pending.items.map((i) => i.id), ids)

    assert.equal((await twinsync('discard', 'files')).code, 0)
    assert.equal((await twinsync('status', '--exit-code')).code, 0, 'discarded: in sync')
    assert.equal((await manifest()).entries.find((e) => e.path === '/etc/app/db.conf')?.secret, true)
  })

  it('an edited secretHash, an entry added by hand for a binary file, a secret entry taken out: each pending, kept by a snapshot, dropped by discard', async () => {
    await editManifest((entries) => [
      ...entries.filter((e) => e.path !== '/etc/app/api.conf').map((e) => (e.path === '/etc/app/db.conf' ? { ...e, secretHash: `hmac-sha256:${'1'.repeat(64)}` } : e)),
      { path: '/etc/app/new.bin', type: 'file', mode: '0644', uid: 0, gid: 0, content: 'binary', size: 3 },
    ])
    await commitTwin(cli.twinDir, 'manifest edits the diff does not plan')
    const ids = [item('/etc/app/api.conf'), item('/etc/app/db.conf'), item('/etc/app/new.bin')]
    assert.deepEqual((await status()).pending.items.map((i) => [i.id, i.code]).sort(), ids.map((id) => [id, CODE]))
    const text = (await twinsync('status')).stdout
    assert.match(text, /remove entries\.\[path=\/etc\/app\/api\.conf\] from system\/files\/manifest\.json \(never applied/)
    assert.match(text, /Next step: the plan does not delete \/etc\/app\/api\.conf/)
    assert.match(text, /Next step: the plan does not create \/etc\/app\/new\.bin/)

    await writeFile(join(root, 'etc/motd'), 'moved again\n')
    assert.equal((await twinsync('snapshot')).code, 0)
    const kept = await manifest()
    assert.equal(kept.entries.find((e) => e.path === '/etc/app/db.conf')?.secretHash, `hmac-sha256:${'1'.repeat(64)}`)
    assert.ok(kept.entries.some((e) => e.path === '/etc/app/new.bin') && !kept.entries.some((e) => e.path === '/etc/app/api.conf'), 'kept as edited')
    assert.deepEqual((await status()).pending.items.map((i) => i.id).sort(), ids)
    const applied = json<{ applied: boolean }>(await twinsync('apply', '--yes', '--json'))
    assert.equal(applied.applied, false)
    assert.deepEqual(await machine(), machineBefore, 'nothing of it is applied')

    assert.equal((await twinsync('discard', item('/etc/app/api.conf'))).code, 0)
    assert.ok((await manifest()).entries.some((e) => e.path === '/etc/app/api.conf'), 'one discard puts its entry back')
    assert.deepEqual((await status()).pending.items.map((i) => i.id).sort(), ids.slice(1))
    assert.equal((await twinsync('discard', 'files')).code, 0)
    assert.equal((await twinsync('status', '--exit-code')).code, 0)
  })
})
