import { strict as assert } from 'node:assert'
import { median, pairedDifference } from './measure.js'
import { atMost, judged, ratioAtMost, renderTable, row } from './report.js'
import { runsIn, SECTIONS } from './sections.js'
import { packedByKind } from './sections/growth.js'

describe('bench report: ratios, goals and the table', () => {
  it('computes the ratio to etckeeper and checks a ratio goal', () => {
    const met = row('s', 'unchanged', { twinsync: 90, etckeeper: 100, goal: ratioAtMost(1.0) })
    assert.equal(met.ratio, 0.9)
    assert.equal(met.met, true)
    const missed = row('s', 'plan', { twinsync: 160, etckeeper: 100, goal: ratioAtMost(1.5) })
    assert.equal(missed.met, false)
    assert.equal(missed.goal, '≤ 1.5× etckeeper')
  })

  it('checks an absolute goal, and leaves a judged goal and a missing figure undecided', () => {
    assert.equal(row('s', 'history', { twinsync: 301, goal: atMost(300, 'ms') }).met, false)
    assert.equal(row('s', 'memory', { unit: 'MB', twinsync: 149, goal: atMost(150, 'MB') }).met, true)
    assert.equal(row('s', 'one change', { twinsync: 5, goal: judged('grows with what changed') }).met, undefined)
    assert.equal(row('s', 'failed', { goal: ratioAtMost(1) }).met, undefined)
  })

  it('prints one line per row with its verdict, and a blank line between sections', () => {
    const text = renderTable([
      row('a', 'first', { twinsync: 1500, etckeeper: 500, goal: ratioAtMost(1.0) }),
      row('b', 'history', { twinsync: 250, goal: atMost(300, 'ms') }),
    ])
    const lines = text.split('\n')
    assert.match(lines[0] ?? '', /^what\s+TwinSync\s+etckeeper\s+ratio\s+goal\s+met\?$/)
    assert.match(lines[2] ?? '', /^first\s+1500 ms\s+500 ms\s+3\.00×\s+≤ 1\.0× etckeeper\s+NO$/)
    assert.equal(lines[3], '')
    assert.match(lines[4] ?? '', /^history\s+250 ms\s+–\s+≤ 300 ms\s+yes$/)
  })

  it('takes the median of odd and even counts and ignores failed (NaN) samples', () => {
    assert.equal(median([3, 1, 2]), 2)
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.equal(median([NaN, 5]), 5)
    assert.ok(Number.isNaN(median([])))
  })

  it('takes the median of run-by-run differences, so a drift that hits both sides cancels', () => {
    const m = (times: number[]) => ({ ms: median(times), peakMb: NaN, runs: times.length, times })
    assert.equal(pairedDifference(m([100, 300, 500]), m([95, 296, 494])), 5)
  })
})

describe("bench growth: what the twin's objects are, by kind", () => {
  it('sums commits, trees and each document with more than one version, largest first; files with one version as one sum', () => {
    const lines = [
      'commit 150 ',
      'commit 160 ',
      'tree 173 ',
      'tree 60 system',
      'tree 51 system/files',
      'blob 17000 system/files/manifest.json',
      'blob 155 system/files/manifest.json',
      'blob 2048 filesystem/etc/a file with spaces.conf',
      'blob 1024 filesystem/etc/once.conf',
      '',
    ].join('\n')
    assert.equal(
      packedByKind(lines),
      'packed bytes by kind: system/files/manifest.json 17 KB (2 versions, 8578 B each), (commits) 0 KB (2 objects, 155 B each), (trees) 0 KB (3 objects, 95 B each); files with one version 3 KB',
    )
  })
})

describe('bench sections: which a run takes', () => {
  it('leaves a section marked onlyWhenNamed out of the whole bench and runs it when BENCH_ONLY names it', () => {
    const growthScale = SECTIONS.find((s) => s.name === 'growth-scale')
    const growth = SECTIONS.find((s) => s.name === 'growth')
    assert.ok(growthScale !== undefined && growth !== undefined)
    assert.equal(runsIn(growthScale, undefined), false)
    assert.equal(runsIn(growthScale, ['growth-scale']), true)
    assert.equal(runsIn(growthScale, ['growth']), false)
    assert.equal(runsIn(growth, undefined), true)
    assert.equal(runsIn(growth, ['scale']), false)
  })
})
