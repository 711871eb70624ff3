import { strict as assert } from 'node:assert'
import { stableStringify } from '@twinsync/sdk'
import { differences, takeFrom } from '../src/intent/json-units.js'
import { familyOf, mergePath, withoutElements } from '../src/intent/merge-path.js'
import { assertLinearTime, assertLinearTimeAsync } from '../../test/support/linear-time.js'

const b = (s: string) => Buffer.from(s)
const text = (u: Uint8Array | undefined) => (u === undefined ? undefined : Buffer.from(u).toString('utf8'))

describe('carrying intent onto a newer observed state (git merge-file)', () => {
  it('takes the side that changed, and the intent when both made the same change', async () => {
    assert.equal(text((await mergePath('a', b('x\n'), b('x\n'), b('y\n'))).content), 'y\n')
    assert.equal(text((await mergePath('a', b('x\n'), b('i\n'), b('x\n'))).content), 'i\n')
    assert.equal(text((await mergePath('a', b('x\n'), b('i\n'), b('i\n'))).content), 'i\n')
    assert.equal((await mergePath('a', b('x\n'), undefined, b('x\n'))).content, undefined, 'a deletion is intent too')
  })

  it('merges edits to different lines; on the same lines the intent wins and it says so', async () => {
    const base = 'a\nb\nc\nd\ne\n'
    const clean = await mergePath('f', b(base), b('a\nB\nc\nd\ne\n'), b('a\nb\nc\nd\nE\n'))
    assert.deepEqual({ text: text(clean.content), conflict: clean.conflict }, { text: 'a\nB\nc\nd\nE\n', conflict: false })
    const clash = await mergePath('f', b(base), b('a\nmine\nc\nd\ne\n'), b('a\ntheirs\nc\nd\ne\n'))
    assert.deepEqual({ text: text(clash.content), conflict: clash.conflict }, { text: 'a\nmine\nc\nd\ne\n', conflict: true })
  })

  it('merges two packages added to apt.json on both sides into valid JSON', async () => {
    const doc = (names: string[]) => stableStringify({ packages: Object.fromEntries(names.map((n) => [n, { manual: true, version: '1' }])) })
    const merged = await mergePath('system/packages/apt.json', b(doc(['bash', 'cron', 'zsh'])), b(doc(['bash', 'cron', 'hello', 'zsh'])), b(doc(['bash', 'cron', 'zsh', 'zstd'])))
    assert.deepEqual(Object.keys((JSON.parse(text(merged.content) as string) as { packages: object }).packages), ['bash', 'cron', 'hello', 'zsh', 'zstd'])
  })

  it('merges a JSON document by its places where its lines conflict: the intended value where both changed one, and the intended file when it is binary', async () => {
    const merged = await mergePath('x.json', b('{\n  "a": 0\n}\n'), b('{\n  "a": 1\n}\n'), b('{\n  "a": 0,\n  "b": 2\n}\n'))
    assert.deepEqual({ text: text(merged.content), conflict: merged.conflict }, { text: '{\n  "a": 1,\n  "b": 2\n}\n', conflict: false })
    const both = await mergePath('x.json', b('{\n  "a": 0\n}\n'), b('{\n  "a": 1\n}\n'), b('{\n  "a": 2,\n  "b": 2\n}\n'))
    assert.deepEqual({ text: text(both.content), conflict: both.conflict }, { text: '{\n  "a": 1,\n  "b": 2\n}\n', conflict: true })
    // The machine came to the value the person asked (an apply did it) beside its own change: agreement, no conflict said.
    const agreed = await mergePath('x.json', b('{\n  "a": 0\n}\n'), b('{\n  "a": 1\n}\n'), b('{\n  "a": 1,\n  "b": 2\n}\n'))
    assert.deepEqual({ text: text(agreed.content), conflict: agreed.conflict }, { text: '{\n  "a": 1,\n  "b": 2\n}\n', conflict: false })
    // Not written as stableStringify writes it: the line merge's answer, the intended lines kept.
    const intended = '{\n  "a": 1\n}\n'
    const loose = await mergePath('x.json', b('{\n  "a": 0\n}\n'), b(intended), b('{"a": 0, "b": 2}\n'))
    assert.equal(loose.conflict, true)
    assert.equal(text(loose.content), intended)
    const binary = await mergePath('bin', b('a\0b'), b('a\0c'), b('a\0d'))
    assert.deepEqual({ text: text(binary.content), conflict: binary.conflict }, { text: 'a\0c', conflict: true })
  })
})

describe('carrying an edit across the files manifest going into parts or back (merged by entries)', () => {
  const entry = (path: string, mode = '0644') => ({ gid: 0, mode, path, type: 'file', uid: 0 })
  const whole = (entries: object[]) => stableStringify({ entries, leftovers: [], version: 1 })
  const bare = (entries: object[] = []) => stableStringify({ entries, leftovers: [], version: 2 })
  const all = ['/etc/a', '/etc/b', '/etc/c', '/etc/d'].map((p) => entry(p))

  it('up: an entry edited in the whole manifest lands alone in the new manifest.json of version 2', async () => {
    const edited = all.map((e) => (e.path === '/etc/b' ? { ...e, mode: '0600' } : e))
    const merged = await mergePath('system/files/manifest.json', b(whole(all)), b(whole(edited)), b(bare()))
    assert.equal(text(merged.content), bare([entry('/etc/b', '0600')]))
    assert.equal(merged.conflict, true, 'the machine moved the entry: said, and the edit kept')
  })

  it('down: a part the machine no longer writes keeps only the entries the person changed', async () => {
    const part = stableStringify({ entries: all })
    const edited = stableStringify({ entries: all.map((e) => (e.path === '/etc/c' ? { ...e, mode: '0600' } : e)) })
    const merged = await mergePath('system/files/manifest/07.json', b(part), b(edited), undefined)
    assert.deepEqual({ text: text(merged.content), conflict: merged.conflict }, { text: stableStringify({ entries: [entry('/etc/c', '0600')] }), conflict: true })
    // Any other document the machine removed and the person edited is kept whole.
    const doc = stableStringify({ packages: { bash: { v: '1' } } })
    const kept = await mergePath('system/packages/apt.json', b(doc), b(stableStringify({ packages: { bash: { v: '2' } } })), undefined)
    assert.equal(text(kept.content), stableStringify({ packages: { bash: { v: '2' } } }))
  })

  it('a part both sides made since the base (kept with the person\'s entries alone, then written again by the machine) is merged entry by entry', async () => {
    const part = (entries: object[]) => stableStringify({ entries })
    const mine = all.find((e) => e.path === '/etc/c') as object
    const merged = await mergePath('system/files/manifest/07.json', undefined, b(part([{ ...mine, mode: '0600' }])), b(part(all)))
    // Before, the person's one-entry part replaced the machine's: its other entries planned away.
    assert.deepEqual({ text: text(merged.content), conflict: merged.conflict }, { text: part(all.map((e) => (e.path === '/etc/c' ? { ...e, mode: '0600' } : e))), conflict: true })
    // A document of another shape, or a mirrored file, both made: the person's whole, as before.
    const apt = await mergePath('system/packages/apt.json', undefined, b(stableStringify({ packages: { a: 1 } })), b(stableStringify({ packages: { b: 1 } })))
    assert.equal(text(apt.content), stableStringify({ packages: { a: 1 } }))
    const mirrored = await mergePath('filesystem/etc/app.json', undefined, b(part([mine])), b(part(all)))
    assert.equal(text(mirrored.content), part([mine]))
  })

  it('an entry the person removed that the machine moved to another document is named, and taken out of that document', async () => {
    // Up: removed from the whole manifest, now in a part.
    const up = await mergePath('system/files/manifest.json', b(whole(all)), b(whole(all.filter((e) => e.path !== '/etc/b'))), b(bare()))
    assert.deepEqual(up.removed, [['entries', { field: 'path', value: '/etc/b' }]])
    assert.equal(text(up.content), bare(), 'nothing here says it goes')
    // Down: removed from a part the machine no longer writes, now in the whole manifest.
    const part = stableStringify({ entries: all })
    const down = await mergePath('system/files/manifest/07.json', b(part), b(stableStringify({ entries: all.filter((e) => e.path !== '/etc/c') })), undefined)
    assert.deepEqual(down.removed, [['entries', { field: 'path', value: '/etc/c' }]])
    // An entry removed where the machine still has it is removed here, not named.
    assert.equal((await mergePath('x.json', b(whole(all)), b(whole(all.slice(1))), b(whole(all.map((e) => (e.path === '/etc/d' ? { ...e, mode: '0600' } : e)))))).removed, undefined)
    const names = new Set(['system/files/manifest.json', 'system/files/manifest/07.json', 'system/files/manifest/12.json', 'system/files/other.json', 'system/packages/apt.json'])
    assert.deepEqual(familyOf('system/files/manifest.json', names), ['system/files/manifest/07.json', 'system/files/manifest/12.json'])
    assert.deepEqual(familyOf('system/files/manifest/07.json', names), ['system/files/manifest.json', 'system/files/manifest/12.json'])
    assert.deepEqual(familyOf('system/packages/apt.json', names), [])
    assert.equal(text(withoutElements(b(whole(all)), [['entries', { field: 'path', value: '/etc/c' }]])), whole(all.filter((e) => e.path !== '/etc/c')))
    assert.equal(withoutElements(b(whole(all)), [['entries', { field: 'path', value: '/etc/z' }]]), undefined, 'not there: nothing to write')
  })

  it('down: an entry added to manifest.json of version 2 is merged into the whole manifest, every other entry the machine\'s', async () => {
    const now = all.map((e) => (e.path === '/etc/d' ? { ...e, mode: '0755' } : e))
    const merged = await mergePath('system/files/manifest.json', b(bare()), b(bare([entry('/etc/b', '0600')])), b(whole(now)))
    assert.equal(text(merged.content), whole(now.map((e) => (e.path === '/etc/b' ? { ...e, mode: '0600' } : e))))
  })
})

describe('an entry both sides added (the person by hand, the machine once the apply made it)', () => {
  const collected = (path: string, extra: object = {}) => ({ content: 'mirrored', gid: 0, group: 'root', mode: '0644', origin: 'local', owner: 'root', path, sha256: 'a'.repeat(64), size: 3, type: 'file', uid: 0, ...extra })
  const whole = (entries: object[]) => stableStringify({ entries, leftovers: [], version: 1 })
  const observed = [collected('/etc/site/a.conf'), collected('/etc/site/b.conf'), collected('/etc/site/z.conf')]
  const added = (e: object) => [...observed.slice(0, 2), e, ...observed.slice(2)]
  // The person leaves out what the collector fills in (names, size, hash, origin).
  const byHand = { content: 'mirrored', gid: 0, mode: '0640', path: '/etc/site/new.conf', type: 'file', uid: 0 }
  const byMachine = collected('/etc/site/new.conf', { mode: '0640', sha256: 'b'.repeat(64), size: 4 })

  it('is listed once: a line merge that keeps both copies is merged by entries instead (the conflict said)', async () => {
    const merged = await mergePath('system/files/manifest.json', b(whole(observed)), b(whole(added(byHand))), b(whole(added(byMachine))))
    const entries = (JSON.parse(text(merged.content) as string) as { entries: Array<{ path: string }> }).entries
    // Before, git merge-file kept both copies without a conflict: FILES_MANIFEST_DUPLICATE ever after.
    assert.deepEqual(entries.map((e) => e.path), ['/etc/site/a.conf', '/etc/site/b.conf', '/etc/site/new.conf', '/etc/site/z.conf'])
    assert.deepEqual(entries[2], byHand, "the person's entry where both wrote one (settle takes the machine's once the provider plans nothing)")
    assert.equal(merged.conflict, true)
  })

  it('an entry the person appended out of order is listed once too', async () => {
    const merged = await mergePath('system/files/manifest.json', b(whole(observed)), b(JSON.stringify({ entries: [...observed, byHand], leftovers: [], version: 1 }, null, 2) + '\n'), b(whole(added(byMachine))))
    const paths = (JSON.parse(text(merged.content) as string) as { entries: Array<{ path: string }> }).entries.map((e) => e.path)
    assert.equal(paths.filter((p) => p === '/etc/site/new.conf').length, 1, paths.join(' '))
  })

  it('a name a side already lists twice is not what the line merge made: its answer stands', async () => {
    const twice = whole([...observed, observed[2] as object])
    const merged = await mergePath('system/x/doc.json', b(whole(observed)), b(twice), b(whole(observed)))
    assert.equal(text(merged.content), twice)
  })
})

describe('the smallest places two twin documents differ', () => {
  it('finds keys of maps and entries of named lists, and moves one at a time', () => {
    const observed = { packages: { bash: { v: '1' }, cron: { v: '1' } }, entries: [{ path: '/etc/a', mode: '0644' }, { path: '/etc/b', mode: '0644' }] }
    const intended = { packages: { bash: { v: '2' }, hello: { v: '1' } }, entries: [{ path: '/etc/a', mode: '0600' }, { path: '/etc/c', mode: '0644' }] }
    const units = differences(intended, observed)
    assert.deepEqual(units.map((u) => JSON.stringify(u)), [
      '["entries",{"field":"path","value":"/etc/a"},"mode"]',
      '["entries",{"field":"path","value":"/etc/b"}]',
      '["entries",{"field":"path","value":"/etc/c"}]',
      '["packages","bash","v"]',
      '["packages","cron"]',
      '["packages","hello"]',
    ])
    // Take the observed value of two places into the intended document: hello goes, /etc/b comes back.
    const step1 = takeFrom(intended, observed, ['packages', 'hello'])
    const step2 = takeFrom(step1, observed, ['entries', { field: 'path', value: '/etc/b' }])
    assert.deepEqual(step2, { packages: { bash: { v: '2' } }, entries: [{ path: '/etc/a', mode: '0600' }, { path: '/etc/b', mode: '0644' }, { path: '/etc/c', mode: '0644' }] })
    assert.deepEqual(intended.packages.hello, { v: '1' }, 'the input is not changed')
  })

  it('treats a list without names as one value', () => {
    assert.deepEqual(differences({ l: [1, 2] }, { l: [1, 3] }), [['l']])
  })
})

describe('the place merge never loses what a person asked for (attacked)', () => {
  const rules = (list: [string, number][]) => stableStringify({ rules: list.map(([name, v]) => ({ name, v })) })
  const merge = async (path: string, base: string | Buffer, mine: string | Buffer, theirs: string | Buffer | undefined) => {
    const m = await mergePath(path, Buffer.from(base), Buffer.from(mine), theirs === undefined ? undefined : Buffer.from(theirs))
    return { text: text(m.content), conflict: m.conflict }
  }

  it('a list the person reordered, or that is not in its names\' order, is one place: the order is kept and the conflict said', async () => {
    // The machine changed an element on the same lines; before, the person's new order was dropped unsaid.
    const reordered = rules([['a', 1], ['z', 1]])
    assert.deepEqual(await merge('system/x/rules.json', rules([['z', 1], ['a', 1]]), reordered, rules([['z', 2], ['a', 1]])), { text: reordered, conflict: true })
    // An element added to a list in its own order: before, the machine's list came back sorted by name (z, a → a, m, z).
    const added = rules([['z', 1], ['a', 1], ['m', 1]])
    assert.deepEqual(await merge('system/x/rules.json', rules([['z', 1], ['a', 1]]), added, rules([['z', 1], ['a', 2]])), { text: added, conflict: true })
    // A list in its names' order on both sides is still merged element by element.
    assert.deepEqual(await merge('system/x/rules.json', rules([['a', 1], ['z', 1]]), rules([['a', 1], ['m', 1], ['z', 1]]), rules([['a', 2], ['z', 1]])), {
      text: rules([['a', 2], ['m', 1], ['z', 1]]),
      conflict: false,
    })
  })

  it('a mirrored file keeps the person\'s bytes: merged by places only from a document written as stableStringify writes it, and kept whole when the machine removed it', async () => {
    const mine = '{\n    "a": 1,\n    "b": 0\n}\n'
    assert.deepEqual(await merge('filesystem/etc/app.json', '{\n  "a": 0,\n  "b": 0\n}\n', mine, '{\n  "a": 0,\n  "b": 2\n}\n'), { text: mine, conflict: true })
    // A provider's document is read by its values: merged.
    assert.deepEqual(await merge('system/x/doc.json', '{\n  "a": 0,\n  "b": 0\n}\n', mine, '{\n  "a": 0,\n  "b": 2\n}\n'), { text: '{\n  "a": 1,\n  "b": 2\n}\n', conflict: false })
    const list = (names: string[]) => stableStringify({ l: names.map((name) => ({ name })) })
    assert.deepEqual(await merge('filesystem/etc/app.json', list(['a']), list(['a', 'b']), undefined), { text: list(['a', 'b']), conflict: true })
  })

  it('bytes that are not UTF-8 are not rewritten (JSON places, any line merge)', async () => {
    const latin = (b2: string) => Buffer.concat([b('{\n  "a": "caf'), Buffer.from([0xe9]), b(`",\n  "b": ${b2}\n}\n`)])
    // Before, the é of a place nobody changed came back as U+FFFD.
    const merged = await mergePath('system/x/doc.json', latin('0'), latin('1'), latin('2'))
    assert.deepEqual({ bytes: Buffer.from(merged.content ?? []).toString('hex'), conflict: merged.conflict }, { bytes: latin('1').toString('hex'), conflict: true })
    // Any file's line merge: git merge-file's output taken as bytes, not decoded as UTF-8.
    const conf = (v: string) => Buffer.concat([b('name=caf'), Buffer.from([0xe9]), b(`\nb=${v}\n`)])
    const lines = await mergePath('filesystem/etc/app.conf', conf('0'), conf('1'), conf('2'))
    assert.deepEqual({ bytes: Buffer.from(lines.content ?? []).toString('hex'), conflict: lines.conflict }, { bytes: conf('1').toString('hex'), conflict: true })
  })

  it('keys named like Object.prototype\'s are keys: "__proto__" kept, "constructor" not taken for one', async () => {
    const merged = await merge('system/x/doc.json', '{\n  "b": 0\n}\n', '{\n  "__proto__": 5,\n  "b": 1\n}\n', '{\n  "b": 2,\n  "c": 0\n}\n')
    assert.deepEqual(merged, { text: '{\n  "__proto__": 5,\n  "b": 1,\n  "c": 0\n}\n', conflict: true })
    const added = await merge('system/x/doc.json', '{\n  "b": 0\n}\n', '{\n  "b": 0,\n  "constructor": 5\n}\n', '{\n  "b": 2,\n  "c": 0\n}\n')
    assert.equal(added.text, '{\n  "b": 2,\n  "c": 0,\n  "constructor": 5\n}\n')
  })

  it('a place the machine made something else than a map is taken whole from the person', async () => {
    const mine = stableStringify({ a: { b: 2, c: 1 } })
    assert.deepEqual(await merge('system/x/doc.json', stableStringify({ a: { b: 1, c: 1 } }), mine, stableStringify({ a: 'x' })), { text: mine, conflict: true })
  })

  it('a document nested deeper than the stack is kept as the person wrote it, with the conflict said (no crash)', async () => {
    const deep = `{\n  "a": ${'['.repeat(100_000)}${']'.repeat(100_000)}\n}\n`
    assert.deepEqual(await merge('system/x/doc.json', '{\n  "a": 0\n}\n', deep, '{\n  "a": 2\n}\n'), { text: deep, conflict: true })
  })
})

describe('the place merge in time of the document (session 39: a takeFrom and valueAt a place, n² for n places)', function () {
  this.timeout(300_000)
  const entry = (i: number, mode = '0644') => ({ gid: 0, mode, path: `/etc/gen/d${String(i).padStart(6, '0')}`, type: 'directory', uid: 0 })
  const n = 20_000
  const all = Array.from({ length: n }, (_, i) => entry(i))
  const part = stableStringify({ entries: all })

  it('a part of 20,000 entries the machine no longer writes, every entry edited: merged by its places in time linear in it', async () => {
    const edited = all.map((e) => ({ ...e, mode: '0600' }))
    let merged: Awaited<ReturnType<typeof mergePath>> | undefined
    await assertLinearTimeAsync(async () => {
      merged = await mergePath('system/files/manifest/07.json', b(part), b(stableStringify({ entries: edited })), undefined)
    }, part, `${n} places merged`)
    assert.deepEqual({ text: text(merged?.content), conflict: merged?.conflict }, { text: stableStringify({ entries: edited }), conflict: true })
  })

  it('20,000 entries taken out of a document (withoutElements) in time linear in it', () => {
    let out: Uint8Array | undefined
    const units = all.map((e) => ['entries', { field: 'path', value: e.path }] as Parameters<typeof withoutElements>[1][number]).reverse()
    assertLinearTime(() => {
      out = withoutElements(b(part), units)
    }, part, `${n} entries taken out`)
    assert.equal(text(out), stableStringify({ entries: [] }))
  })
})
