'use strict'
// Speed: oclif (core/bundle/oclif.cjs, one CommonJS file of about 0.7 MB), the SDK
// (sdk/bundle/sdk.cjs, sdk-lib.cjs: 1.2 MB) and the commands (core/bundle/twinsync.cjs,
// twinsync-lib.cjs: 1.7 MB) are compiled from V8's code cache instead of from source, on every run
// after the first; so is the rest of a command's start (core/bundle/start.cjs: bin/start.js with
// the V8 flags' file, oclif's load options and the exit). This file is what reads the caches, so
// it is compiled from source (its cost: docs/architecture.md, "Session 52"; session 53 built all
// but its trust rules into start.cjs, under 1 M saved, not landed: "Session 53, code-cache.js").
//
// Every command pays oclif's compile before it does anything, and Node 20 keeps no code cache
// of its own (module.enableCompileCache is Node 22). Here the file is compiled as Node's
// CommonJS loader would (the same wrapper, registered in require's cache, so the CLI's code
// that `require('./oclif.cjs')` gets this instance, and oclif finds twinsync.cjs there) with the
// bytes V8 produced after an earlier run, which hold every function that run compiled (oclif's
// start, flag parsing, help; the command's services). A cache holds what one command ran, so
// bin/start.js keeps one a command (`variant`). Measured on the shared 2-core machine (session 5):
// requiring oclif.cjs 25–30 ms from source, 11–16 ms from the cache; session 6: requiring the
// commands as one 1.7 MB file 29 ms from source, 13 ms from an unchanged snapshot's cache (0.9 MB,
// which also holds the functions the snapshot then runs; a command's figures: architecture.md).
//
// Correctness: V8 checks only the source's length against a cache, so a cache must never be
// taken for other bytes. A cache's name holds:
// - for a bundle core/scripts/bundle.mjs wrote (its first line `// twinsync-bundle sha256:…`,
//   the digest of the rest, made by the build), that digest and the file's stat data (device,
//   inode, size, mtime and ctime, to a fraction of a microsecond), taken on the open file before its bytes are
//   read: writing or replacing the file moves its ctime, which no one can set back. A file changed
//   within RACY_MS of that stat (the kernel's clock is coarse: it may change again without its
//   times moving, git's "racily clean"; the SDK's isRacy is the same rule) gets no cache written;
//   the digest keeps two builds apart even where stat data could repeat (a file system with coarse
//   or fixed times). No hash of the file is computed: hashing the bundles with sha256 (and loading
//   node:crypto for it) cost 3–5 ms of every run, about 1 ms a MB (session 7).
// - for any other file, a sha256 of its bytes, as before.
// Either way with the node version and architecture; V8 rejects a cache made with other flags,
// and the file is then compiled from source as without one. A cache is code: it is read only from
// a folder and file of the user running TwinSync that no one else can write (root with a HOME of
// another user, a shared or odd HOME: no cache), opened once and checked on that descriptor. Any
// failure to read or write it is ignored: the cache only ever makes a run faster.
const { isAscii } = require('node:buffer')
const { closeSync, existsSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs')
const Module = require('node:module')
const { homedir } = require('node:os')
const { basename, dirname, isAbsolute, join } = require('node:path')
const vm = require('node:vm')

/** A file changed this recently (ms) before its stat may change again without its times moving. */
const RACY_MS = 100

/** The first line of a bundle core/scripts/bundle.mjs wrote: the sha256 of everything after it. */
const DIGEST_LINE = /^\/\/ twinsync-bundle sha256:([0-9a-f]{64})\n/

/** Whether path is a folder of this user's that no one else can write (not a symlink). */
function ownedByMe(path) {
  try {
    const st = lstatSync(path)
    return st.isDirectory() && st.uid === process.geteuid() && (st.mode & 0o022) === 0
  } catch {
    return false
  }
}

/**
 * ~/.cache/twinsync/v8 (or under $XDG_CACHE_HOME), made when `create`; undefined when missing,
 * or when it, a folder above it up to the cache base, or the nearest folder that existed before,
 * is not this user's alone (root keeping another user's HOME gets no cache there).
 */
function cacheDir(create) {
  const xdg = process.env.XDG_CACHE_HOME
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.cache')
  const dir = join(base, 'twinsync', 'v8')
  // Speed (session 10): a run asks for the folder about eight times (each bundle, the V8 flags,
  // the caches written), each time an lstat a folder from it up to the cache base (24 lstats of
  // an unchanged snapshot, each a Stats object with four Dates on Node 20): a folder found is
  // kept for the rest of the process (the same base; none found is looked for again).
  if (found === dir) return dir
  found = lookUpCacheDir(create, base, dir)
  return found
}

/** The folder cacheDir last found in this process (undefined: none). */
let found

function lookUpCacheDir(create, base, dir) {
  let anchor = dir
  while (!existsSync(anchor) && anchor !== dirname(anchor)) anchor = dirname(anchor)
  if (!ownedByMe(anchor)) return undefined
  try {
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 })
  } catch {
    return undefined
  }
  for (let d = dir; ; d = dirname(d)) {
    if (!ownedByMe(d)) return undefined
    if (d === base || d === dirname(d)) return dir
  }
}

/**
 * The cache file's bytes when it is this user's own regular file that no one else can write: a
 * view of the scratch buffer (see `readInto`), valid until the next read.
 */
function readTrusted(file) {
  let fd
  try {
    fd = openSync(file, 'r')
    const st = fstatSync(fd)
    if (!st.isFile() || st.uid !== process.geteuid() || (st.mode & 0o022) !== 0) return undefined
    const { buffer, end } = readInto(fd, 0, st.size, 0)
    return buffer.subarray(0, end)
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * The file's stat data, taken on the open file before reading (see the top), and its bytes, read
 * into the scratch buffer between the halves of Node's CommonJS wrapper: `wrapped` is the wrapper
 * with the file's text in it, `source()` that text alone (a slice of it), `bytes` a view of the
 * file's bytes (valid until the next read).
 */
function readWithStat(file) {
  const fd = openSync(file, 'r')
  try {
    const startedAt = Date.now()
    const st = fstatSync(fd)
    const start = WRAPPER_HEAD.length
    const { buffer, end } = readInto(fd, start, st.size, WRAPPER_TAIL.length)
    const bytes = buffer.subarray(start, end)
    buffer.latin1Write(WRAPPER_HEAD, 0)
    buffer.latin1Write(WRAPPER_TAIL, end)
    const all = end + WRAPPER_TAIL.length
    // An ASCII file (core/scripts/bundle.mjs makes its bundles so) is a one-byte string without
    // decoding; the wrapper is ASCII, so decoding it with the file gives what joining them would.
    const wrapped = isAscii(bytes) ? buffer.latin1Slice(0, all) : buffer.utf8Slice(0, all)
    const source = () => wrapped.slice(WRAPPER_HEAD.length, wrapped.length - WRAPPER_TAIL.length)
    return { bytes, wrapped, source, st, startedAt }
  } finally {
    closeSync(fd)
  }
}

// Node's CommonJS wrapper (see requireCached), with `import()` from here for the file's own (see
// core/scripts/bundle.mjs) and the file's lazy part beside it through this cache.
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname, __twinsyncImport, __twinsyncRequire) { '
const WRAPPER_TAIL = '\n})'

/**
 * Speed (issue 22, session 17): the bundles' sources and caches are read into one buffer kept for
 * the process instead of a new one each (readFileSync), and a source is read between the
 * wrapper's halves, so its string is made once, already wrapped, instead of made and then copied
 * again when V8 flattens the wrapper joined to it to compile it. Every page of a fresh buffer or
 * string is one the kernel faults in (2-4 µs a page on the bench machine): an unchanged snapshot
 * reads 2.0 MB of bundles and 1.7 MB of their caches. Its figure: docs/architecture.md's Speed
 * table (session 17).
 */
let scratch

/** The scratch buffer's first size: above the largest bundle (twinsync-lib.cjs, 0.9 MB) or cache; only the pages written are faulted in. */
const SCRATCH_MIN = 2 * 1024 * 1024

/**
 * Reads the open file `fd` to its end into the scratch buffer from `start` (`size` from fstat
 * first: a file that grew meanwhile is read to its end all the same), with `room` bytes left free
 * after it. Returns the buffer (grown when needed) and where the file's bytes end.
 */
function readInto(fd, start, size, room) {
  let buffer = ensureScratch(start + size + room)
  let end = start
  for (;;) {
    if (end + room === buffer.length) buffer = ensureScratch(buffer.length * 2, end)
    const n = readSync(fd, buffer, end, buffer.length - room - end, null)
    if (n === 0) return { buffer, end }
    end += n
  }
}

/** The scratch buffer, at least `size` bytes long (its first `keep` bytes kept when it grows). */
function ensureScratch(size, keep = 0) {
  if (scratch !== undefined && scratch.length >= size) return scratch
  const grown = Buffer.allocUnsafeSlow(Math.max(size, SCRATCH_MIN))
  if (keep > 0) scratch.copy(grown, 0, 0, keep)
  scratch = grown
  return grown
}

/** 64 bits of FNV-1a (two 32-bit lanes) over text, as 16 hex digits: a short name for stat data (no secret, no attacker). */
function fnv64(text) {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15)
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0')
}

/**
 * The key a cache of these bytes is named by (see the top), and whether a cache may be written for
 * them (not when the file changed too recently to trust its stat data).
 */
function keyOf(bytes, st, startedAt) {
  const node = `${process.version}\0${process.arch}`
  const digest = DIGEST_LINE.exec(bytes.latin1Slice(0, Math.min(100, bytes.length)))
  if (digest !== null) {
    const racy = st.ctimeMs > startedAt - RACY_MS || st.mtimeMs > startedAt - RACY_MS
    const stat = [st.dev, st.ino, st.size, st.mtimeMs, st.ctimeMs].join('\0')
    return { key: `${digest[1].slice(0, 16)}${fnv64(`${node}\0${stat}`)}`, writable: !racy }
  }
  const { createHash } = require('node:crypto')
  return { key: createHash('sha256').update(`${node}\0`).update(bytes).digest('hex').slice(0, 32), writable: true }
}

/**
 * Modules this process hands the files it loads under a package specifier, without Node's
 * resolver (see `provide`).
 */
const provided = new Map()

/**
 * `require(specifier)` in a file requireCached loads (and in the files it requires beside it)
 * gives `exports` without resolving the specifier: bin/start.js provides the SDK it loaded. Node
 * resolves a package's `exports` with its ES module resolver, which it loads for the first such
 * require: about 2 ms of CPU, and 0.5 ms each resolution after (session 7).
 */
function provide(specifier, exports) {
  provided.set(specifier, exports)
}

/** Files `require.resolve` answers for a specifier without Node's resolver (see `provideFile`). */
const providedFiles = new Map()

/**
 * `require.resolve(specifier)` (and `import.meta.resolve`, core/scripts/bundle.mjs) in a file
 * requireCached loads gives `file` without resolving it: bin/start.js gives @twinsync/sdk's
 * package.json where it found it, which a plugin's run looks up to link the plugin to the SDK
 * (core/src/providers/plugin-sdk.ts). Through Node's resolver, that lookup loaded its ES module
 * resolver and took 3 ms of CPU; the plugin's own imports load that resolver anyway, about 1 ms
 * less a run with the dnf example plugin (session 8).
 */
function provideFile(specifier, file) {
  providedFiles.set(specifier, file)
}

/** What `provide` gave for a specifier (undefined: nothing), and the file `provideFile` gave. */
const providedModule = (specifier) => provided.get(specifier)
const providedFileOf = (specifier) => providedFiles.get(specifier)

/** The variant a plugin's files' caches are named by (bin/plugin-module.js): this run's, bin/start.js sets it. */
let pluginCaches = ''
const setPluginVariant = (variant) => {
  pluginCaches = variant
}
const pluginVariant = () => pluginCaches

/**
 * How V8 is made to compile or read cached code (see `guardCompiles`): as it is, unless bin/start.js
 * says otherwise.
 */
let compiling = (compile) => compile()

/**
 * `guard(compile)` runs `compile` where V8 compiles, reads or writes cached code for this module:
 * a bundle's code cache read (`new vm.Script`) and written (`createCachedData`), and what the
 * bundles require (Node's own modules, with Node's ES module loader for a plugin's modules). bin/v8-flags.js gives V8 its default flags for that time: a cache
 * is stamped with the flags it was made under and refused under others, Node's own modules'
 * embedded caches included (see there).
 */
function guardCompiles(guard) {
  compiling = guard
}

/**
 * require for `file`: Node's own under `compiling` (the module, Node's own modules it loads, a
 * plugin's ES module through Node's loader), but a provided specifier without resolving it (for a
 * plugin's file, what `provides` gives instead).
 */
function requireFor(file, provides) {
  const own = Module.createRequire(file)
  // Only a specifier's first require can load anything: each later one is require's cache.
  const required = new Set()
  // Speed (issue 22, session 40): the file a specifier required again resolved to, so the require
  // after that takes the module from require's cache without resolving it. Node's own require keeps
  // such a record of what it loaded (Module._load's relativeResolveCache), but never of a file
  // requireCached put in require's cache: every `require("./oclif.cjs")` of twinsync.cjs (26 in
  // an unchanged snapshot) and `require("./sdk.cjs")` of sdk-lib.cjs (30) went through Node's
  // resolver (the path joined and normalised, a stat and a realpath, the package scope looked
  // up). A module not (or no longer) in require's cache, or not done loading, is required as before.
  // Callgrind (node only, the services root, 3 interleaved pairs): an unchanged snapshot 452.7 ->
  // 447.7 M instructions, `plan` 569.0 -> 563.8 M, `status` 575.0 -> 569.7 M.
  const resolved = new Map()
  const require = (specifier) => {
    // A plugin's file (`provides`, see requireCached) gets only what its own resolution would give.
    const answer = provides === undefined ? provided.get(specifier) : provides(specifier)
    if (answer !== undefined) return answer
    // Node's own module: required once a process (see `builtins`), under `compiling` only when
    // Node has yet to load it.
    const builtin = builtins.get(specifier)
    if (builtin !== undefined) return builtin
    if (required.has(specifier)) {
      let to = resolved.get(specifier)
      if (to === undefined) resolved.set(specifier, (to = own.resolve(specifier)))
      const mod = Module._cache[to]
      return mod !== undefined && mod.loaded === true ? mod.exports : own(specifier)
    }
    const isBuiltin = Module.isBuiltin(specifier)
    const exports = isBuiltin && loadedBuiltin(specifier) ? own(specifier) : compiling(() => own(specifier))
    required.add(specifier)
    if (isBuiltin) builtins.set(specifier, exports)
    return exports
  }
  const resolve = (specifier, options) => (options === undefined && provides === undefined && providedFiles.has(specifier) ? providedFiles.get(specifier) : own.resolve(specifier, options))
  resolve.paths = own.resolve.paths
  return Object.assign(require, { resolve, cache: own.cache, main: own.main, extensions: own.extensions })
}

/**
 * Node's own modules the bundles required, by specifier: their exports, the same object for every
 * file. Speed (issue 22, session 15): each bundled module requires what it imports (an unchanged
 * snapshot about 250 requires of Node's modules: `node:path` 40 times, `node:fs` 33…), and Node's
 * require of its own module goes through its loader and copies every export of the module to its
 * ES module facade each time. A module Node already loaded compiles nothing when required, so it
 * is required without V8's flags set back and forth (`compiling`, bin/v8-flags.js: about 45,000
 * instructions a switch). With the getter of `import.meta.url` (core/scripts/bundle.mjs's
 * CJS_BANNER), an unchanged snapshot of the minbase root 387.7 → 382.9 M instructions (callgrind,
 * V8's hash-seed work left out, interleaved, medians of 4; this alone about 2.5 M); the flags
 * switched 87 → 33 times.
 */
const builtins = new Map()

/** Whether Node has loaded its module `specifier` (`node:fs` or `fs`) already, so requiring it compiles nothing. */
function loadedBuiltin(specifier) {
  const id = specifier.startsWith('node:') ? specifier.slice(5) : specifier
  return process.moduleLoadList.includes(`NativeModule ${id}`)
}

/** Caches of one file kept at most (one a command run, see `variant`), so the folder stays small. */
const MAX_VARIANTS = 16

/** Every file this process took through requireCached, in order: `saveCaches` writes theirs. */
const loaded = []

/**
 * require(file) through V8's code cache. `fromCache`: V8 took the cache. `save()` (call it once
 * the command ran) writes the cache when there was none or V8 refused it. `variant` names one of
 * the file's caches: a cache holds the functions of the run that wrote it, so each command keeps
 * its own (a snapshot does not compile the TUI's functions, nor `--help` the snapshot's). The
 * file's code gets `__twinsyncRequire`, which requires a file beside it the same way (with the
 * same variant): how a bundle loads its lazy part (core/scripts/bundle.mjs). A file already in
 * require's cache is not run again.
 *
 * `options` (a plugin's file, bin/plugin-module.js): `cacheName`, what its caches are named by
 * instead of the file's name; `provides(specifier)`, exports for a specifier its `require` gives
 * without resolving it (undefined: required as usual); `plainUnless(source)` and `plain(file)`:
 * a file whose source `plainUnless` refuses, or that V8 cannot compile, is left to `plain` before
 * any of it runs.
 */
function requireCached(path, variant = '', options = {}) {
  const file = realpathSync(path)
  const known = Module._cache[file]
  if (known !== undefined) return { exports: known.exports, fromCache: false, save() {} }
  const { bytes, wrapped, source, st, startedAt } = readWithStat(file)
  const passed = () => ({ exports: options.plain(file), fromCache: false, save() {} })
  if (options.plainUnless?.(source()) === false) return passed()
  const usable = typeof process.geteuid === 'function'
  const { key, writable } = keyOf(bytes, st, startedAt)
  const base = options.cacheName ?? basename(file)
  const name = `${base}-${key}${variant === '' ? '' : `-${variant}`}`
  const dir = usable ? cacheDir(false) : undefined
  // Read once the key is worked out from `bytes`: both are in the scratch buffer (see readWithStat).
  const cachedData = dir === undefined ? undefined : readTrusted(join(dir, name))
  let script
  try {
    script = compiling(() => new vm.Script(wrapped, { filename: file, ...(cachedData === undefined ? {} : { cachedData }) }))
  } catch (error) {
    if (options.plain !== undefined) return passed()
    throw error
  }
  const mod = new Module(file, undefined)
  mod.filename = file
  mod.paths = Module._nodeModulePaths(dirname(file))
  Module._cache[file] = mod
  const beside = (specifier) => {
    if (!specifier.startsWith('./')) throw new Error(`code cache: ${specifier} is not a file beside ${file}`)
    return requireCached(join(dirname(file), specifier), variant).exports
  }
  try {
    script.runInThisContext().call(mod.exports, mod.exports, requireFor(file, options.provides), mod, file, dirname(file), (specifier) => import(specifier), beside)
  } catch (error) {
    delete Module._cache[file]
    throw error
  }
  mod.loaded = true
  const stale = usable && writable && (cachedData === undefined || script.cachedDataRejected === true)
  const handle = {
    exports: mod.exports,
    fromCache: cachedData !== undefined && script.cachedDataRejected !== true,
    variant,
    stale,
    /**
     * Set: this run writes no cache of the file, whatever saveCaches asks of `save`, which reads it
     * (bin/start.js: a large run, whose young generation's flag would stamp the cache for no later
     * run to take).
     */
    writeNone: false,
    /**
     * Writes the cache when it had none or V8 refused it, or when `again` (see saveCaches): what
     * the script holds, the old cache's code and what this run compiled besides; never when
     * `writeNone`. Whether it wrote.
     */
    save(again = false) {
      if (handle.writeNone || (!stale && !(again && usable && writable))) return false
      try {
        const dir = cacheDir(true)
        if (dir === undefined) return false
        const cacheFile = join(dir, name)
        const mine = readdirSync(dir).filter((f) => f.startsWith(`${base}-${key}`) && !f.endsWith('.tmp'))
        if (mine.length >= MAX_VARIANTS && !mine.includes(name)) return false
        const tmp = `${cacheFile}.${process.pid}.tmp`
        // On disk before it gets its name: a crash never leaves a half-written cache to be read.
        const fd = openSync(tmp, 'wx', 0o600)
        try {
          writeFileSync(fd, compiling(() => script.createCachedData()))
          fsyncSync(fd)
        } finally {
          closeSync(fd)
        }
        renameSync(tmp, cacheFile)
        // Caches of an earlier build of the file or node: only the newest is kept (and no run's
        // leftover temporary file older than an hour).
        for (const f of readdirSync(dir)) {
          const other = join(dir, f)
          if (!f.startsWith(`${base}-`) || (f.startsWith(`${base}-${key}`) && !f.endsWith('.tmp'))) continue
          if (!f.endsWith('.tmp') || Date.now() - statSync(other).mtimeMs > 3_600_000) rmSync(other, { force: true })
        }
        return true
      } catch {
        // A cache that cannot be written only means the next run compiles from source again.
        return false
      }
    },
  }
  loaded.push(handle)
  return handle
}

/**
 * Write the cache of every file requireCached took that had none (call it once the command ran),
 * and the caches of its variant taken this run when one file of the variant had none.
 *
 * Speed (issue 22, session 39): a cache holds the functions the run that wrote it compiled, and
 * is written again only when V8 refuses it, so one command's caches were as good as the first
 * run after a build made them. A snapshot that changed something runs much that an unchanged one
 * never does (the commit, the diary line, the secret check); with the caches of an unchanged one
 * it compiled all that from source in every run, and an unchanged one read the larger caches of a
 * changed one, whichever came first. A run that reaches a file its variant's earlier runs never
 * loaded (a changed snapshot: the secret check's vendor-secretlint-preset.cjs, and secretlint's
 * core, vendor-secretlint.cjs, only for a text the preset's prefilter lets through; its cache is missing) has
 * gone where they did not, so the caches it took are written again too: V8 writes what the
 * script holds, the old cache's functions and the ones this run compiled, so every later run of
 * the command, either way, finds what it runs in its caches; once every file has one, nothing
 * more is written (a run that goes elsewhere only inside files the earlier runs loaded is not
 * seen: its new functions are compiled from source, as before). Making a cache costs a good part of a run (every cache of an unchanged
 * snapshot of the services root: 126 M instructions, the run 468 M), so none is made to find out
 * whether it would hold more. Callgrind (node only, 3 interleaved pairs, medians), the caches
 * written by an unchanged snapshot first (the bench's order): one file changed, services root
 * 849.4 -> 782.6 M instructions, minbase 709.4 -> 648.7 M (as from a changed snapshot's caches:
 * 780.8, 639.8 M); an unchanged snapshot the same before any change, and after changed ones,
 * with caches holding both, services root 461.9 -> 467.9 M, minbase 445.2 -> 435.3 M.
 */
function saveCaches() {
  // Only a cache written counts: a file that gets none (past MAX_VARIANTS) would have the others
  // written in every run.
  const grown = new Set()
  for (const handle of loaded) if (handle.stale && handle.save()) grown.add(handle.variant)
  for (const handle of loaded) if (!handle.stale && grown.has(handle.variant)) handle.save(true)
}

exports.cacheDir = cacheDir
exports.guardCompiles = guardCompiles
exports.pluginVariant = pluginVariant
exports.provide = provide
exports.provideFile = provideFile
exports.providedFileOf = providedFileOf
exports.providedModule = providedModule
exports.requireCached = requireCached
exports.saveCaches = saveCaches
exports.setPluginVariant = setPluginVariant
exports.shortHash = fnv64
