'use strict'
// Memory and speed (issue 22): V8's young generation kept at its first size (1 MB a semi-space,
// `--semi-space-growth-factor=1`) only for a command whose last run was large, not for every run.
//
// V8 doubles the young generation up to 16 MB a semi-space once much of what it holds survives,
// as while a provider builds its state. On a large machine that reserve is most of what the flag
// saves: the scale root's unchanged snapshot peaks at 128-131 MB with it, 165-170 MB without
// (heap in use at the end 50-68 MB). On a machine like the services root (heap in use at the end
// 13-24 MB for a snapshot, `plan`, `status`, a first snapshot) the growth is 3 MB of peak memory
// and the fixed size costs CPU: scavenges of a 1 MB space, many more of them. Session 7 set the
// flag for every run (its figure: unchanged snapshot 140 vs 130 ms wall, `plan` 160 vs 150 ms;
// session 8, services root, medians of 15 interleaved, load 2.2: unchanged snapshot 159.0 vs
// 149.4 ms wall, 154.5 vs 146.1 ms CPU).
//
// A V8 flag is part of the hash V8 stamps on a code cache and checks when it takes one: a cache
// written under another flag set is refused (and compiled again from source), so the flag cannot
// change in the middle of a run (session 7 tried: every run's caches written again), and two
// flag sets on one cache folder must not share cache names. So the flag is chosen before any
// bundle loads, from what the last run of the same command (its first word: `snapshot` for an
// unchanged snapshot and for the first one, whose run tells the most) left: a marker
// `large-heap-<word>` in the code cache's folder (code-cache.js: only a folder that is the user's
// alone), written after a run that ended with LARGE_HEAP or more of V8's heap in use, removed after
// one that ended below it (a run for `--help` leaves it as it is). A run with the flag names its
// code caches (oclif's too) with `.semi1` after the variant. Without a cache folder of the user's
// alone (no code cache either) no marker is kept, and the young generation grows as V8 wants.
// What the marker decides is only how V8 sizes a heap space: the same command, the same output.
const { existsSync, rmSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')

/** V8's heap in use (bytes) at the end of a run at or above which the next run keeps the young generation small. */
const LARGE_HEAP = 40 * 1024 * 1024

/** The marker of a command whose last run was large: by its first word (see the top; bin/run.js's variant before its first dot). */
function markerOf(dir, variant) {
  return join(dir, `large-heap-${variant.split('.')[0]}`)
}

/**
 * The flag for this run of `variant` (set here when chosen): `{ small, suffix }`, suffix what the
 * names of this run's code caches (every file's) end with. `cacheDir` is code-cache.js's.
 */
function chooseYoungGeneration(variant, cacheDir) {
  const dir = cacheDir(false)
  const small = dir !== undefined && existsSync(markerOf(dir, variant))
  if (!small) return { small, suffix: '' }
  // V8 reads the growth factor each time the space would grow, and raises a factor below 2 only
  // when the heap is set up, so 1 set now keeps the size (measured on Node 20; where a V8 grows
  // otherwise, the run only uses more memory).
  require('node:v8').setFlagsFromString('--semi-space-growth-factor=1')
  return { small, suffix: '.semi1' }
}

/**
 * After a run that succeeded: the marker for the next run of `variant`'s command (see the top).
 * `heapUsed`: V8's heap in use now (bytes).
 */
function recordHeap(variant, small, cacheDir, heapUsed = process.memoryUsage().heapUsed) {
  if (variant.endsWith('.help')) return
  const large = heapUsed >= LARGE_HEAP
  if (large === small) return
  try {
    const dir = cacheDir(large)
    if (dir === undefined) return
    if (large) writeFileSync(markerOf(dir, variant), '', { mode: 0o600 })
    else rmSync(markerOf(dir, variant), { force: true })
  } catch {
    // Without the marker the next run only sizes its heap as a small one does.
  }
}

exports.LARGE_HEAP = LARGE_HEAP
exports.chooseYoungGeneration = chooseYoungGeneration
exports.recordHeap = recordHeap
