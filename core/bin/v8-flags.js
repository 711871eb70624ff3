'use strict'
// Speed and memory (issue 22, session 8): the V8 flags of a run, chosen per command from what
// that command's last run left, before any bundle loads.
//
// - TurboFan held back for a short run: `--interrupt-budget` 8 times V8's default (540672), so
//   only a function that runs very hot is optimised. A command-line run is over in a fraction of
//   a second, and TurboFan compiled (on a second thread) far more than it paid back: about 16% of
//   an unchanged snapshot's instructions (callgrind, services root). CPU (user + sys, medians of
//   15 interleaved, load 9-11, the flag given on the command line): services root, unchanged
//   snapshot 133.0 → 121.1 ms (`--no-opt` 121.2); scale root (5,000 packages, 20,000 files),
//   unchanged snapshot 977 → 908 ms (`--no-opt` 873). A long run is another matter: the scale
//   root's first snapshot (7.3 s of CPU) took 7% more with it (`--no-opt` 13% more), so a command
//   whose last run took LONG_CPU or more runs with V8's own budget.
// - V8's young generation kept at its first size (1 MB a semi-space,
//   `--semi-space-growth-factor=1`) for a command whose last run was large. V8 doubles it up to
//   16 MB a semi-space once much of what it holds survives, as while a provider builds its state.
//   On a large machine that reserve is most of what the flag saves: the scale root's unchanged
//   snapshot peaks at 128-131 MB with it, 165-170 MB without (heap in use at the end 50-68 MB).
//   On a machine like the services root (heap in use at the end 13-24 MB for a snapshot, `plan`,
//   `status`, a first snapshot) the growth is 3 MB of peak memory and the fixed size costs CPU:
//   scavenges of a 1 MB space, many more of them. Session 7 set the flag for every run (its
//   figure: unchanged snapshot 140 vs 130 ms wall, `plan` 160 vs 150 ms; session 8, services
//   root, medians of 15 interleaved, load 2.2: unchanged snapshot 159.0 vs 149.4 ms wall, 154.5
//   vs 146.1 ms CPU).
//
// - V8's young generation grown 16 times over instead of twice when it first grows, in a short
//   run whose last run was small (session 10): a command's start fills it with what mostly
//   survives (the bundles' functions and closures, oclif's and the commands' objects), and each
//   scavenge copies that again. The unchanged snapshot of the minbase root scavenged 6 times,
//   with this 3 times: 400.6 → 382.7 M instructions (callgrind, three runs each, less V8's random
//   hash-seed work; a factor of 8: 393 M), peak memory 69.3 → 73.7 MB (the 16 MB semi-space V8
//   grows to anyway, reached sooner). Not for a long or large run (the scale root's first
//   snapshot, a large machine's commands), whose memory is the goal there.
//
// - Every regular expression a run makes compiled to machine code at its first execution
//   (`--regexp-tier-up-ticks=0`, session 51), in a long or large run too. V8 11.3 compiles an
//   expression to bytecode for its interpreter at its first execution and again to machine code at
//   its second (or at once for a subject of 1,000 characters or more). A first snapshot of the
//   minbase root compiled about 500 times (the secret detector's rules, the words they need, path
//   patterns, the providers' parsers), 239 of them to bytecode, and the bytecode's compile with its
//   peephole pass costs about what the machine code's does: V8's expression compiler 98.2 M of its
//   1,333 M instructions. With the ticks at 0 an expression is made due for machine code, as V8
//   makes one run on a long subject: 265 compiles, the compiler 48.3 M; `snapshot --init`
//   (callgrind, node only, warm caches, interleaved) minbase 1,331.9 → 1,285.6 M, services
//   2,191.1 → 2,134.8 M (the compiler 109.6 → 53.7 M). Not `--no-regexp-tier-up`: set back to V8's default
//   around cached code (below), it left expressions compiled to bytecode meanwhile to be run as
//   machine code once it was off (by our reading of V8 11.3, it picks the engine by the flag, not by
//   what it compiled): node crashed (SIGSEGV, core/test/regexp-tier-up.test.ts's child with its
//   output a pipe). The ticks are read only when an expression is made (the ticks flag set back and
//   forth crashed nothing there), so one made under V8's default takes V8's way. Not
//   `--regexp-interpret-all` (bytecode alone): the detector's searches of large texts are then
//   interpreted, 1,333 → 2,266 M. What any expression matches is the same either way
//   (core/test/regexp-tier-up.test.ts: the detector over the secret fixtures). Session 52 counted
//   the other commands with it and without it (6f8d572f, 3 interleaved pairs, node only): `plan`
//   and `status` of the minbase and services roots −4.2 to −5.1 M (−1.0%) each, the minbase one-file
//   snapshot −30 M (−4.5%); no command pays for it, so it is set for every one (docs/architecture.md, Speed).
//
// A V8 flag is part of the hash V8 stamps on a code cache and checks when it takes one: a cache
// written under other flags is refused and compiled again from source. That holds for Node's own
// modules too, whose caches are built into node under V8's defaults: with a flag set, each of
// them a run loads was compiled from source (65 for an unchanged snapshot: 6.7% of its
// instructions, and 1.7% more making caches of them that nothing reads). So V8 is given its
// default budget and ticks back (DEFAULTS; a flag at its default value leaves the hash as without it)
// wherever it reads or makes cached code: a bundle's code cache read and written (code-cache.js's
// `guardCompiles`), what a bundle requires (Node's own modules, a plugin's), and process.stdout,
// process.stderr and the `performance` global set up (their modules); this run's budget the rest
// of the time. Anything else of Node's that loads its own modules meanwhile (`rmSync`'s rimraf,
// say) compiles them from source. The budget is set back and forth 33 times in an unchanged
// snapshot: a specifier's first require only, none for a module of Node's already loaded
// (code-cache.js's `builtins`, session 15; 87 times before, 0.4 ms in all). The young generation's flag stays set throughout (the space
// would grow in a scavenge while it is off: the scale root's peak 129 → 140 MB), so a large
// run's caches carry its stamp and are named apart (`.semi1` after the variant), and Node's
// modules are compiled from source in a large run (about 1% of its CPU).
//
// The flags are chosen from what the last run of the same command (its first word: `snapshot`
// for an unchanged snapshot and for the first one) left: markers `long-run-<word>` and
// `large-heap-<word>` in the code cache's folder (code-cache.js: only a folder that is the
// user's alone), written after a run that ended at or above LONG_CPU of CPU or LARGE_HEAP of V8's
// heap in use, removed after one that ended below (a run for `--help` leaves them as they are);
// but a large run's marker stays until a run ends below LARGE_HEAP_KEPT (see there).
// Without a cache folder of the user's alone no marker is kept: a run is short and small. What
// the markers decide is only how V8 compiles and sizes its heap: the same command, the same
// output.
const { existsSync, rmSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')

/** CPU (ms, user + sys of this process) at or above which the next run of the command is a long one. */
const LONG_CPU = 2000
/** V8's heap in use (bytes) at the end of a run at or above which the next run keeps the young generation small. */
const LARGE_HEAP = 40 * 1024 * 1024
/**
 * A run that kept the young generation small keeps it so for the next one while it ends at or
 * above this (bytes of V8's heap in use), not LARGE_HEAP: one threshold for both ways flipped
 * the scale root's unchanged snapshot at every run (session 28). It ends with 41–43 MB in use
 * either way, so each run crossed the line the last one set: a run with the small young
 * generation, then one with it grown 16 times over, and so on. CPU (user + sys) and peak memory
 * of that snapshot, the small young generation against the grown one (6 interleaved pairs, load
 * 7, /usr/bin/time): medians 1.25 vs 1.36 s, 106–110 vs 128–134 MB; so the flip cost every other
 * run about 0.1 s of CPU and 25 MB. The services root's runs end at 13–24 MB and never reach
 * LARGE_HEAP, so they never keep it small.
 */
const LARGE_HEAP_KEPT = 20 * 1024 * 1024
/** V8's `--interrupt-budget` default (Node 20's V8 11.3) times 8: TurboFan only for what runs very hot. */
const SHORT_RUN_BUDGET = 8 * 67584

/** A marker of a command (see the top): by its first word (bin/start.js's variant before its first dot). */
function markerOf(dir, kind, variant) {
  return join(dir, `${kind}-${variant.split('.')[0]}`)
}

/**
 * V8's own value of the flag withDefaultFlags sets back (Node 20's V8 11.3; `node --v8-options`),
 * and the V8 it was read from: under another V8 the budget is left as it is (its default may
 * differ, and a value that is not the default would keep Node's modules from their caches).
 */
const DEFAULTS = { 'interrupt-budget': 67584, 'semi-space-growth-factor': 2, 'regexp-tier-up-ticks': 1 }
/** A regular expression made while it holds is compiled to machine code at its first execution, not to bytecode first (see the top). */
const RUN_TIER_UP_TICKS = 0
/** The young generation's growth factor of a short, small run (see the top). */
const SHORT_RUN_GROWTH = 16
const DEFAULTS_V8 = /^11\.3\./

/** This run's budget flag as V8 takes it (empty: none set), and the same flag at V8's default. */
let runFlags = ''
let defaultFlags = ''
let v8Module

/**
 * `compile()` with V8's default flags (see the top), this run's flags again after it: what
 * code-cache.js runs where V8 reads or makes cached code.
 */
function withDefaultFlags(compile) {
  if (runFlags === '' || defaultsHeld > 0) return compile()
  const v8 = (v8Module ??= require('node:v8'))
  v8.setFlagsFromString(defaultFlags)
  defaultsHeld++
  try {
    return compile()
  } finally {
    defaultsHeld--
    v8.setFlagsFromString(runFlags)
  }
}

/** How many withDefaultFlags calls are running (one inside another keeps the defaults). */
let defaultsHeld = 0

/**
 * The flags of this run of `variant`, set here: `{ long, large, suffix }`, suffix what the names
 * of this run's code caches (every file's) end with. `cacheDir` is code-cache.js's.
 * process.stdout, process.stderr and `performance` are then set up under withDefaultFlags.
 */
function chooseFlags(variant, cacheDir) {
  const dir = cacheDir(false)
  const long = dir !== undefined && existsSync(markerOf(dir, 'long-run', variant))
  const large = dir !== undefined && existsSync(markerOf(dir, 'large-heap', variant))
  // V8 reads the growth factor each time the space would grow, and raises a factor below 2 only
  // when the heap is set up, so 1 set now keeps the size (measured on Node 20; where a V8 grows
  // otherwise, the run only uses more memory).
  const kept = large ? '--semi-space-growth-factor=1' : ''
  if (DEFAULTS_V8.test(process.versions.v8)) {
    const flags = long ? {} : { 'interrupt-budget': SHORT_RUN_BUDGET, ...(large ? {} : { 'semi-space-growth-factor': SHORT_RUN_GROWTH }) }
    const all = { ...flags, 'regexp-tier-up-ticks': RUN_TIER_UP_TICKS }
    runFlags = Object.entries(all).map(([name, value]) => `--${name}=${value}`).join(' ')
    defaultFlags = Object.keys(all).map((name) => `--${name}=${DEFAULTS[name]}`).join(' ')
  }
  if (kept !== '' || runFlags !== '') require('node:v8').setFlagsFromString(`${kept} ${runFlags}`.trim())
  if (runFlags !== '') {
    for (const [holder, name] of [[process, 'stdout'], [process, 'stderr'], [globalThis, 'performance']]) {
      const own = Object.getOwnPropertyDescriptor(holder, name)
      if (own?.get === undefined || own.configurable !== true) continue
      let value
      Object.defineProperty(holder, name, { configurable: true, enumerable: own.enumerable, get: () => (value ??= withDefaultFlags(() => own.get.call(holder))), ...(own.set === undefined ? {} : { set: own.set }) })
    }
  }
  return { long, large, suffix: large ? '.semi1' : '' }
}

/**
 * After a run that succeeded: the markers for the next run of `variant`'s command (see the top).
 * `chosen`: what chooseFlags gave this run; `now`: this run's CPU (ms) and V8's heap in use (bytes).
 */
function recordRun(variant, chosen, cacheDir, now = measured()) {
  if (variant.endsWith('.help')) return
  const long = now.cpuMs >= LONG_CPU
  const large = now.heapUsed >= (chosen.large ? LARGE_HEAP_KEPT : LARGE_HEAP)
  if (long === chosen.long && large === chosen.large) return
  try {
    const dir = cacheDir(long || large)
    if (dir === undefined) return
    for (const [kind, on] of [['long-run', long], ['large-heap', large]]) {
      if (on) writeFileSync(markerOf(dir, kind, variant), '', { mode: 0o600 })
      else rmSync(markerOf(dir, kind, variant), { force: true })
    }
  } catch {
    // Without a marker the next run only compiles and sizes its heap as a short, small one does.
  }
}

/** This process's CPU so far (ms) and V8's heap in use (bytes). */
function measured() {
  const { user, system } = process.cpuUsage()
  return { cpuMs: (user + system) / 1000, heapUsed: process.memoryUsage().heapUsed }
}

exports.LARGE_HEAP = LARGE_HEAP
exports.LARGE_HEAP_KEPT = LARGE_HEAP_KEPT
exports.LONG_CPU = LONG_CPU
exports.chooseFlags = chooseFlags
exports.DEFAULTS = DEFAULTS
exports.recordRun = recordRun
exports.withDefaultFlags = withDefaultFlags
