// A twin document committed for a file the files manifest lists as not mirrored: a secret (by its
// path, /etc/wireguard/wg0.conf, or by what it holds), a binary file, one over maxFileSize. Before
// session 39 the files provider's load never looked for it: `status` said "nothing pending" (exit
// 0), `plan` "No changes", and the next snapshot (a scheduled one too) dropped the document from
// the twin without a word. It is a change now, planned without its content and left out by the one
// scope rule (scope.ts's notMirrored): pending and never applied until it is discarded, and the
// secret the person committed goes into no output and no snapshot's commit. Through the real binary.
import { strict as assert } from 'node:assert'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../bed/index.js'
import { fakeChars } from '../fixtures/secrets/samples.js'
import { commitTwin, json, recordingTwinsync, smallCliRoot, type CliSandbox } from '../support/cli.js'

interface StatusJson {
  pending: { count: number; items: Array<{ id: string; reason: string; code?: string; nextStep?: string }> }
}
interface PlanJson {
  changes: Array<{ id: string }>
  diagnostics: Array<{ code: string; severity: string; summary: string; detail?: string; change?: string }>
}

/** What the machine has, and what the person commits at each path (the secrets built at run time). */
const MACHINE_KEY = `${fakeChars('s39-machine-wg', 43)}=`
const TWIN_KEY = `${fakeChars('s39-twin-wg', 43)}=`
const TWIN_PASSWORD = fakeChars('s39-twin-db', 24)
const FILES = {
  'etc/wireguard/wg0.conf': { content: `[Interface]\nPrivateKey = ${MACHINE_KEY}\n`, mode: 0o600 },
  'etc/app/db.conf': `db_password = "${fakeChars('s39-machine-db', 24)}"\n`,
  'etc/app/blob.bin': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 0xff]),
  'etc/app/big.txt': 'x'.repeat(3000),
}
const DOCUMENTS: Record<string, string> = {
  'filesystem/etc/app/big.txt': 'small now\n',
  'filesystem/etc/app/blob.bin': 'text now\n',
  'filesystem/etc/app/db.conf': `db_password = "${TWIN_PASSWORD}"\n`,
  'filesystem/etc/wireguard/wg0.conf': `[Interface]\nPrivateKey = ${TWIN_KEY}\n`,
}
const IDS = ['files:replace:/etc/app/big.txt', 'files:replace:/etc/app/blob.bin', 'files:replace:/etc/app/db.conf', 'files:replace:/etc/wireguard/wg0.conf']
const CODE = 'FILES_NOT_MIRRORED_NOT_PLANNED'

describe('a twin document for a file the manifest lists as not mirrored (secret, binary, too large) is never dropped silently: pending until discarded', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  /** Everything the binary printed (printed()), searched for the committed secrets at the end of each case. */
  const { twinsync, printed } = recordingTwinsync(() => ({ cli, root }))
  const status = async () => json<StatusJson>(await twinsync('status', '--json'))
  const machine = () => Promise.all(Object.keys(FILES).map((p) => readFile(join(root, p))))
  let machineBefore: Buffer[]

  before(async () => {
    ;({ cli, root } = await smallCliRoot({ files: FILES, config: 'limits:\n  maxFileSize: 2048\n' }))
    machineBefore = await machine()
    const manifest = JSON.parse(await readFile(join(cli.twinDir, 'system/files/manifest.json'), 'utf8')) as { entries: Array<{ path: string; content?: string; secret?: true }> }
    const kinds = Object.keys(FILES).map((p) => manifest.entries.find((e) => e.path === `/${p}`)).map((e) => [e?.path, e?.content, e?.secret])
    assert.deepEqual(
      kinds,
      [
        ['/etc/wireguard/wg0.conf', 'secret', true],
        ['/etc/app/db.conf', 'secret', true],
        ['/etc/app/blob.bin', 'binary', undefined],
        ['/etc/app/big.txt', 'too-large', undefined],
      ],
      'the premise: the snapshot mirrors none of them',
    )
  })
  after(() => cli.cleanup())
  afterEach(() => {
    for (const secret of [TWIN_KEY, TWIN_PASSWORD]) assert.ok(!printed().includes(secret), 'a committed secret was printed')
  })

  it('committed by hand: status lists each as never applied (not in sync), plan leaves each out and names it', async () => {
    for (const [doc, text] of Object.entries(DOCUMENTS)) {
      await mkdir(join(cli.twinDir, doc, '..'), { recursive: true })
      await writeFile(join(cli.twinDir, doc), text)
    }
    await commitTwin(cli.twinDir, 'documents for files the twin does not mirror')

    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => [i.id, i.code]), IDS.map((id) => [id, CODE]), JSON.stringify(s.pending))
    const reason = (id: string) => s.pending.items.find((i) => i.id === id)?.reason ?? ''
    assert.match(reason('files:replace:/etc/wireguard/wg0.conf'), /^never applied: the twin has a document for it, but the file holds a secret \(the twin records its keyed hash, never its content\): its content is never taken from the twin$/)
    assert.match(reason('files:replace:/etc/app/db.conf'), /the file holds a secret/)
    assert.match(reason('files:replace:/etc/app/blob.bin'), /the file is binary/)
    assert.match(reason('files:replace:/etc/app/big.txt'), /the file is bigger than maxFileSize/)
    assert.match(s.pending.items[0]?.nextStep ?? '', /^Change the file on the machine itself .*\(`twinsync discard files:replace:\/etc\/\S+ --root [^`]+`\)/)
    const text = await twinsync('status')
    assert.match(text.stdout, /files:replace:\/etc\/wireguard\/wg0\.conf .*\(never applied: .*\) \[FILES_NOT_MIRRORED_NOT_PLANNED\]\n\s+Next step: Change the file on the machine itself/)
    assert.doesNotMatch(text.stdout, /nothing pending/i)
    assert.equal((await twinsync('status', '--exit-code')).code, 1, 'not in sync')

    const p = json<PlanJson>(await twinsync('plan', '--json'))
    assert.deepEqual(p.changes, [])
    assert.deepEqual(p.diagnostics.filter((d) => d.code === CODE).map((d) => [d.severity, d.change]), IDS.map((id) => ['warning', id]))
    assert.match((await twinsync('plan')).stdout, /^No changes planned: 4 changes the twin asks for are left out/m)
  })

  it('the next snapshots keep them in the working twin and say so, in no snapshot commit; apply changes nothing', async () => {
    for (const moved of ['the machine moved\n', 'and again\n']) {
      await writeFile(join(root, 'etc/motd'), moved)
      const snap = await twinsync('snapshot')
      assert.equal(snap.code, 0, snap.stdout + snap.stderr)
      assert.match(snap.stdout, /^Pending intent kept on top of it \(4 twin files: filesystem\/etc\/app\/big\.txt, filesystem\/etc\/app\/blob\.bin, filesystem\/etc\/app\/db\.conf, …\); `twinsync status [^`]*` lists the items\.$/m, snap.stdout)
      for (const [doc, text] of Object.entries(DOCUMENTS)) assert.equal(await readFile(join(cli.twinDir, doc), 'utf8'), text, `${doc} is still in the working twin`)
      const intended = await run(['git', '-C', cli.twinDir, 'show', `refs/twinsync/intended:filesystem/etc/wireguard/wg0.conf`])
      assert.equal(intended.stdout, DOCUMENTS['filesystem/etc/wireguard/wg0.conf'], 'recorded in refs/twinsync/intended')
      const head = await run(['git', '-C', cli.twinDir, 'ls-tree', '-r', '--name-only', 'HEAD'])
      assert.deepEqual(Object.keys(DOCUMENTS).filter((doc) => head.stdout.includes(doc)), [], "not in the snapshot's commit")
      assert.deepEqual((await status()).pending.items.map((i) => [i.id, i.code]), IDS.map((id) => [id, CODE]))
    }
    const applied = await twinsync('apply', '--yes', '--json')
    assert.equal(json<{ applied: boolean }>(applied).applied, false, applied.stdout)
    assert.deepEqual(await machine(), machineBefore, 'the machine never gets them')
  })

  it('`discard ID` and `discard files` drop them deliberately: out of the twin, in sync, and the next snapshot leaves them out', async () => {
    const one = await twinsync('discard', 'files:replace:/etc/wireguard/wg0.conf')
    assert.equal(one.code, 0, one.stdout + one.stderr)
    assert.deepEqual((await status()).pending.items.map((i) => i.id), IDS.slice(0, 3))
    const rest = await twinsync('discard', 'files')
    assert.equal(rest.code, 0, rest.stdout + rest.stderr)
    const left = await run(['git', '-C', cli.twinDir, 'ls-files', '--others', '--cached', 'filesystem/etc/app', 'filesystem/etc/wireguard'])
    assert.equal(left.stdout, '', 'out of the working twin')
    assert.equal((await twinsync('status', '--exit-code')).code, 0, 'in sync')
    await writeFile(join(root, 'etc/motd'), 'moved once more\n')
    assert.equal((await twinsync('snapshot')).code, 0)
    const head = await run(['git', '-C', cli.twinDir, 'ls-tree', '-r', '--name-only', 'HEAD'])
    assert.deepEqual(Object.keys(DOCUMENTS).filter((doc) => head.stdout.includes(doc)), [], 'nor on the branch')
    assert.deepEqual(await machine(), machineBefore)
  })
})
