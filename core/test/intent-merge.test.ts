import { strict as assert } from 'node:assert'
import { stableStringify } from '@twinsync/sdk'
import { differences, takeFrom } from '../src/intent/json-units.js'
import { mergePath } from '../src/intent/merge-path.js'

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

  it('keeps the intended lines when both sides changed the same ones, and the intended file when it is binary', async () => {
    const intended = '{\n  "a": 1\n}\n'
    const merged = await mergePath('x.json', b('{\n  "a": 0\n}\n'), b(intended), b('{\n  "a": 0,\n  "b": 2\n}\n'))
    assert.equal(text(merged.content), intended)
    assert.equal(merged.conflict, true)
    const binary = await mergePath('bin', b('a\0b'), b('a\0c'), b('a\0d'))
    assert.deepEqual({ text: text(binary.content), conflict: binary.conflict }, { text: 'a\0c', conflict: true })
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
