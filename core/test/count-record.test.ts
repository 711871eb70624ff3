import { strict as assert } from 'node:assert'
import { countedPhrase, countsTrailer, parseCountsTrailer, recordedCounts } from '../src/history/count-record.js'
import { countsPhrase } from '../src/vocabulary.js'

const TREE = 'a'.repeat(40)
const OTHER = 'b'.repeat(40)

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
    const line = countsTrailer(TREE, recorded)
    assert.equal(line, `TwinSync-Counts: ${TREE.slice(0, 12)} facts=1/twin-files files=2 packages=1/twin-files`)
    const body = `TwinSync snapshot 2026-01-01T00:00:00Z\n\n${line}\n`
    const parsed = parseCountsTrailer(body, TREE)
    assert.deepEqual(parsed?.counts, { facts: 1, files: 2, packages: 1 })
    assert.equal(countedPhrase(parsed!), countsPhrase(domains))
    assert.match(countedPhrase(parsed!), /1 twin file \(packages\)/)
  })

  it('holds only against the parent tree it was counted from; a malformed line is no record', () => {
    const line = countsTrailer(TREE, recordedCounts(domains))
    assert.equal(parseCountsTrailer(line, OTHER), undefined)
    assert.equal(parseCountsTrailer('TwinSync snapshot x', TREE), undefined)
    assert.equal(parseCountsTrailer(`TwinSync-Counts: ${TREE.slice(0, 12)} files=2; rm -rf /`, TREE), undefined)
    assert.equal(parseCountsTrailer(`TwinSync-Counts: ${TREE.slice(0, 12)} files=99999999999`, TREE), undefined)
    assert.deepEqual(parseCountsTrailer(`TwinSync-Counts: ${TREE.slice(0, 12)}`, TREE), { counts: {}, twinFiles: [] })
    assert.equal(countedPhrase({ counts: {}, twinFiles: [] }), 'no changes')
  })
})
