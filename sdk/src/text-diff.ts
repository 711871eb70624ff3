import { createRequire } from 'node:module'

/**
 * The one text differ: a unified diff of two versions of a file (jsdiff's: a `====` line, then
 * `--- a/PATH`, `+++ b/PATH` and the hunks diff -u writes, three lines of context), for the
 * plan, `show --diff` and the TUI to show a person exactly what a change does. Every provider uses it (files, crontabs,
 * autostart entries, rc.local). Synchronous and always available: jsdiff is loaded on the first
 * diff, not when the SDK is imported (most commands never diff a file), so what a diff shows
 * never depends on what ran before it. A pathological pair gives up after two seconds and gets
 * no diff (undefined) rather than a stalled plan.
 */
export function textDiff(path: string, before: string, after: string): string | undefined {
  return jsdiff().createTwoFilesPatch(`a${path}`, `b${path}`, before, after, undefined, undefined, { context: 3, timeout: 2000 })
}

type JsDiff = typeof import('diff')
let loaded: JsDiff | undefined

function jsdiff(): JsDiff {
  // A require of our own, not the bundler's: jsdiff stays out of the SDK's bundle and costs
  // nothing until a file differs.
  loaded ??= createRequire(import.meta.url)('diff') as JsDiff
  return loaded
}
