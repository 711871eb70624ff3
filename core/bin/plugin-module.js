'use strict'
// Speed: a plugin's ES module files (its hooks, its commands) loaded with require() instead of
// import(). TwinSync itself starts with no ES module loader (bin/run.js, code-cache.js), and
// oclif's ModuleLoader loads a plugin that is an ES module package with `import()`, which brought
// Node's asynchronous ES module loader back for that one plugin: the dnf example's hook (ten
// small files) cost 12.5 ms of CPU through import() and 7.5 ms through require(), with the SDK
// already loaded (fresh node, medians of 5, session 8). What the dnf plugin adds to an unchanged
// snapshot of the services root, with the two changes beside this one (the SDK's folder without
// Node's resolver, no thread pool: code-cache.js's provideFile, plugin-sdk.ts), main before them
// → with them, CPU user + sys, six series of 21–41 interleaved runs (each variant its own HOME;
// load 3.5–10.8): +12.0–17.7 ms → +6.9–10.3 ms (medians of the series 14.8 → 8.6 ms).
// core/scripts/bundle.mjs makes oclif's ModuleLoader (in core/bundle/oclif.cjs) call
// `importPluginModule` where it called `import()`.
//
// require() of an ES module is Node's own (20.19+, 22.12+): the same module, resolved, linked and
// evaluated once by the same ES module loader, only synchronously. It is used when it prints
// nothing and cannot differ from import() in what it loads:
// - Node 20.19+, 22.13+, 23.5+ or 24+ (`process.features.require_module`): 22.12 and 23.0–23.4
//   print an ExperimentalWarning for it; no `--trace-require-module` (which asks for one);
// - a `.js` or `.mjs` file, and require's `.js` handler is still Node's own: a require hook (tsx,
//   ts-node) would compile the file as CommonJS, a second instance beside the one import() gives;
// - no ES module preloaded nor loader given (`--import`, `--loader`, in the arguments or
//   NODE_OPTIONS): one registers ES module hooks (module.register), which import() runs and Node
//   20's require() does not, and a module require() loaded is the one import() gives from then
//   on (session 9: a hook that rewrote a plugin's module was passed over).
// The gap left: hooks registered otherwise (by a `--require` preload, or a plugin's own module
// while it runs): no public API tells. A `--require` preload alone keeps require() (a probe).
// Anything else, and any failure of require() — a module with top-level await
// (ERR_REQUIRE_ASYNC_MODULE, thrown before any of it runs), an error the plugin throws, a file
// not found — goes to import() as before: the ES module loader keeps what require() got to (a
// module that threw gives import() the same error again, never runs twice), so a plugin's failure
// reads as it always did. One difference no caller looks at: for a module with a default export,
// require() gives its names plus `__esModule: true`.
const Module = require('node:module')
const { lstatSync, realpathSync } = require('node:fs')
const { basename, dirname, extname, join } = require('node:path')
const { pathToFileURL } = require('node:url')
const { isModuleNamespaceObject } = require('node:util').types

/** Whether this Node loads an ES module through require() without printing anything (see the top). */
function requireLoadsEsmSilently(version = process.versions.node, features = process.features, execArgv = process.execArgv, nodeOptions = process.env.NODE_OPTIONS) {
  if (features.require_module !== true) return false
  const preloads = /^(?:--trace-require-module|--import|--loader|--experimental-loader)/
  if ([...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((arg) => preloads.test(arg))) return false
  const [major, minor] = version.split('.').map(Number)
  return (major === 20 && minor >= 19) || (major === 22 && minor >= 13) || (major === 23 && minor >= 5) || major >= 24
}

/**
 * Whether require's `.js` handler is Node's own: its source is Node's, written with Node's
 * primordials, not a hook's.
 */
function nodeOwnsRequire() {
  const handler = Module._extensions['.js']
  return typeof handler === 'function' && Function.prototype.toString.call(handler).includes("StringPrototypeEndsWith(filename, '.mjs')")
}

let silent

/** The module namespace of the ES module at `filePath`, as `import()` gives it (see the top). */
async function importPluginModule(filePath) {
  silent ??= requireLoadsEsmSilently()
  if (silent && (extname(filePath) === '.js' || extname(filePath) === '.mjs') && nodeOwnsRequire()) {
    try {
      const loaded = require(filePath)
      if (isModuleNamespaceObject(loaded)) return loaded
    } catch {
      // import() below gives what it always gave.
    }
  }
  return import(pathToFileURL(filePath).href)
}

// Speed: a plugin's CommonJS file (its hook or command, `.cjs`, or `.js` in a package that is not
// an ES module: what oclif's ModuleLoader `require`s) compiled from V8's code cache as TwinSync's
// own bundles are (code-cache.js, one cache a command, named after the file's folder too: every
// plugin has a `hook.cjs`), and its `require('@twinsync/sdk')` (and the SDK's other entries)
// answered with the host's SDK without Node's resolver, where that resolver would find the host's
// SDK: the first `node_modules/@twinsync/sdk` above the file (as Node looks, a `node_modules`
// folder's own `node_modules` left out) is the folder of the SDK TwinSync loaded, which the
// plugin's link made by plugin-sdk.ts's shareSdk is; the package's `require` condition gives
// sdk.cjs's entry, the same object. Resolving a package's `exports` loads Node's ES module
// resolver (about 1 ms the first time). The dnf example built into one CommonJS file
// (docs/plugin-authoring.md), in a fresh node with the SDK loaded, medians of 15: required as
// Node does 2.0 ms of CPU, this way 0.9 ms (the SDK provided, compiled from source: 1.2 ms).
// Anything else goes to Node's require as before (`plain`, before any of the file runs): another
// require hook (tsx, ts-node), a source that may call `import()` (a script compiled here has no
// loader for it), one V8 cannot compile (Node's own error then), no host SDK found.
const SDK_ENTRIES = new Map([
  ['@twinsync/sdk', 'index'],
  ['@twinsync/sdk/errors', 'errors'],
  ['@twinsync/sdk/domains', 'domains'],
  ['@twinsync/sdk/typebox', 'typebox'],
  ['@twinsync/sdk/typebox/value', 'typeboxValue'],
  ['@twinsync/sdk/conformance', 'conformance'],
])

/** The first `node_modules/@twinsync/sdk` Node's require would look in from `dir`, or undefined. */
function sdkLinkAbove(dir) {
  for (let d = dir; ; d = dirname(d)) {
    if (basename(d) !== 'node_modules') {
      const candidate = join(d, 'node_modules', '@twinsync', 'sdk')
      try {
        lstatSync(candidate)
        return candidate
      } catch {
        // Not here: the folder above.
      }
    }
    if (d === dirname(d)) return undefined
  }
}

/** bin/code-cache.js as bin/run.js loaded it (the same instance; beside this file or above the bundle). */
function codeCache() {
  return require(join(__dirname, '..', 'bin', 'code-cache.js'))
}

/** `module.exports` of a plugin's CommonJS file, as `plainRequire(filePath)` gives it (see above). */
function requirePluginModule(filePath, plainRequire) {
  const ext = extname(filePath)
  if ((ext !== '.cjs' && ext !== '.js') || !nodeOwnsRequire() || Module._extensions[ext] !== Module._extensions['.js'] && Module._extensions[ext] !== undefined) return plainRequire(filePath)
  const cache = codeCache()
  const sdk = cache.providedModule('@twinsync/sdk/cjs')
  const sdkPackage = cache.providedFileOf('@twinsync/sdk/package.json')
  if (sdk === undefined || sdkPackage === undefined) return plainRequire(filePath)
  const file = realpathSync(filePath)
  let sdkHere
  const provides = (specifier) => {
    const key = SDK_ENTRIES.get(specifier)
    if (key === undefined) return undefined
    if (sdkHere === undefined) {
      const link = sdkLinkAbove(dirname(file))
      try {
        sdkHere = link !== undefined && realpathSync(link) === realpathSync(dirname(sdkPackage))
      } catch {
        // A link that leads nowhere: Node's require says what it says.
        sdkHere = false
      }
    }
    return sdkHere ? sdk[key]() : undefined
  }
  return cache.requireCached(file, cache.pluginVariant(), {
    cacheName: `plugin-${cache.shortHash(dirname(file))}-${basename(file)}`,
    provides,
    plainUnless: (source) => !/\bimport\s*\(/.test(source),
    plain: plainRequire,
  }).exports
}

exports.importPluginModule = importPluginModule
exports.requireLoadsEsmSilently = requireLoadsEsmSilently
exports.requirePluginModule = requirePluginModule
