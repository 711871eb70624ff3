import { createRequire } from 'node:module'
import { spelledLine } from './spelled-text.js'

/**
 * The one text differ: a unified diff of two versions of a file (jsdiff's: a `====` line, then
 * `--- a/PATH`, `+++ b/PATH` and the hunks diff -u writes, three lines of context), for the
 * plan, `show --diff` and the TUI to show a person exactly what a change does. Every provider uses it (files, crontabs,
 * autostart entries, rc.local). Synchronous and always available: jsdiff is loaded on the first
 * diff, not when the SDK is imported (most commands never diff a file), so what a diff shows
 * never depends on what ran before it. A pathological pair (jsdiff's search is O(ND): two
 * 275 KB files of 20,000 different lines take it past two seconds) gets the whole-file diff
 * instead, every old line removed and every new one added, in one hunk: a linear pass, and still
 * every line the change writes. Before session 36 it got no diff at all, and the plan showed such
 * a replace by its sizes and hashes only: a pulled file made that different hid its every line,
 * one added among them too.
 *
 * The path in the `---`/`+++` header is spelled out (spelled-text.ts: `\n`, `\e`, `\u202e`), as
 * every other place that shows a name does: a header is one line whatever the name holds. Before
 * session 42 a machine file named `a<newline>b.conf` (any local user can make one in a mirrored
 * folder) split its header in two, and the second half read as a line of the plan.
 */
export function textDiff(path: string, before: string, after: string): string | undefined {
  const name = spelledLine(path)
  return jsdiff().createTwoFilesPatch(`a${name}`, `b${name}`, before, after, undefined, undefined, { context: 3, timeout: 2000 }) ?? wholeFileDiff(name, before, after)
}

/** One hunk: every line of `before` removed, every line of `after` added (diff -u's marks for a missing last newline); `path` spelled out already. */
function wholeFileDiff(path: string, before: string, after: string): string {
  const side = (text: string, mark: '-' | '+') => {
    if (text === '') return []
    const lines = text.split('\n')
    const ended = text.endsWith('\n')
    if (ended) lines.pop()
    const out = lines.map((line) => `${mark}${line}`)
    if (!ended) out.push('\\ No newline at end of file')
    return out
  }
  const removed = side(before, '-')
  const added = side(after, '+')
  const count = (lines: string[]) => lines.filter((l) => !l.startsWith('\\')).length
  // formatPatch writes a side of no lines as starting at 0, as diff -u does.
  const hunk = { oldStart: 1, oldLines: count(removed), newStart: 1, newLines: count(added), lines: [...removed, ...added] }
  return jsdiff().formatPatch({ oldFileName: `a${path}`, newFileName: `b${path}`, oldHeader: undefined, newHeader: undefined, hunks: [hunk] })
}

type JsDiff = typeof import('diff')
let loaded: JsDiff | undefined

function jsdiff(): JsDiff {
  // A require of our own, not the bundler's: jsdiff stays out of the SDK's bundle and costs
  // nothing until a file differs.
  loaded ??= createRequire(import.meta.url)('diff') as JsDiff
  return loaded
}
