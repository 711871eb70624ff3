import { strict as assert } from 'node:assert'
import type { DescribedPart, Provider, UnappliedPlace } from '@twinsync/sdk'
import { stableStringify } from '@twinsync/sdk'
import { dropEdits, editsOf, indexElements, keepEdits, type DescriptionEdit } from '../src/intent/description-edits.js'
import { assertLinearTime } from '../../test/support/linear-time.js'

/**
 * A family of documents (a `describes` folder: the files manifest as manifest.json alone, or as
 * manifest.json and its parts): a place inside a named element is judged by the element, by its
 * name, wherever the observed twin holds it. Before (session 14), an entry that had only moved
 * between the two forms read as an edit of every described field.
 */
describe('description edits of a family of documents: compared by element, whichever document holds it', () => {
  const provider = { name: 'files', category: 'files' } as unknown as Provider
  const HEAD = 'system/files/manifest.json'
  const PART = 'system/files/manifest/07.json'
  const parts: DescribedPart[] = ['size', 'package'].map((key) => ({ path: HEAD, keys: ['entries', '*', key], appliedFrom: `"${key}" is recorded` }))
  const entry = (path: string, more: Record<string, unknown> = {}) => ({ path, type: 'file', mode: '0644', uid: 0, gid: 0, size: 4, package: 'base-files', ...more })
  const bytes = (value: unknown) => Buffer.from(stableStringify(value))
  const whole = (...entries: unknown[]) => bytes({ version: 1, entries, leftovers: [] })
  const head2 = (...entries: unknown[]) => bytes({ version: 2, entries, leftovers: [] })
  const part = (...entries: unknown[]) => bytes({ entries })
  /** The observed twin split: its elements are in the part. */
  const splitObserved = indexElements([{ version: 2, entries: [], leftovers: [] }, { entries: [entry('/etc/a'), entry('/etc/b')] }])
  const ids = (edits: Array<{ id: string }>) => edits.map((e) => e.id).sort()

  it('an entry only moved from the parts into the whole manifest: no edit', () => {
    assert.deepEqual(editsOf(HEAD, provider, parts, head2(), whole(entry('/etc/a'), entry('/etc/b')), [], splitObserved), [])
  })

  it('the same twin judged by document alone (no family): every field of every entry reads as an edit, the failure of session 14', () => {
    assert.equal(editsOf(HEAD, provider, parts, head2(), whole(entry('/etc/a'), entry('/etc/b'))).length, 4)
  })

  it('a moved entry with a field changed: that field alone is an edit, and discard puts back the value the other document held', () => {
    const intended = whole(entry('/etc/a', { size: 99 }), entry('/etc/b'))
    const edits = editsOf(HEAD, provider, parts, head2(), intended, [], splitObserved)
    assert.deepEqual(ids(edits), [`files:describe:${HEAD}#entries/path=/etc/a/size`])
    assert.deepEqual(edits[0]?.observedValue, { value: 4 })
    const dropped = JSON.parse(Buffer.from(dropEdits(head2(), intended, edits) as Uint8Array).toString('utf8')) as { entries: Array<{ path: string; size: number }> }
    assert.deepEqual(dropped.entries.map((e) => [e.path, e.size]), [['/etc/a', 4], ['/etc/b', 4]])
  })

  it('a field changed in the document that holds the entry on both sides: an edit, kept through a snapshot, dropped by discard', () => {
    const observed = part(entry('/etc/a'), entry('/etc/b'))
    const intended = part(entry('/etc/a', { package: 'other' }), entry('/etc/b'))
    const edits = editsOf(PART, provider, parts, observed, intended, [], indexElements([]))
    assert.deepEqual(ids(edits), [`files:describe:${PART}#entries/path=/etc/a/package`])
    assert.equal(edits[0]?.observedValue, undefined)
    // The machine moved /etc/b meanwhile: kept is the machine's document with the edited place put in.
    const moved = part(entry('/etc/a'), entry('/etc/b', { size: 7 }))
    assert.equal(Buffer.from(keepEdits(moved, intended, edits) as Uint8Array).toString('utf8'), stableStringify({ entries: [entry('/etc/a', { package: 'other' }), entry('/etc/b', { size: 7 })] }))
    assert.deepEqual(dropEdits(observed, intended, edits), observed)
  })

  it('an entry added (held by no observed document) is its planned create, not a description edit; one removed is its planned delete', () => {
    assert.deepEqual(editsOf(HEAD, provider, parts, head2(), whole(entry('/etc/a'), entry('/etc/b'), entry('/etc/new', { size: 1 })), [], splitObserved), [])
    assert.deepEqual(editsOf(PART, provider, parts, part(entry('/etc/a'), entry('/etc/b')), part(entry('/etc/a')), [], splitObserved), [])
  })

  it('an entry in both forms (forged, or a person\'s copy in manifest.json of version 2): each copy judged where it is', () => {
    // The person's copy in the head (it wins over the part's) with a changed size; the part's copy is the machine's.
    const headEdits = editsOf(HEAD, provider, parts, head2(), head2(entry('/etc/a', { size: 12 })), [], splitObserved)
    assert.deepEqual(ids(headEdits), [`files:describe:${HEAD}#entries/path=/etc/a/size`])
    const partEdits = editsOf(PART, provider, parts, part(entry('/etc/a'), entry('/etc/b')), part(entry('/etc/a'), entry('/etc/b')), [], splitObserved)
    assert.deepEqual(partEdits, [])
  })

  it('an unapplied place named in a document that does not hold the entry is judged where the entry is, never as its removal', () => {
    const place = (path: string): UnappliedPlace => ({ path, at: ['entries', { field: 'path', value: '/etc/a' }, 'uid'], nextStep: 'the owner name wins' })
    const intendedPart = part(entry('/etc/a', { uid: 7 }), entry('/etc/b'))
    const observedPart = part(entry('/etc/a'), entry('/etc/b'))
    // The split twin: manifest.json of version 2 holds no entries, the part holds /etc/a.
    assert.deepEqual(editsOf(HEAD, provider, [], head2(), head2(), [place(HEAD)], splitObserved), [])
    const there = editsOf(PART, provider, [], observedPart, intendedPart, [place(PART)], splitObserved)
    assert.deepEqual(ids(there), [`files:describe:${PART}#entries/path=/etc/a/uid`])
    assert.equal(there[0]?.unapplied, true)
  })

  it('an entry whose path has odd characters: one place, its id spelled visibly', () => {
    const odd = '/etc/odd name=\u00e9\tx'
    const observed = indexElements([{ entries: [entry(odd)] }])
    const edits = editsOf(HEAD, provider, parts, head2(), whole(entry(odd, { size: 1 })), [], observed)
    assert.equal(edits.length, 1)
    assert.ok(!(edits[0]?.id ?? '').includes('\t'), edits[0]?.id)
    assert.match(edits[0]?.id ?? '', /^files:describe:system\/files\/manifest\.json#entries\/path=\/etc\/odd name=é.*x\/size$/)
  })
})

describe('description edits of one long list kept and dropped in time of the document (session 39: a takeFrom, a copy of the list, an edit)', function () {
  this.timeout(300_000)
  const n = 20_000
  const entry = (i: number, pkg: string) => ({ path: `/etc/gen/f${String(i).padStart(6, '0')}`, type: 'file', mode: '0644', uid: 0, gid: 0, size: 4, package: pkg })
  const bytes = (value: unknown) => Buffer.from(stableStringify(value))
  const observed = bytes({ entries: Array.from({ length: n }, (_, i) => entry(i, 'base-files')) })
  const intended = bytes({ entries: Array.from({ length: n }, (_, i) => entry(i, 'other')) })
  const PATH = 'system/files/manifest/07.json'
  const edits: DescriptionEdit[] = Array.from({ length: n }, (_, i) => ({
    id: `files:describe:${PATH}#entries/path=/etc/gen/f${String(i).padStart(6, '0')}/package`,
    provider: 'files',
    category: 'files',
    path: PATH,
    unit: ['entries', { field: 'path', value: `/etc/gen/f${String(i).padStart(6, '0')}` }, 'package'],
    summary: 'change',
    nextStep: 'discard',
  }))

  it('20,000 edits of one list kept (keepEdits) and dropped (dropEdits), each in time linear in the document', () => {
    let kept: Uint8Array | undefined
    let dropped: Uint8Array | undefined
    assertLinearTime(() => {
      kept = keepEdits(observed, intended, edits)
    }, intended.toString('utf8'), `${n} edits kept`)
    assertLinearTime(() => {
      dropped = dropEdits(observed, intended, edits)
    }, intended.toString('utf8'), `${n} edits dropped`)
    assert.ok(Buffer.from(kept as Uint8Array).equals(intended))
    assert.ok(Buffer.from(dropped as Uint8Array).equals(observed))
  })
})
