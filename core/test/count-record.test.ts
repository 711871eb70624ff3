import { strict as assert } from 'node:assert'
import { countedPhrase, countsTrailer, parseCountsTrailer, recordedCounts } from '../src/history/count-record.js'
import { countsPhrase } from '../src/vocabulary.js'

const TREE = 'a'.repeat(40)
const OTHER = 'b'.repeat(40)
const OWN = 'c'.repeat(40)
const KEY = Buffer.alloc(32, 7)

describe('counts recorded in a snapshot message (count-record.ts)', () => {
  const domains = {
    files: [
      { provider: 'files', operation: 'changed', resource: '/etc/motd', summary: '/etc/motd changed' },
      { provider: 'files', operation: 'mode', resource: '/etc/motd', summary: '/etc/motd mode changed' },
      { provider: 'files', operation: 'changed', resource: '/etc/issue', summary: '/etc/issue changed' },
    ],
    packages: [{ provider: 'apt', operation: 'added', resource: 'system/packages/apt.json', summary: 'added', twinFile: true as const }],
    facts: [{ provider: 'facts', operation: 'changed', resource: 'system/logs/journal.txt', summary: 'changed', twinFile: true as const }],
  }

  it('round-trips through the trailer, worded as the comparison itself is worded', () => {
    const recorded = recordedCounts(domains)
    const line = countsTrailer(TREE, OWN, recorded, KEY)
    assert.match(line, new RegExp(`^TwinSync-Counts: ${TREE.slice(0, 12)} facts=1/twin-files files=2 packages=1/twin-files sig=[0-9a-f]{32}$`))
    const body = `TwinSync snapshot 2026-01-01T00:00:00Z\n\n${line}\n`
    const parsed = parseCountsTrailer(body, TREE, OWN, KEY)
    assert.deepEqual(parsed?.counts, { facts: 1, files: 2, packages: 1 })
    assert.equal(countedPhrase(parsed!), countsPhrase(domains))
    assert.match(countedPhrase(parsed!), /1 twin file \(packages\)/)
  })

  it('holds only against the parent tree it was counted from; a malformed line is no record', () => {
    const line = countsTrailer(TREE, OWN, recordedCounts(domains), KEY)
    assert.equal(parseCountsTrailer(line, OTHER, OWN, KEY), undefined)
    assert.equal(parseCountsTrailer('TwinSync snapshot x', TREE, OWN, KEY), undefined)
    assert.equal(parseCountsTrailer(`TwinSync-Counts: ${TREE.slice(0, 12)} files=2; rm -rf /`, TREE, OWN, KEY), undefined)
    assert.equal(parseCountsTrailer(`TwinSync-Counts: ${TREE.slice(0, 12)} files=99999999999`, TREE, OWN, KEY), undefined)
    const none = countsTrailer(TREE, OWN, { counts: {}, twinFiles: [] }, KEY)
    assert.deepEqual(parseCountsTrailer(none, TREE, OWN, KEY), { counts: {}, twinFiles: [] })
    assert.equal(countedPhrase({ counts: {}, twinFiles: [] }), 'no changes')
  })

  it('believes only what this twin signed for these two trees: another key, another tree, an edited count or an unsigned line is no record', () => {
    const line = countsTrailer(TREE, OWN, recordedCounts(domains), KEY)
    assert.ok(parseCountsTrailer(line, TREE, OWN, KEY))
    assert.equal(parseCountsTrailer(line, TREE, OWN, undefined), undefined, 'no key: nothing believed')
    assert.equal(parseCountsTrailer(line, TREE, OWN, Buffer.alloc(32, 8)), undefined, 'another clone\'s key')
    assert.equal(parseCountsTrailer(line, TREE, OTHER, KEY), undefined, 'copied onto another tree')
    assert.equal(parseCountsTrailer(line.replace('files=2', 'files=0'), TREE, OWN, KEY), undefined, 'edited')
    assert.equal(parseCountsTrailer(line.replace(/ sig=\S+$/, ''), TREE, OWN, KEY), undefined, 'unsigned')
    assert.equal(parseCountsTrailer(line.replace('files=2', 'files=2 files=0'), TREE, OWN, KEY), undefined, 'a field added')
  })

  it('reads trailers with the same counts as one shared, frozen record, worded once; a signature off by one digit is no record (session 19)', () => {
    const recorded = recordedCounts(domains)
    const first = parseCountsTrailer(countsTrailer(TREE, OWN, recorded, KEY), TREE, OWN, KEY)
    const second = parseCountsTrailer(countsTrailer(OTHER, TREE, recorded, KEY), OTHER, TREE, KEY)
    assert.ok(first !== undefined && first === second, 'one record for the same fields')
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.counts) && Object.isFrozen(first.twinFiles))
    assert.equal(countedPhrase(first), countsPhrase(domains))
    const line = countsTrailer(TREE, OWN, recorded, KEY)
    for (const at of [line.length - 1, line.length - 32]) {
      const digit = line[at] === '0' ? '1' : '0'
      assert.equal(parseCountsTrailer(line.slice(0, at) + digit + line.slice(at + 1), TREE, OWN, KEY), undefined, `signature changed at ${at}`)
    }
  })
})
