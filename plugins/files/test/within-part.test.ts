import { strict as assert } from 'node:assert'
import sinon from 'sinon'
import { mirrorPath } from '@twinsync/sdk'
import { manifestDocuments, partOf, partPath } from '../src/manifest.js'
import { parsedWithin, withinPart } from '../src/narrow.js'
import type { FileEntry, FilesState } from '../src/state.js'

/** Session 48's withinPart, as it was (d0ec5ed4): both sides parsed and checked whole (narrow.ts keeps it for other layouts). The reference. */
function parsedBoth(part: string, a: string | undefined, b: string | undefined, changedDocuments: ReadonlySet<string>): { older: string; newer: string; same: string[] } | undefined {
  return a === undefined || b === undefined ? undefined : parsedWithin(part, a, b, changedDocuments)
}

/** A small deterministic random source. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const NAMES = ['a', 'a.b', 'a-b', 'a0', 'ä', 'naïve café', 'quote"d', 'back\\slash', 'tab\tname', 'new\nline', '日本', '🙂', 'sp ace', '.hidden', 'x'.repeat(40)]

/** Folders whose part is `part`, from many candidates. */
function foldersOf(part: number, count: number): string[] {
  const found: string[] = []
  for (let i = 0; found.length < count; i++) {
    const folder = `/etc/d${i}/${NAMES[i % NAMES.length] as string}`
    if (partOf(`${folder}/f`) === part) found.push(folder)
  }
  return found
}

/** An entry of each kind the collect writes: files (mirrored, secret with its keyed hash, binary, too large), links, folders, modes, owners, origins, attributes. */
function entryAt(path: string, rnd: () => number): FileEntry {
  const kind = Math.floor(rnd() * 9)
  const base = { gid: kind === 3 ? 1001 : 0, mode: ['0644', '0600', '0755', '4755'][Math.floor(rnd() * 4)] as string, path, uid: kind === 3 ? 1001 : 0 }
  const named = kind === 4 ? base : { ...base, group: kind === 3 ? 'staff' : 'root', owner: kind === 3 ? 'ann' : 'root' }
  const sha = (n: number) => (n.toString(16) + 'a'.repeat(64)).slice(0, 64)
  const n = Math.floor(rnd() * 1e9)
  if (kind === 0) return { ...named, target: `../t/${NAMES[n % NAMES.length] as string}`, type: 'symlink' }
  if (kind === 1) return { ...named, type: 'directory', ...(n % 2 === 0 ? { empty: true } : {}) }
  if (kind === 2) return { content: 'secret', ...named, secret: true, secretHash: `hmac-sha256:${sha(n)}`, secretReason: 'path rule /etc/shadow', size: n % 500, type: 'file' }
  if (kind === 5) return { content: 'binary', ...named, sha256: sha(n), size: n % 9000, type: 'file', xattrs: { 'user.a': 'x', 'security.b': `"v${n}"` } }
  if (kind === 6) return { capabilities: 'cap_net_raw=ep', content: 'too-large', ...named, sha256: sha(n), size: 70_000_000, type: 'file' }
  if (kind === 7) return { content: 'mirrored', ...named, origin: 'package-modified', package: 'pkg-1', divertedFrom: `${path}.orig`, sha256: sha(n), size: n % 4000, type: 'file' }
  return { content: 'mirrored', ...named, origin: 'local', sha256: sha(n), size: n % 4000, type: 'file', text: 'x' }
}

/** The part document the provider writes for these entries (all of `part`). */
function partText(part: number, entries: readonly FileEntry[]): string {
  const state: FilesState = { entries: [...entries].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0)), leftovers: [], accounts: { users: {}, groups: {} } }
  const doc = manifestDocuments(state, { head: true, parts: [] }).find((d) => d.path === partPath(part))
  assert.ok(doc !== undefined)
  return Buffer.from(doc.content as Uint8Array).toString('utf8')
}

function entriesOf(part: number, count: number, rnd: () => number): FileEntry[] {
  const entries: FileEntry[] = []
  for (const folder of foldersOf(part, Math.ceil(count / 6))) {
    for (let i = 0; i < 6 && entries.length < count; i++) entries.push(entryAt(`${folder}/${NAMES[(i * 7) % NAMES.length] as string}${i}`, rnd))
  }
  return entries
}

/** What changes between the two sides. */
const CHANGES: Array<{ name: string; change: (entries: FileEntry[], rnd: () => number, part: number) => FileEntry[] }> = [
  { name: 'one file changed', change: (e) => e.map((x, i) => (i === 3 ? { ...x, sha256: 'b'.repeat(64), size: 19, type: 'file', content: 'mirrored' } as FileEntry : x)) },
  { name: 'a mode changed', change: (e) => e.map((x, i) => (i === 5 ? { ...x, mode: '0700' } : x)) },
  { name: 'an owner changed', change: (e) => e.map((x, i) => (i === 7 ? { ...x, uid: 1234, gid: 1234, owner: 'bob', group: 'bob' } : x)) },
  { name: 'an owner no longer named', change: (e) => e.map((x, i) => (i === 8 ? (({ owner: _o, group: _g, ...rest }) => rest)(x) : x)) },
  { name: 'a file made a link', change: (e) => e.map((x, i) => (i === 2 ? { gid: 0, mode: '0777', path: x.path, uid: 0, target: '/elsewhere', type: 'symlink' } : x)) },
  { name: 'a secret file (redacted) rewritten', change: (e) => e.map((x) => (x.secret === true ? { ...x, secretHash: `hmac-sha256:${'c'.repeat(64)}`, size: 7 } : x)) },
  { name: 'entries added', change: (e, rnd, part) => [...e, ...foldersOf(part, 3).map((f, i) => entryAt(`${f}/added${i}`, rnd))] },
  { name: 'entries removed', change: (e) => e.filter((_, i) => i % 5 !== 1) },
  { name: 'an entry renamed', change: (e) => e.map((x, i) => (i === 4 ? { ...x, path: `${x.path}.renamed` } : x)) },
  { name: 'xattrs changed', change: (e) => e.map((x) => (x.xattrs !== undefined ? { ...x, xattrs: { 'user.a': 'y' } } : x)) },
  { name: 'every entry changed', change: (e) => e.map((x) => ({ ...x, mode: '0666' })) },
  { name: 'nothing changed', change: (e) => e },
  { name: 'all removed but one', change: (e) => e.slice(0, 1) },
]

describe('files provider: a changed part narrowed within (withinPart) without parsing the newer side whole', function () {
  afterEach(() => sinon.restore())

  it('gives what parsing both sides gives, byte for byte: every kind of change, in many parts', function () {
    let compared = 0
    let narrowed = 0
    for (const part of [0, 13, 37, 63]) {
      for (const size of [1, 2, 40, 300]) {
        const rnd = random(part * 1000 + size)
        const before = entriesOf(part, size, rnd)
        const a = partText(part, before)
        for (const { name, change } of CHANGES) {
          const after = change(before.map((e) => ({ ...e })), rnd, part)
          const b = after.length === 0 ? undefined : partText(part, after)
          const docs = [new Set<string>(), new Set([mirrorPath((before[0] as FileEntry).path)]), new Set(before.slice(0, 9).map((e) => mirrorPath(e.path)))]
          for (const changed of docs) {
            const want = parsedBoth(partPath(part), a, b, changed)
            assert.deepEqual(withinPart(partPath(part), a, b, changed), want, `${name}, part ${part}, ${size} entries`)
            // The other way round (an entry gone is one come).
            assert.deepEqual(withinPart(partPath(part), b, a, changed), parsedBoth(partPath(part), b, a, changed), `${name} reversed, part ${part}, ${size} entries`)
            compared++
            if (want !== undefined) narrowed++
          }
        }
      }
    }
    assert.ok(compared > 500 && narrowed > 200, `${compared} compared, ${narrowed} narrowed`)
  })

  /** The older side and a newer side with its text edited by hand (a pull, a person's commit). */
  function edited(edit: (b: string, before: readonly FileEntry[]) => string, size = 40): { a: string; b: string; part: string } {
    const rnd = random(7 + size)
    const before = entriesOf(13, size, rnd)
    const after = before.map((e, i) => (i === 3 ? { ...e, mode: '0700' } : e))
    const b = edit(partText(13, after), before)
    assert.notEqual(b, partText(13, after), 'the edit changed the text')
    return { a: partText(13, before), b, part: partPath(13) }
  }

  const EDITS: Array<{ name: string; edit: (b: string, before: readonly FileEntry[]) => string; refused?: boolean }> = [
    { name: 'an entry whose mode is not one (the schema)', edit: (b) => b.replace('"mode": "0700"', '"mode": "700"'), refused: true },
    { name: 'an entry of another part', edit: (b, before) => b.replace(JSON.stringify((before[10] as FileEntry).path), JSON.stringify(`/srv/other/${partOf('/srv/other/x') === 13 ? 'y/' : ''}z`)), refused: true },
    { name: 'a path twice (a block copied)', edit: (b) => b.replace('\n    }\n  ]\n}\n', `\n    },\n    {\n${b.slice(b.indexOf('{\n', 10) + 2, b.indexOf('\n    }'))}\n    }\n  ]\n}\n`), refused: true },
    { name: 'a path with ".." in it', edit: (b, before) => b.replace(JSON.stringify((before[5] as FileEntry).path), JSON.stringify(`${(before[5] as FileEntry).path}/../x`)), refused: true },
    { name: 'a path with a lone surrogate', edit: (b, before) => b.replace(JSON.stringify((before[6] as FileEntry).path), `${JSON.stringify((before[6] as FileEntry).path).slice(0, -1)}\\ud800"`), refused: true },
    { name: 'a uid no file can have', edit: (b) => b.replace('"uid": 0\n', '"uid": 4294967295\n'), refused: true },
    { name: 'cut short (not JSON)', edit: (b) => b.slice(0, b.length - 9), refused: true },
    { name: 'a key of its own', edit: (b) => b.replace('"mode": "0700",', '"mode": "0700",\n      "note": "mine",'), refused: true },
    {
      name: 'an array by hand that holds a whole block of the older side (the separator inside an entry)',
      edit: (b) => {
        const first = b.indexOf('\n    },\n    {\n')
        const second = b.indexOf('\n    },\n    {\n', first + 1)
        // The second entry's text made an element of an array in the first entry: its blocks cut there, the middle one the older side's.
        return `${b.slice(0, first)},\n      "x": [\n    {\n      "q": 1${b.slice(first, second)}\n    },\n    {\n      "r": 2\n    }]${b.slice(second)}`
      },
      refused: true,
    },
    { name: 'its keys in another order (compared whole)', edit: (b) => b.replace(/"group": "root",\n      "mode": "0700",/, '"mode": "0700",\n      "group": "root",') },
    { name: 'a value spelled another way (the same entry)', edit: (b) => b.replace('"mode": "0644"', '"mode": "\\u0030644"') },
    { name: 'a value spelled another way in every entry', edit: (b) => b.replaceAll('"gid": 0,', '"gid": 0e0,') },
    { name: 'another layout (one line)', edit: (b) => JSON.stringify(JSON.parse(b)) },
    { name: 'another indentation', edit: (b) => JSON.stringify(JSON.parse(b), null, 4) },
    { name: 'no entries', edit: () => '{\n  "entries": []\n}\n' },
    { name: 'a stray key beside the entries', edit: (b) => b.replace('{\n  "entries"', '{\n  "stray": 1,\n  "entries"'), refused: true },
    { name: 'nothing after the entries', edit: (b) => b.slice(0, -1) },
  ]

  for (const { name, edit, refused } of EDITS) {
    it(`gives what parsing both sides gives for a side edited by hand: ${name}`, function () {
      for (const size of [12, 40]) {
        const { a, b, part } = edited(edit, size)
        const want = parsedBoth(part, a, b, new Set())
        if (refused === true) assert.equal(want, undefined, 'the reference refuses it')
        assert.deepEqual(withinPart(part, a, b, new Set()), want)
        assert.deepEqual(withinPart(part, b, a, new Set()), parsedBoth(part, b, a, new Set()))
      }
    })
  }

  it('refuses a part that is no part (a stray name) and a side that is missing, as before', function () {
    const rnd = random(3)
    const a = partText(13, entriesOf(13, 20, rnd))
    for (const stray of ['system/files/manifest/64.json', 'system/files/manifest/13.json.orig', 'system/files/manifest/1.json']) {
      assert.equal(withinPart(stray, a, a, new Set()), undefined)
      assert.equal(parsedBoth(stray, a, a, new Set()), undefined)
    }
    assert.equal(withinPart(partPath(13), undefined, a, new Set()), undefined)
    assert.equal(withinPart(partPath(13), a, undefined, new Set()), undefined)
  })

  it('parses the newer side only in the entries that are not the older side\'s', function () {
    const rnd = random(11)
    const before = entriesOf(13, 300, rnd)
    const after = before.map((e, i) => (i === 100 ? { ...e, mode: '0711' } : e))
    const [a, b] = [partText(13, before), partText(13, after)]
    const parse = sinon.spy(JSON, 'parse')
    const got = withinPart(partPath(13), a, b, new Set())
    const parsed = parse.getCalls().map((c) => String(c.args[0]))
    sinon.restore()
    assert.deepEqual(got, parsedBoth(partPath(13), a, b, new Set()))
    assert.ok(!parsed.includes(b), 'the newer side is not parsed whole')
    assert.ok(parsed.every((text) => text === a || text.length < 2000), `parsed: ${parsed.map((t) => t.length).join(', ')} characters`)
  })
})
