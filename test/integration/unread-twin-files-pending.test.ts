// Twin files nothing reads, which a person (or a pull) put there: a file in an applying provider's
// part of the twin that its load does not read (a note in system/files/, one in a folder below it,
// a symlink to a host file, a name with a line break), and an edit of a document of a provider
// disabled in the configuration. Before session 40 `status` said "In sync ... nothing pending"
// for both; the next snapshot removed the stray files without a word, and committed the disabled
// provider's edited document as if the machine had it (the provider, once enabled again,
// overwrote it). Now each is pending and never applied (UNREAD_FILE_NOT_APPLIED,
// PROVIDER_DISABLED_EDIT_NOT_APPLIED): named by status and plan, kept on top of each snapshot
// (whose commit records the machine only), dropped by discard; a symlink is never followed.
// Through the real binary.
import { strict as assert } from 'node:assert'
import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../bed/index.js'
import { commitTwin, json, smallCliRoot, type CliSandbox } from '../support/cli.js'
import { FILES_ONLY } from '../support/in-process-twin.js'

interface StatusJson {
  pending: { count: number; items: Array<{ id: string; reason: string; code?: string; nextStep?: string }> }
}

const UNREAD = 'UNREAD_FILE_NOT_APPLIED'
const DISABLED = 'PROVIDER_DISABLED_EDIT_NOT_APPLIED'
const ODD = 'system/files/odd\nname.txt'
const STRAYS = ['system/files/link', 'system/files/notes.txt', ODD, 'system/files/sub/deep.json']
const idOf = (path: string) => `files:describe:${path.replace('\n', '\\n')}`

describe('twin files nothing reads (a stray file in a provider\'s folder, a disabled provider\'s document edited) are pending, kept by snapshots, never applied', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let root: string
  const twinsync = (...args: string[]) => cli.twinsync([...args, '--root', root, '--repo', cli.twinDir])
  const status = async () => json<StatusJson>(await twinsync('status', '--json'))
  const headHas = async (path: string) => (await run(['git', '-C', cli.twinDir, 'cat-file', '-e', `HEAD:${path}`])).code === 0
  const present = (path: string) => lstat(join(cli.twinDir, path)).then(() => true, () => false)
  const machine = () => Promise.all(['etc/motd', 'etc/hostname', 'etc/os-release'].map((p) => readFile(join(root, p), 'utf8')))

  before(async () => {
    ;({ cli, root } = await smallCliRoot())
  })
  after(() => cli.cleanup())

  it('a stray file in system/files/ (a note, one below it, a symlink to a host file, a name with a line break): pending, kept, never applied or followed; discard removes it', async () => {
    const hostFile = join(cli.dir, 'host-secret')
    await writeFile(hostFile, 'host secret\n')
    await writeFile(join(cli.twinDir, 'system/files/notes.txt'), 'remember to rotate the keys\n')
    await mkdir(join(cli.twinDir, 'system/files/sub'))
    await writeFile(join(cli.twinDir, 'system/files/sub/deep.json'), '{"a": 1}\n')
    await writeFile(join(cli.twinDir, ODD), 'odd\n')
    await symlink(hostFile, join(cli.twinDir, 'system/files/link'))
    await commitTwin(cli.twinDir, 'notes beside the manifest')
    const machineBefore = await machine()

    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => [i.id, i.code]), STRAYS.map((p) => [idOf(p), UNREAD]), JSON.stringify(s.pending))
    assert.match(s.pending.items[0]?.reason ?? '', /^never applied: files does not read this file$/)
    assert.match(s.pending.items[0]?.nextStep ?? '', /Move it out of system\/ and filesystem\/.*twinsync discard files:describe:system\/files\/link/)
    const text = await twinsync('status')
    assert.ok(!text.stdout.includes('odd\nname') && text.stdout.includes('odd\\nname.txt'), `a name's line break is spelled out:\n${text.stdout}`)
    assert.equal((await twinsync('status', '--exit-code')).code, 1, 'not in sync')
    const plan = await twinsync('plan')
    assert.match(plan.stdout + plan.stderr, /Add system\/files\/notes\.txt: left out, files does not read this file \(it stays pending\) \[UNREAD_FILE_NOT_APPLIED\]/)

    await writeFile(join(root, 'etc/motd'), 'the machine moved\n')
    const snap = await twinsync('snapshot')
    assert.equal(snap.code, 0, snap.stdout + snap.stderr)
    assert.match(snap.stdout, /^Pending intent kept on top of it \(4 twin files: system\/files\/[^\n]*\)/m, snap.stdout)
    assert.ok(!snap.stdout.includes('odd\nname') && snap.stdout.includes('odd\\nname.txt'), `a name's line break is spelled out:\n${snap.stdout}`)
    for (const path of STRAYS) {
      assert.ok(await present(path), `${path} is still in the working twin`)
      assert.ok(!(await headHas(path)), `${path} is not in the snapshot's commit`)
    }
    assert.ok((await lstat(join(cli.twinDir, 'system/files/link'))).isSymbolicLink(), 'the symlink is kept as one')
    assert.deepEqual((await status()).pending.items.map((i) => i.id), STRAYS.map(idOf))

    const applied = json<{ applied: boolean }>(await twinsync('apply', '--yes', '--json'))
    assert.equal(applied.applied, false)
    assert.deepEqual(await machine(), ['the machine moved\n', ...machineBefore.slice(1)], 'nothing of it is applied')

    assert.equal((await twinsync('discard', idOf('system/files/notes.txt'))).code, 0)
    assert.ok(!(await present('system/files/notes.txt')), 'one discard removes its file')
    assert.deepEqual((await status()).pending.items.map((i) => i.id), STRAYS.filter((p) => !p.endsWith('notes.txt')).map(idOf))
    assert.equal((await twinsync('discard', 'files')).code, 0)
    for (const path of STRAYS) assert.ok(!(await present(path)), `${path} discarded`)
    assert.equal(await readFile(hostFile, 'utf8'), 'host secret\n', 'the symlink was removed, never written through')
    assert.equal((await twinsync('status', '--exit-code')).code, 0, 'discarded: in sync')
  })

  it("an edit of a disabled provider's document: pending, the snapshot's commit keeps the last observed version, never applied; discard drops it", async () => {
    const HARDWARE = 'system/hardware.json'
    // A snapshot with the hardware provider enabled records its document; then it is disabled.
    await writeFile(cli.configFile, FILES_ONLY.replace('hardware, ', ''))
    assert.equal((await twinsync('snapshot')).code, 0)
    await writeFile(cli.configFile, FILES_ONLY)
    const observed = await readFile(join(cli.twinDir, HARDWARE), 'utf8')
    const edited = JSON.stringify({ ...(JSON.parse(observed) as object), handEdited: 'yes' }, null, 2)
    await writeFile(join(cli.twinDir, HARDWARE), edited)
    await commitTwin(cli.twinDir, 'a hardware note')

    const id = `hardware:describe:${HARDWARE}`
    const s = await status()
    assert.deepEqual(s.pending.items.map((i) => [i.id, i.code, i.reason]), [[id, DISABLED, 'never applied: the hardware provider is disabled in the configuration']], JSON.stringify(s.pending))
    assert.match(s.pending.items[0]?.nextStep ?? '', /take hardware out of providers\.disabled.*twinsync discard hardware:describe:system\/hardware\.json/)
    assert.equal((await twinsync('status', '--exit-code')).code, 1, 'not in sync')
    const plan = await twinsync('plan')
    assert.match(plan.stdout, /Change system\/hardware\.json \(handEdited\): left out, the hardware provider is disabled in the configuration \(it stays pending\) \[PROVIDER_DISABLED_EDIT_NOT_APPLIED\]/, plan.stdout)

    await writeFile(join(root, 'etc/motd'), 'moved again\n')
    const snap = await twinsync('snapshot')
    assert.equal(snap.code, 0, snap.stdout + snap.stderr)
    assert.match(snap.stdout, /^Pending intent kept on top of it \(1 twin file: system\/hardware\.json\)/m, snap.stdout)
    assert.equal((await run(['git', '-C', cli.twinDir, 'show', `HEAD:${HARDWARE}`])).stdout, observed, "the snapshot's commit keeps the last observed version")
    assert.equal(await readFile(join(cli.twinDir, HARDWARE), 'utf8'), edited, 'the edit stays in the working twin')
    assert.deepEqual((await status()).pending.items.map((i) => i.id), [id])
    assert.equal(json<{ applied: boolean }>(await twinsync('apply', '--yes', '--json')).applied, false)

    assert.equal((await twinsync('discard', 'hardware')).code, 0)
    assert.equal(await readFile(join(cli.twinDir, HARDWARE), 'utf8'), observed)
    assert.equal((await twinsync('status', '--exit-code')).code, 0, 'discarded: in sync')
  })
})
