import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CollectRequest } from '@twinsync/sdk'
import { Planner } from '../src/plan/planner.js'
import { SnapshotService } from '../src/snapshot/snapshot-service.js'
import { notesProvider, type NotesState } from './support/notes-provider.js'
import { unitRig, type UnitRig } from './support/unit-container.js'

/**
 * A provider's comparison that found nothing, not made again while its token and the commit read
 * are the same (core/src/plan/kept-compare.ts). `keepy` gives a token of its machine file and,
 * handed it back, keeps its document and leaves its state out; `liar`, handed any token, says its
 * document is kept under another one, with no state.
 */
describe('kept compare: a plan does not compare again what found nothing under the same token', function () {
  this.timeout(60_000)
  let rig: UnitRig
  const calls = { load: 0, diff: 0, since: [] as Array<{ name: string; since: string | undefined; wholeOnly: boolean | undefined }> }
  /** Set: run by keepy's next collect (a person editing the working twin while the plan reads it). */
  let whileCollecting: (() => Promise<void>) | undefined

  const tokenOf = (text: string) => createHash('sha256').update(text).digest('hex')
  const provider = (name: string, lie: boolean) => {
    const base = notesProvider(name)
    return notesProvider(name, {
      followUps: undefined,
      async collect(request: CollectRequest) {
        const { since, wholeOnly } = request
        calls.since.push({ name, since, wholeOnly })
        const moving = name === 'keepy' ? whileCollecting : undefined
        if (moving !== undefined) {
          whileCollecting = undefined
          await moving()
        }
        const text = (await request.ctx.host.readTextIfExists(`/etc/${name}`)) ?? ''
        const token = tokenOf(text)
        if (since !== undefined && (lie || since === token)) return { state: {} as NotesState, documents: [], diagnostics: [], token: lie ? 'another' : token, kept: [`system/${name}.json`] }
        return { state: { text }, documents: [{ path: `system/${name}.json`, content: `${JSON.stringify({ text })}\n` }], diagnostics: [], token }
      },
      async load(request) {
        calls.load++
        return base.load(request)
      },
      diff(request) {
        calls.diff++
        return base.diff(request)
      },
    })
  }

  before(async () => {
    rig = await unitRig([provider('keepy', false), provider('liar', true)])
    await writeFile(join(rig.root, 'etc/keepy'), 'as it is\n')
    await writeFile(join(rig.root, 'etc/liar'), 'as it is\n')
    await rig.twin().init({ formatVersion: 1, machineId: null, hostname: 'unit' })
    await rig.container.resolve(SnapshotService).snapshot()
  })
  after(() => rig?.cleanup())

  const plan = () => rig.container.resolve(Planner).plan()
  const reset = () => {
    calls.load = 0
    calls.diff = 0
    calls.since.length = 0
  }

  it('compares once; the next plan of the same commit hands the token back (whole only) and compares nothing it kept', async () => {
    reset()
    const first = await plan()
    assert.deepEqual(first.changes, [])
    assert.deepEqual([calls.load, calls.diff], [2, 2])
    reset()
    const second = await plan()
    assert.deepEqual(second.changes, [])
    assert.deepEqual(second.diagnostics, first.diagnostics)
    const keepy = calls.since.find((c) => c.name === 'keepy')
    assert.deepEqual(keepy, { name: 'keepy', since: tokenOf('as it is\n'), wholeOnly: true })
    // keepy not compared; the liar claimed kept under another token (its state left out): collected
    // again without one, whole, whose token is the one its comparison found nothing under.
    assert.deepEqual([calls.load, calls.diff], [0, 0])
    assert.deepEqual(calls.since.filter((c) => c.name === 'liar').map((c) => c.since === undefined), [false, true])
  })

  it("plans a change of the machine, and the liar's, as without the record", async () => {
    await writeFile(join(rig.root, 'etc/keepy'), 'changed\n')
    await writeFile(join(rig.root, 'etc/liar'), 'changed\n')
    reset()
    const p = await plan()
    assert.deepEqual(p.changes.map((c) => c.id).sort(), ['keepy:replace:/etc/keepy', 'liar:replace:/etc/liar'])
  })

  it('plans an edit of the working twin though the machine is as compared', async () => {
    await writeFile(join(rig.root, 'etc/keepy'), 'as it is\n')
    await writeFile(join(rig.root, 'etc/liar'), 'as it is\n')
    assert.deepEqual((await plan()).changes, [])
    await writeFile(join(rig.twinDir, 'system/keepy.json'), `${JSON.stringify({ text: 'edited\n' })}\n`)
    reset()
    const p = await plan()
    assert.deepEqual(p.changes.map((c) => c.id), ['keepy:replace:/etc/keepy'])
    assert.equal(calls.since.find((c) => c.name === 'keepy')?.since, undefined, 'an edited working twin is no commit: no token handed')
  })

  it('records nothing when the working twin was edited while the plan read it: the next plan compares again', async () => {
    await writeFile(join(rig.twinDir, 'system/keepy.json'), `${JSON.stringify({ text: 'as it is\n' })}\n`)
    assert.deepEqual((await plan()).changes, [])
    // The machine moves; while the plan collects, the working twin (HEAD: 'as it is') is edited to
    // what the machine now has, so the comparison finds nothing; then the edit is taken back.
    await writeFile(join(rig.root, 'etc/keepy'), 'moved\n')
    whileCollecting = () => writeFile(join(rig.twinDir, 'system/keepy.json'), `${JSON.stringify({ text: 'moved\n' })}\n`)
    assert.deepEqual((await plan()).changes.map((c) => c.id), [], 'the edit read: nothing to do')
    await writeFile(join(rig.twinDir, 'system/keepy.json'), `${JSON.stringify({ text: 'as it is\n' })}\n`)
    reset()
    const p = await plan()
    assert.deepEqual(p.changes.map((c) => c.id), ['keepy:replace:/etc/keepy'], 'HEAD asks for what the machine no longer has')
    assert.deepEqual([calls.load > 0, calls.diff > 0], [true, true])
  })
})
