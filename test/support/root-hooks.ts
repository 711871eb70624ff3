// Root hooks for every mocha run that reads .mocharc.json or .mocharc.unit.json (CI runs the whole
// suite in ONE process): a guard against state that one test leaves behind and every later test
// pays for.
//
// What it guards against, measured (session 4): secretlint 12's profiler left ~100 performance
// marks per scan in Node's global timeline, and its observer rescanned them all on each new mark.
// Nothing failed; the suite only got slower as it went: the stock-root secret scan took 0.4 s alone
// and 90–170 s late in the CI process, and every push, snapshot and screening test after the first
// few hundred scans paid seconds for it. The timeline is checked after every test (a few
// microseconds while it is empty); a test that leaves it above LIMIT is named and the whole run
// fails at the end, after all tests ran. The timeline is cleared then, so later tests are not
// slowed by what one test left.
import { performance } from 'node:perf_hooks'

/** Entries in the timeline after a test; secretlint's profiler left 100 per scanned text. */
const LIMIT = 1000

const offenders: string[] = []

export const mochaHooks = {
  afterEach(this: Mocha.Context) {
    const marks = performance.getEntriesByType('mark')
    const measures = performance.getEntriesByType('measure')
    if (marks.length + measures.length <= LIMIT) return
    const names = [...new Set([...marks, ...measures].map((e) => e.name.replace(/\|\|.*$/, '')))].slice(0, 5)
    offenders.push(
      `${this.currentTest?.file ?? '?'}: "${this.currentTest?.fullTitle() ?? '?'}" left ${marks.length} performance marks and ${measures.length} measures (${names.join(', ')})`,
    )
    performance.clearMarks()
    performance.clearMeasures()
  },
  afterAll() {
    if (offenders.length === 0) return
    throw new Error(
      `Performance marks piled up in the test process; every later test pays for them (secretlint's always-on profiler once made a 0.4 s scan take 90 s late in the suite). Stop them at the source:\n  ${offenders.join('\n  ')}`,
    )
  },
}
