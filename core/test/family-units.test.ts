import assert from 'node:assert/strict'
import { stableStringify, type Change, type DescribedPart } from '@twinsync/sdk'
import { adoptApplied, type AskedUnit, type Sides } from '../src/intent/asked-units.js'
import { promoteFamily, type FamilyPromotion } from '../src/intent/family-units.js'

// Promotion of the files manifest's family (manifest.json and manifest/NN.json) across layouts:
// places matched by the entry's path, wherever each tree holds it (family-units.ts).
const HEAD = 'system/files/manifest.json'
const P = 'system/files/manifest/07.json'
const Q = 'system/files/manifest/21.json'
const bytes = (v: unknown) => Buffer.from(stableStringify(v))
const entry = (path: string, mode = '0644', size = 3) => ({ gid: 0, mode, path, size, type: 'file', uid: 0 })
const whole = (...entries: object[]) => ({ entries, leftovers: [], version: 1 })
const head = () => ({ entries: [], leftovers: [], version: 2 })
const part = (...entries: object[]) => ({ entries })
const change = (id: string, resource: string): Change => ({ id, provider: 'files', category: 'files', operation: id.split(':')[1] as string, resource, summary: id, risk: 'low' })
const described: DescribedPart[] = [{ path: HEAD, keys: ['entries', '*', 'size'], appliedFrom: 'the file' }]

/** Sides from documents per tree (undefined: absent there). */
function sides(docs: Record<string, { was?: unknown; wants?: unknown; now?: unknown }>): Sides[] {
  return Object.entries(docs).map(([path, d]) => ({
    path,
    was: d.was === undefined ? undefined : bytes(d.was),
    wants: d.wants === undefined ? undefined : bytes(d.wants),
    now: d.now === undefined ? undefined : bytes(d.now),
    nowMode: d.now === undefined ? undefined : '100644',
    wantsMode: d.wants === undefined ? undefined : '100644',
  }))
}

function promoted(s: Sides[], asked: Change[]): FamilyPromotion {
  const out = promoteFamily(s, asked, [], () => described)
  assert.ok(!('unreadable' in out), JSON.stringify(out))
  return out
}

const written = (p: FamilyPromotion) => Object.fromEntries(p.writes.map((w) => [w.path, w.content === undefined ? undefined : JSON.parse(Buffer.from(w.content).toString('utf8'))]))

/** The working twin's documents after the apply made every asked change: adoptApplied per path. */
function undone(now: Record<string, unknown>, was: Record<string, unknown>, units: readonly AskedUnit[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...now }
  for (const path of new Set(units.map((u) => u.path))) {
    const back = adoptApplied(path, now[path] === undefined ? undefined : bytes(now[path]), was[path] === undefined ? undefined : bytes(was[path]), units.filter((u) => u.path === path))
    if (back !== undefined) out[path] = back.content === undefined ? undefined : JSON.parse(Buffer.from(back.content).toString('utf8'))
  }
  return out
}

describe('promotion of a family of documents (the files manifest whole and in parts)', () => {
  it('across the threshold: the asked entry is taken where the working twin holds it, nothing else; undone, the working twin is the checkpoint again', () => {
    const was = { [HEAD]: head(), [P]: part(entry('/etc/a', '0600'), entry('/etc/b')) }
    const s = sides({ [HEAD]: { was: head(), wants: whole(entry('/etc/a'), entry('/etc/b', '0600', 9)), now: head() }, [P]: { was: was[P], now: was[P] } })
    const p = promoted(s, [change('files:chmod:/etc/a', '/etc/a')])
    assert.deepEqual(written(p), { [P]: part(entry('/etc/a'), entry('/etc/b')) })
    assert.deepEqual(
      p.units.map((u) => [u.path, u.at]),
      [[P, ['entries', { field: 'path', value: '/etc/a' }, 'mode']]],
    )
    assert.deepEqual(undone({ [HEAD]: head(), [P]: part(entry('/etc/a'), entry('/etc/b')) }, was, p.units), was)
  })

  it('and the other way: the working twin one document, the plan\'s twin in parts', () => {
    const was = { [HEAD]: whole(entry('/etc/a', '0600'), entry('/etc/b')) }
    const s = sides({ [HEAD]: { was: was[HEAD], wants: head(), now: was[HEAD] }, [P]: { wants: part(entry('/etc/a'), entry('/etc/b')) } })
    const p = promoted(s, [change('files:chmod:/etc/a', '/etc/a')])
    assert.deepEqual(written(p), { [HEAD]: whole(entry('/etc/a'), entry('/etc/b')) }, 'no part made, version kept')
    assert.deepEqual(undone(written(p), was, p.units), was)
  })

  it('a part the plan\'s twin gains (a new folder): made with the asked entries alone, and gone again once applied', () => {
    const was = { [HEAD]: head(), [P]: part(entry('/etc/a')) }
    const s = sides({ [HEAD]: { was: head(), wants: head(), now: head() }, [P]: { was: was[P], wants: was[P], now: was[P] }, [Q]: { wants: part(entry('/etc/new/x'), entry('/etc/new/y')) } })
    const p = promoted(s, [change('files:create:/etc/new/y', '/etc/new/y')])
    assert.deepEqual(written(p), { [Q]: part(entry('/etc/new/y')) })
    assert.ok(p.units.every((u) => u.made === true && u.drop === true))
    assert.deepEqual(undone({ ...was, ...written(p) }, was, p.units), { ...was, [Q]: undefined })
  })

  it('a removal across the threshold: the entry leaves the working twin\'s part, and comes back once applied', () => {
    const was = { [HEAD]: head(), [P]: part(entry('/etc/a'), entry('/etc/b')) }
    const s = sides({ [HEAD]: { was: head(), wants: whole(entry('/etc/a')), now: head() }, [P]: { was: was[P], now: was[P] } })
    const p = promoted(s, [change('files:delete:/etc/b', '/etc/b')])
    assert.deepEqual(written(p), { [P]: part(entry('/etc/a')) })
    assert.deepEqual(undone(written(p), was, p.units), { [P]: was[P] })
  })

  it('a person\'s copy of the entry beside the machine\'s (an edit carried across the threshold) is kept; once applied it leaves, the machine\'s copy stays', () => {
    const was = { [HEAD]: head(), [P]: part(entry('/etc/a', '0600')) }
    const edited = { entries: [entry('/etc/a')], leftovers: [], version: 2 }
    const s = sides({ [HEAD]: { was: head(), wants: edited, now: edited }, [P]: { was: was[P], wants: was[P], now: was[P] } })
    const p = promoted(s, [change('files:chmod:/etc/a', '/etc/a')])
    assert.deepEqual(p.writes, [])
    assert.deepEqual(undone({ [HEAD]: edited, [P]: was[P] }, was, p.units), was)
  })

  it('a working twin laid out otherwise than the checkpoint (a pulled twin of the other form): nothing taken, and nothing undone after the apply', () => {
    const was = { [HEAD]: head(), [P]: part(entry('/etc/a'), entry('/etc/b')) }
    const pulled = whole(entry('/etc/a', '0600'), entry('/etc/b'))
    const s = sides({ [HEAD]: { was: head(), wants: pulled, now: pulled }, [P]: { was: was[P] } })
    const p = promoted(s, [change('files:chmod:/etc/a', '/etc/a')])
    assert.deepEqual(p.writes, [])
    assert.deepEqual(undone({ [HEAD]: pulled }, was, p.units), { [HEAD]: pulled })
  })

  it('neither an entry nobody asked for nor a described key (size) is taken', () => {
    const was = { [HEAD]: head(), [P]: part(entry('/etc/a'), entry('/etc/b')) }
    const s = sides({ [HEAD]: { was: head(), wants: whole(entry('/etc/a', '0600', 7), entry('/etc/b', '0600'), entry('/etc/c')), now: head() }, [P]: { was: was[P], now: was[P] } })
    const p = promoted(s, [change('files:chmod:/etc/a', '/etc/a')])
    assert.deepEqual(written(p), { [P]: part(entry('/etc/a', '0600'), entry('/etc/b')) })
  })

  it('an apply of 30,000 creates under one folder: promoted and undone in time of the entries (CPU under 3 s; 18 s in the CLI before)', function () {
    this.timeout(600_000)
    // A twin's manifest asking for 30,000 subfolders of one folder, all applied: each create's
    // entry taken into the working twin's manifest, then given back the checkpoint's (none).
    // Before (session 37), the asked list filtered and the manifest's list copied and walked
    // per entry: 18.4 s of an apply's 59.6 s of CPU in promotion, 2.7 s undoing it.
    const dir = (i: number) => ({ gid: 0, mode: '0755', path: `/etc/gen/d${String(i).padStart(6, '0')}`, type: 'directory', uid: 0 })
    const kids = Array.from({ length: 30_000 }, (_, i) => dir(i))
    const was = whole(entry('/etc/a'), entry('/etc/b'))
    const wants = whole(entry('/etc/a'), entry('/etc/b'), { gid: 0, mode: '0755', path: '/etc/gen', type: 'directory', uid: 0 }, ...kids)
    // The working twin: the checkpoint with a person's chmod nobody asked for (the plan made from another tree: a restore from a pulled twin).
    const now = whole(entry('/etc/a', '0600'), entry('/etc/b'))
    const asked = (wants.entries.slice(2) as Array<{ path: string }>).map((e) => change(`files:create:${e.path}`, e.path))
    const s = sides({ [HEAD]: { was, wants, now } })
    const started = process.cpuUsage()
    const p = promoted(s, asked)
    const back = adoptApplied(HEAD, p.writes[0]?.content, bytes(was), p.units)
    const used = process.cpuUsage(started)
    assert.equal(p.units.length, 30_001)
    assert.deepEqual(p.units[0], { path: HEAD, at: ['entries', { field: 'path', value: '/etc/gen' }], changes: ['files:create:/etc/gen'], desired: wants.entries[2], drop: true })
    assert.deepEqual(written(p), { [HEAD]: whole(entry('/etc/a', '0600'), ...wants.entries.slice(1)) }, "every create taken; the person's chmod of /etc/a kept")
    assert.deepEqual(JSON.parse(Buffer.from(back?.content as Uint8Array).toString('utf8')), now, 'undone: the creates leave, the chmod stays')
    assert.ok(used.user + used.system < 3_000_000, `${((used.user + used.system) / 1e6).toFixed(1)} s of CPU`)
  })

  it('a document that is no JSON object: not promoted, with the reason', () => {
    const out = promoteFamily([{ path: P, was: Buffer.from('['), wants: undefined, now: undefined }], [], [], () => [])
    assert.ok('unreadable' in out)
  })
})
