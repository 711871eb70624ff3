import { strict as assert } from 'node:assert'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TwinReader } from '@twinsync/sdk'
import { PROVIDER_DISABLED_EDIT_NOT_APPLIED, UNREAD_FILE_NOT_APPLIED } from '../src/intent/description-edits.js'
import { IntentService } from '../src/intent/intent-service.js'
import { ReconcileService } from '../src/intent/reconcile-service.js'
import { recordingReader } from '../src/intent/unread-files.js'
import { Planner } from '../src/plan/planner.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { notesProvider, uptimeProvider } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/**
 * Twin files nothing reads (session 40): a file in an applying provider's part of the twin that
 * its load does not read, and an edit of a document of a provider disabled in the configuration.
 * Before, the first was removed by the next snapshot without a word (its domain planned nothing,
 * taken for an edit done), the second committed by it as if the machine had it. Both are pending
 * now, never applied, kept on top of each snapshot, dropped by discard.
 */
describe('IntentService: twin files nothing reads are pending, never dropped or committed as observed', function () {
  this.timeout(30_000)
  let rig: UnitRig

  /** `shelf`: /etc/shelf applied from system/shelf.json; its part of the twin is also the folder system/shelf/, which its load never reads. */
  const shelf = notesProvider('shelf', { twinPaths: ['system/shelf.json', 'system/shelf/'] })
  /** A fact provider: system/uptime.json. */
  const uptime = uptimeProvider()
  const NOTE = 'system/shelf/README.txt'
  const noteId = `shelf:describe:${NOTE}`

  const twinFile = (path: string) => readFile(join(rig.twinDir, path), 'utf8').catch(() => undefined)
  const snapshot = (r = rig) => r.container.resolve(SnapshotService).snapshot()
  const pending = async (r = rig) => (await r.container.resolve(IntentService).pending()).items.map((i) => [i.id, i.code ?? ''])
  const headHas = (path: string) => rig.git('ls-tree', '--name-only', 'HEAD', path) !== ''

  beforeEach(async () => {
    rig = await unitRig([shelf, uptime])
    await writeFile(join(rig.root, 'etc/shelf'), 'books\n')
    await writeFile(join(rig.root, 'etc/uptime'), '3\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await snapshot()
  })
  afterEach(() => rig?.cleanup())

  it('a file in its folder the load does not read: pending with its code and next step, named by plan, kept by snapshots (never in their commits), dropped by discard', async () => {
    await mkdir(join(rig.twinDir, 'system/shelf'))
    await writeFile(join(rig.twinDir, NOTE), 'the shelf holds books\n')
    rig.git('add', '-A')
    rig.git('commit', '-qm', 'a note')
    const items = await rig.container.resolve(IntentService).pending()
    assert.deepEqual(items.items.map((i) => [i.id, i.code, i.reason]), [[noteId, UNREAD_FILE_NOT_APPLIED, 'never applied: shelf does not read this file']])
    assert.match(items.items[0]?.nextStep ?? '', /lies in the shelf provider's part of the twin.*twinsync discard shelf:describe:system\/shelf\/README\.txt/)
    const plan = await rig.container.resolve(Planner).plan()
    assert.deepEqual(plan.changes, [])
    assert.deepEqual(plan.diagnostics.filter((d) => d.change !== undefined).map((d) => [d.change, d.code, d.severity]), [[noteId, UNREAD_FILE_NOT_APPLIED, 'warning']])

    await writeFile(join(rig.root, 'etc/uptime'), '4\n')
    const snap = await snapshot()
    assert.deepEqual(snap.pending, [NOTE])
    assert.equal(await twinFile(NOTE), 'the shelf holds books\n', 'kept in the working twin')
    assert.ok(!headHas(NOTE), "not in the snapshot's commit")
    assert.deepEqual(await pending(), [[noteId, UNREAD_FILE_NOT_APPLIED]])

    await rig.container.resolve(ReconcileService).discard([noteId])
    assert.equal(await twinFile(NOTE), undefined)
    assert.deepEqual(await pending(), [])
    assert.equal(rig.git('status', '--porcelain'), '')
  })

  it('beside a planned change of its domain: both pending; once the machine has the change the snapshot settles it and keeps the file', async () => {
    await mkdir(join(rig.twinDir, 'system/shelf'))
    await writeFile(join(rig.twinDir, NOTE), 'note\n')
    await writeFile(join(rig.twinDir, 'system/shelf.json'), `${JSON.stringify({ text: 'records\n' })}\n`)
    assert.deepEqual(await pending(), [['shelf:replace:/etc/shelf', ''], [noteId, UNREAD_FILE_NOT_APPLIED]])
    await writeFile(join(rig.root, 'etc/shelf'), 'records\n')
    await snapshot()
    assert.deepEqual(await pending(), [[noteId, UNREAD_FILE_NOT_APPLIED]])
    assert.equal(await twinFile(NOTE), 'note\n')
  })

  it('a document its load reads and plans nothing for is no such file (a hand-formatted one goes back to the machine\'s form, as before)', async () => {
    await writeFile(join(rig.twinDir, 'system/shelf.json'), `{ "text":   "books\\n" }\n`)
    assert.deepEqual(await pending(), [])
    await writeFile(join(rig.root, 'etc/uptime'), '4\n')
    await snapshot()
    assert.equal(await twinFile('system/shelf.json'), `${JSON.stringify({ text: 'books\n' })}\n`)
  })

  it("an edit of a disabled provider's document (applying or facts): pending, the snapshot's commit keeps the observed version; enabled again, the edit is planned, not overwritten", async () => {
    const observedShelf = await twinFile('system/shelf.json')
    const off = await unitRig([shelf, uptime], { at: { root: rig.root, twinDir: rig.twinDir }, disabled: ['shelf', 'uptime'] })
    const asked = `${JSON.stringify({ text: 'records\n' })}\n`
    await writeFile(join(rig.twinDir, 'system/shelf.json'), asked)
    await writeFile(join(rig.twinDir, 'system/uptime.json'), `${JSON.stringify({ days: '100' })}\n`)
    rig.git('commit', '-qam', 'edits of documents of disabled providers')
    const both = [
      ['shelf:describe:system/shelf.json', PROVIDER_DISABLED_EDIT_NOT_APPLIED],
      ['uptime:describe:system/uptime.json', PROVIDER_DISABLED_EDIT_NOT_APPLIED],
    ]
    assert.deepEqual(await pending(off), both)
    const items = await off.container.resolve(IntentService).pending()
    assert.equal(items.items[0]?.reason, 'never applied: the shelf provider is disabled in the configuration')
    assert.match(items.items[0]?.nextStep ?? '', /take shelf out of providers\.disabled.*twinsync discard shelf:describe:system\/shelf\.json/)
    const plan = await off.container.resolve(Planner).plan()
    assert.deepEqual(plan.diagnostics.filter((d) => d.change !== undefined).map((d) => [d.change, d.code]), both)

    await writeFile(join(rig.root, 'etc/shelf'), 'books moved\n')
    const snap = await snapshot(off)
    assert.deepEqual(snap.pending.sort(), ['system/shelf.json', 'system/uptime.json'])
    assert.equal(rig.git('show', 'HEAD:system/shelf.json') + '\n', observedShelf, "the snapshot's commit keeps the last observed version")
    assert.equal(await twinFile('system/shelf.json'), asked, 'the edit stays in the working twin')
    assert.deepEqual(await pending(off), both)

    // Enabled again: the provider collects the machine, and the edit is what the twin asks of it.
    await rm(join(rig.root, 'etc/uptime'))
    await snapshot()
    assert.equal(await twinFile('system/shelf.json'), asked, 'not overwritten by its collect')
    assert.deepEqual(await pending(), [['shelf:replace:/etc/shelf', ''], ['uptime:describe:system/uptime.json', 'DESCRIPTION_EDIT_NOT_APPLIED']])

    await off.container.resolve(ReconcileService).discard(['shelf', 'uptime'])
    assert.deepEqual(await pending(off), [])
  })
})

describe('recordingReader: what a load asks for by name', () => {
  it('notes read, readText, sizeOf and blobOf; a listing is no read; a reader without sizeOf or blobOf gets none', async () => {
    const files: Record<string, string> = { 'a/x': 'x', 'a/y': 'y', 'a/z': 'z', 'a/w': 'w', 'a/v': 'v' }
    const base: TwinReader = {
      read: async (p) => (files[p] === undefined ? undefined : Buffer.from(files[p] as string)),
      readText: async (p) => files[p],
      list: async (prefix) => Object.keys(files).filter((p) => p.startsWith(prefix)),
      sizeOf: async (p) => files[p]?.length,
      blobOf: () => undefined,
    }
    const seen = new Set<string>()
    const r = recordingReader(base, seen)
    assert.deepEqual(await r.list('a/'), ['a/x', 'a/y', 'a/z', 'a/w', 'a/v'])
    assert.equal(seen.size, 0)
    await r.read('a/x')
    await r.readText('a/y')
    await r.sizeOf?.('a/z')
    r.blobOf?.('a/w')
    assert.deepEqual([...seen].sort(), ['a/w', 'a/x', 'a/y', 'a/z'])
    const bare = recordingReader({ read: base.read, readText: base.readText, list: base.list }, new Set())
    assert.equal(bare.sizeOf, undefined)
    assert.equal(bare.blobOf, undefined)
  })
})
