// Root hooks for every mocha run that reads .mocharc.json or .mocharc.unit.json (CI runs the whole
// suite as two processes, test/support/split-suite.ts, each with about half the files): a guard
// against state that one test leaves behind and every later test of its process pays for. The
// count is per process, so each group is checked on its own.
//
// What it guards against, measured (session 4): secretlint 12's profiler left ~100 performance
// marks per scanned text in Node's global timeline, and its observer rescanned all of them on each
// new mark. Nothing failed; the suite only got slower as it went: the stock-root secret scan took
// 0.4 s alone and 90–170 s late in the CI process, and every push, snapshot and screening test
// after the first few thousand scans paid seconds for it.
//
// After every test the marks in the timeline are counted per file and the timeline is emptied (a
// few microseconds while it is empty). React's development build, which the TUI unit tests render
// with, adds a `performance.measure` per render: those are emptied too, not counted. When the
// whole run left more than LIMIT marks, the run fails at the end (after every test ran), naming
// the files that left the most.
import { existsSync, rmSync } from 'node:fs'
import { performance } from 'node:perf_hooks'

/** Marks over the whole run; secretlint's profiler left 100 per scanned text, so ten scans. */
const LIMIT = 1000

/**
 * The host's own token file (root's: /var/lib/twinsync/credentials). A test's twinsync must use
 * its sandbox's (test/support/cli.ts sets TWINSYNC_CREDENTIALS): the machine-wide file was shared
 * by both CI groups, and one group's token made the other's push REMOTE_AUTH (session 20). A file
 * that appears during the run is a test's: it is named, removed, and fails the run at the end.
 */
const HOST_CREDENTIALS = '/var/lib/twinsync/credentials'
const hostHadCredentials = existsSync(HOST_CREDENTIALS)
const wroteHostCredentials: string[] = []

const marksByFile = new Map<string, { marks: number; names: Set<string> }>()
let total = 0

export const mochaHooks = {
  afterEach(this: Mocha.Context) {
    const marks = performance.getEntriesByType('mark')
    if (marks.length > 0) {
      const file = this.currentTest?.file ?? '?'
      const seen = marksByFile.get(file) ?? { marks: 0, names: new Set<string>() }
      seen.marks += marks.length
      for (const m of marks.slice(0, 20)) seen.names.add(m.name.replace(/\|\|.*$/, ''))
      marksByFile.set(file, seen)
      total += marks.length
      performance.clearMarks()
    }
    if (performance.getEntriesByType('measure').length > 0) performance.clearMeasures()
    if (!hostHadCredentials && existsSync(HOST_CREDENTIALS)) {
      wroteHostCredentials.push(`${this.currentTest?.file ?? '?'}: ${this.currentTest?.fullTitle() ?? '?'}`)
      rmSync(HOST_CREDENTIALS, { force: true })
    }
  },
  afterAll() {
    if (wroteHostCredentials.length > 0) {
      throw new Error(`A test wrote the host's ${HOST_CREDENTIALS} (give twinsync TWINSYNC_CREDENTIALS in the test's sandbox; with two groups at once, the other group's test may be the one):\n  ${wroteHostCredentials.join('\n  ')}`)
    }
    if (total <= LIMIT) return
    const worst = [...marksByFile].sort((a, b) => b[1].marks - a[1].marks).slice(0, 5)
    throw new Error(
      `The tests left ${total} performance marks in the process; every later test may pay for them (secretlint's always-on profiler once made a 0.4 s scan take 90 s late in the suite). Stop them at the source:\n  ${worst
        .map(([file, s]) => `${file}: ${s.marks} marks (${[...s.names].slice(0, 4).join(', ')})`)
        .join('\n  ')}`,
    )
  },
}
