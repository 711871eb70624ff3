// Speed: what a command loads before it does anything (run by `npm run build`, after tsc).
// Every start-up trick of the CLI lives here and in bin/run.js; their figures are in
// docs/architecture.md ("Speed").
//
// Without bundling, `twinsync snapshot` loaded about 1,290 JavaScript modules, 680 of them
// typebox's and 100 execa's, each resolved, stat'ed and compiled by Node's ESM loader: measured
// on the shared 2-core machine, importing typebox and its value module alone took 220–340 ms,
// their bundle 30–60 ms (session 3). Now a command loads:
//
// - core/bundle/oclif.cjs: @oclif/core and its libraries as one CommonJS file (it is CommonJS).
//   From node_modules, oclif's start was about 160 files, each resolved, read and compiled by
//   Node's CommonJS loader: 50–65 ms to require it on the loaded 2-core machine, 25–30 ms as one
//   file (issue 22, session 5). bin/run.js loads it (see there for its code cache), and the CLI's
//   chunks take the same instance through `require`. @oclif/plugin-plugins is not bundled: it
//   loads only for `twinsync plugins …` and then brings its own @oclif/core from node_modules,
//   as any oclif plugin with its own copy does (commands get the running Config).
// - core/bundle/twinsync.cjs and twinsync-lib.cjs: every command and hook (oclif's "explicit"
//   command discovery, see core/package.json), the built-in plugins and the libraries they use,
//   as CommonJS, so that bin/run.js compiles them from V8's code cache too (one cache a command).
//   Until session 6 they were ES module chunks that load when first imported (importing the
//   entry 55-70 ms as one 2.67 MB ES module, 5-10 ms split, session 5), but Node 20 compiles
//   every ES module from source on every run: an unchanged snapshot's 60 chunks (0.9 MB) were
//   about a quarter of its module loading. twinsync.cjs holds the command classes and little else
//   (commands import their services lazily; 63 KB), twinsync-lib.cjs the rest, required when a
//   command first imports a service (see splitCjs). esbuild keeps an `import()` lazy inside a
//   CommonJS file too (the module's top-level code runs when the `import()` is reached), so the
//   apply, rehearse and GitHub code runs only for the commands that use them. Measured on the
//   shared 2-core machine (session 6, medians of 9 interleaved, CPU of user + sys): see
//   docs/architecture.md's Speed table (unchanged snapshot, `plan`, `status`, `history` 25-60 ms
//   less each; `snapshot --help` as one file 107 -> 121 ms, split about as before).
// - core/bundle/tui.js: the TUI (ink, React: about 0.95 MB) as an ES module bundle of its own,
//   loaded only by `twinsync tui` (ink waits on top-level `await`, which CommonJS cannot).
// - @twinsync/sdk stays outside: third-party plugins must get the host's single instance (see
//   src/providers/plugin-sdk.ts). sdk/bundle/sdk.cjs is the SDK bundled with its libraries as one
//   CommonJS file (session 6; ES module chunks before), required by the commands and by the SDK's
//   small ES module entries that plugins import (sdk/bundle/index.js, errors.js, …), so both get
//   the one instance in require's cache; bin/run.js compiles it from the code cache. typebox is
//   taken from there by the host too ('typebox' → the SDK's typebox entry): one typebox.
// - @octokit/rest stays outside (only for GitHub commands).
//
// The tsc output in dist/ stays what tests, types and the packages' `main` use.
import { build, transformSync } from 'esbuild'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const core = join(dirname(fileURLToPath(import.meta.url)), '..')
const sdk = join(core, '..', 'sdk')
const outdir = join(core, 'bundle')

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  metafile: true,
}
/** Every command file under dist/commands, by oclif id ("remote/set.js" → "remote:set"). */
function commandFiles() {
  const dir = join(core, 'dist', 'commands')
  return readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => ({ id: f.slice(0, -'.js'.length).split('/').join(':'), path: join(dir, f) }))
}

const HOOKS = { commandNotFound: 'command-not-found.js', pluginSource: 'plugin-source.js' }
const commands = commandFiles()

/**
 * The first words of TwinSync's commands (and so its topics) that no core plugin (package.json's
 * oclif.plugins: @oclif/plugin-plugins) uses for a command, alias or topic of its own: a run whose
 * first word is one of them loads oclif with TwinSync's plugin alone when the user has no plugin
 * (bin/oclif-config.js). A core plugin with a hook such a run would reach is refused here: it
 * would not run.
 */
function ownWords() {
  const pjson = JSON.parse(readFileSync(join(core, 'package.json'), 'utf8'))
  const words = (ids) => new Set(ids.map((id) => id.split(':')[0]))
  const own = words(commands.map((c) => c.id))
  const requireFromCore = createRequire(join(core, 'package.json'))
  for (const name of pjson.oclif.plugins ?? []) {
    let root = dirname(requireFromCore.resolve(name))
    while (!existsSync(join(root, 'package.json')) || JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name !== name) {
      if (root === dirname(root)) throw new Error(`bundle: no package.json of ${name} found`)
      root = dirname(root)
    }
    const plugin = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    const hooks = Object.keys(plugin.oclif?.hooks ?? {}).filter((event) => event !== 'update')
    if (hooks.length > 0) throw new Error(`bundle: the core plugin ${name} has a ${hooks.join(', ')} hook, which bin/oclif-config.js would leave out of TwinSync's own commands`)
    if (plugin.oclif?.plugins !== undefined) throw new Error(`bundle: the core plugin ${name} loads plugins of its own, which bin/oclif-config.js would leave out`)
    const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))
    const theirs = words([...Object.values(manifest.commands).flatMap((c) => [c.id, ...(c.aliases ?? []), ...(c.hiddenAliases ?? [])]), ...Object.keys(plugin.oclif?.topics ?? {})])
    for (const word of theirs) own.delete(word)
  }
  return [...own].sort()
}

const entry = [
  ...commands.map((c, i) => `import C${i} from './${relative(core, c.path)}'`),
  `export const COMMANDS = {\n${commands.map((c, i) => `  '${c.id}': C${i},`).join('\n')}\n}`,
  `export const OWN_WORDS = ${JSON.stringify(ownWords())}`,
  ...Object.entries(HOOKS).map(([name, file]) => `export { default as ${name} } from './dist/hooks/${file}'`),
].join('\n')

/** For the TUI's bundle: typebox from the SDK's entries, the SDK itself as installed (one copy of each). */
const shared = {
  name: 'shared-with-plugins',
  setup(b) {
    b.onResolve({ filter: /^typebox(\/value)?$/ }, (args) => ({ path: args.path === 'typebox' ? '@twinsync/sdk/typebox' : '@twinsync/sdk/typebox/value', external: true }))
    b.onResolve({ filter: /^@twinsync\/sdk(\/.*)?$/ }, (args) => ({ path: args.path, external: true }))
  },
}

/**
 * The ES module Node itself makes of a CommonJS module: `default` is module.exports, and the
 * names are those Node's own import finds (asked of Node here, at build time). The TUI's bundle
 * takes oclif.cjs this way.
 */
async function cjsAsEsm(requirePath, file) {
  const names = Object.keys(await import(pathToFileURL(file).href)).filter((name) => name !== 'default')
  if (names.length === 0) throw new Error(`bundle: no CommonJS exports found in ${file}`)
  const lines = [`const m = require(${JSON.stringify(requirePath)})`, 'export default m']
  names.forEach((name, i) => lines.push(`const n${i} = m[${JSON.stringify(name)}]`, `export { n${i} as ${JSON.stringify(name)} }`))
  return lines.join('\n')
}

/**
 * For the TUI's bundle: `@oclif/core` is oclif.cjs, taken with `require` from the bundle's folder,
 * so it shares the instance bin/run.js loaded; its export names are those of oclif's own entry.
 */
const oclifCjs = {
  name: 'oclif-cjs',
  setup(b) {
    const entry = createRequire(join(core, 'package.json')).resolve('@oclif/core')
    b.onResolve({ filter: /^@oclif\/core$/ }, () => ({ path: '@oclif/core', namespace: 'oclif-cjs' }))
    b.onLoad({ filter: /.*/, namespace: 'oclif-cjs' }, async () => ({ contents: await cjsAsEsm('./oclif.cjs', entry), loader: 'js' }))
    b.onResolve({ filter: /^\.\/oclif\.cjs$/, namespace: 'oclif-cjs' }, (args) => ({ path: args.path, external: true }))
  },
}

/** ink imports React's devtools (not installed) only when DEV=true: that import fails as ink expects. */
const noDevtools = {
  name: 'no-react-devtools',
  setup(b) {
    b.onResolve({ filter: /^\.\/devtools\.js$/ }, (args) => (/[\\/]ink[\\/]/.test(args.importer) ? { path: 'devtools', namespace: 'no-devtools' } : undefined))
    b.onLoad({ filter: /.*/, namespace: 'no-devtools' }, () => ({ contents: "throw new Error('react-devtools-core is not part of the TwinSync bundle')", loader: 'js' }))
  },
}

/** Files in dir that these builds did not write (an earlier build's chunks), all but `keep`. */
function removeStale(dir, results, keep = []) {
  const written = new Set([...keep, ...results.flatMap((r) => Object.keys(r.metafile.outputs).map((f) => basename(f)))])
  for (const f of readdirSync(dir)) if (/\.c?js$/.test(f) && !written.has(f)) rmSync(join(dir, f))
}

/**
 * What every command loads before it runs (the entry and what it imports statically, the lazy
 * `import()` left out) holds the command classes and oclif, the SDK's errors and domain list,
 * nothing more: the SDK's index (typebox and its schemas), the TUI's ink and React, or a library a
 * service uses would make every command run them. Such a build is refused, naming the import;
 * make it a lazy `import()`.
 */
function startupChecked(result) {
  const inputs = result.metafile.inputs
  const allowed = new Set(['./oclif.cjs', '@twinsync/sdk/cjs'])
  const seen = new Set()
  const walk = (file, from) => {
    if (seen.has(file)) return
    seen.add(file)
    if (file.startsWith('sdk-cjs:') && file !== 'sdk-cjs:errors' && file !== 'sdk-cjs:domains') {
      throw new Error(`bundle: every command would load the SDK's ${file.slice('sdk-cjs:'.length)} entry (imported by ${from}); import it lazily (errors: from @twinsync/sdk/errors)`)
    }
    if (/node_modules[\\/](ink|react|react-reconciler|yoga-layout|yaml|simple-git|execa|@octokit)[\\/]/.test(file)) throw new Error(`bundle: every command would load ${file} (imported by ${from}); import it lazily`)
    for (const imp of inputs[file].imports) {
      if (imp.kind !== 'import-statement' && imp.kind !== 'require-call') continue
      if (imp.external === true) {
        if (!imp.path.startsWith('node:') && !allowed.has(imp.path)) throw new Error(`bundle: every command would load ${imp.path} (imported by ${file}); import it lazily (errors: from @twinsync/sdk/errors)`)
      } else walk(imp.path, file)
    }
  }
  const entries = Object.keys(inputs).filter((f) => basename(f) === 'twinsync-entry.mjs')
  if (entries.length !== 1) throw new Error('bundle: the entry is not in the metafile')
  walk(entries[0], 'the entry')
}

/** An `import(` call in JavaScript text (not `x.import(`, not `import()` of nothing). */
const DYNAMIC_IMPORT = /(?<![.\w$])import\s*\((?!\s*\))/g

/** React's production build (see the CLI's build below). */
const production = { 'process.env.NODE_ENV': '"production"' }

/**
 * The CommonJS bundle's own names: `__twinsyncImport` is `import()` as bin/code-cache.js passes
 * it in (V8 drops what a script compiled from a code cache needs for `import()`), or the file's
 * own when required any other way; `import.meta.url` and `import.meta.resolve` of the CLI's
 * sources are the bundle's (the latter only ever asked for a package's package.json).
 */
const CJS_BANNER = [
  "var __twinsyncImport = typeof __twinsyncImport === 'function' ? __twinsyncImport : (specifier) => import(specifier);",
  "var __twinsyncRequire = typeof __twinsyncRequire === 'function' ? __twinsyncRequire : require;",
  // `import.meta.url` worked out when first read (a getter), not as each bundle loads: two
  // functions read it that an unchanged snapshot, `plan` and `status` never call, and
  // pathToFileURL sets up Node's URL class. Speed (issue 22, session 15): an unchanged snapshot of
  // the minbase root 388.1 → 385.6 M instructions (callgrind, medians of 3, V8's hash-seed work left out).
  "var __twinsyncMeta = { get url() { return require('node:url').pathToFileURL(__filename).href; } };",
  "var __twinsyncMetaResolve = (specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href;",
  // lazyBuiltins: Node's module, required when a name of it is first read.
  'var __twinsyncLazy = (id) => { let m; return new Proxy({}, { get: (_, key) => (m ??= require(id))[key], has: (_, key) => key in (m ??= require(id)) }); };',
].join(' ')

/**
 * Node's own modules that modules of the CLI and the SDK import at their top, for functions an
 * unchanged snapshot, `plan` and `status` never call (git and other tools are spawned only when
 * something changed, the asynchronous file calls are those of writes): each is required when the
 * module first reads a name of it. Requiring `node:child_process` loads it with `dgram`, its
 * socket list and its internals, `node:fs/promises` with its directory, watcher and readline
 * modules: 0.9–1.1 ms a run that needs neither (both after stream, net, zlib and crypto, which such a run loads anyway; medians of 11 fresh processes, session 8).
 * `node:zlib` too (session 37): `history` neither writes objects nor reads a provider's cache,
 * yet the twin's writers (pack-writer.ts, atomic-snapshot.ts) and the caches (file-cache.ts,
 * stat-cache.ts) import it at their top. `history --limit 1000 --json` of the bench's
 * twin: 341.3 → 338.7 M instructions of node (callgrind, 3 interleaved pairs, each build
 * its own code cache, the short run's flags). Only esbuild's own binding of
 * an import (`import_x = require("node:…")`) is made lazy, and only where every other use of that
 * name reads a property of it (checked); anything else is left as it is.
 */
const LAZY_CLI_BUILTINS = /^( +)(import_\w+) = require\("(node:child_process|child_process|node:fs\/promises|fs\/promises|node:zlib|zlib)"\);$/gm
function lazyBuiltins(text, file) {
  const names = []
  const out = text.replace(LAZY_CLI_BUILTINS, (line, indent, name, id) => {
    names.push(name)
    return `${indent}${name} = __twinsyncLazy(${JSON.stringify(id)});`
  })
  for (const name of names) {
    for (const use of out.matchAll(new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}(?![\\w$])`, 'g'))) {
      const after = out.slice(use.index + name.length, use.index + name.length + 20)
      const before = out.slice(Math.max(0, use.index - 4), use.index)
      const property = after.startsWith('.')
      const assigned = after.startsWith(' = __twinsyncLazy(')
      const declared = /^[,;]/.test(after) && /(var |, )$/.test(before)
      if (!property && !assigned && !declared) throw new Error(`bundle: ${file} uses ${name} (a module of Node's made lazy) other than by reading a name of it: ${out.slice(use.index - 40, use.index + 40)}; see lazyBuiltins`)
    }
  }
  return out
}

/**
 * The file as ASCII when only comments held other characters (esbuild writes its code as ASCII,
 * and keeps doc comments as they are): bin/code-cache.js then reads it as a one-byte string, which
 * V8 takes without decoding UTF-8 (1.7 MB: about 2 ms a run). A comment's character is replaced
 * by `?` only when `//` or `/*` opens before it on its line (or the line is a doc comment's `*`).
 */
function asciiComments(text) {
  return text.replace(/^.*[^\x00-\x7f].*$/gm, (line) =>
    line.replace(/[^\x00-\x7f]/g, (ch, at) => {
      const before = line.slice(0, at)
      const opened = before.lastIndexOf('/*') > before.lastIndexOf('*/') || before.includes('//') || /^\s*\*/.test(before)
      return opened ? '?' : ch
    }),
  )
}

/**
 * The SDK's entries (and typebox, which the SDK holds) as the CommonJS bundle takes them: from
 * sdk.cjs, the installed SDK's (see the SDK's build above), each a module of this bundle that
 * calls its entry, so an entry's code runs when the first module that imports it runs.
 */
const SDK_OF = { '@twinsync/sdk': 'index', '@twinsync/sdk/light': 'light', '@twinsync/sdk/errors': 'errors', '@twinsync/sdk/domains': 'domains', '@twinsync/sdk/conformance': 'conformance', '@twinsync/sdk/typebox': 'typebox', '@twinsync/sdk/typebox/value': 'typeboxValue', typebox: 'typebox', 'typebox/value': 'typeboxValue' }
const sdkRequired = {
  name: 'sdk-required',
  setup(b) {
    b.onResolve({ filter: /^@twinsync\/sdk\/cjs$/ }, (args) => ({ path: args.path, external: true }))
    b.onResolve({ filter: /^(@twinsync\/sdk(\/.*)?|typebox(\/value)?)$/ }, (args) => {
      const key = SDK_OF[args.path]
      if (key === undefined) throw new Error(`bundle: ${args.path} (imported by ${args.importer}) is no entry of the SDK`)
      return { path: key, namespace: 'sdk-cjs' }
    })
    b.onLoad({ filter: /.*/, namespace: 'sdk-cjs' }, (args) => ({ contents: `module.exports = require('@twinsync/sdk/cjs').${args.path}()`, loader: 'js', resolveDir: core }))
  },
}

/**
 * Each module of the CommonJS bundle that imports an SDK entry (sdkRequired's `sdk-cjs:` modules)
 * took it as `__toESM(require_index())`: esbuild's interop, which makes a fresh object and
 * defines a getter on it for every name of the entry (the index has 78, typebox 289), once per
 * importing module when it first runs: 118 modules import the index. 2.4-4.6 ms of CPU per
 * command in `__copyProps` (CPU profiles, session 7). The entry's own object is taken instead,
 * one for all: where the entry's object is marked `__esModule` (and the importer is not in Node
 * mode), `__toESM` would only copy its names, each a getter reading the entry's, so every read
 * gives the same live value; elsewhere `__toESM` adds a `default` (the object itself), which no
 * import reaches when the entry has no default export (TypeScript refuses it). Any other
 * `__toESM` of an entry is left as it is. The build checks that no index import is copied.
 */
function sharedSdkNamespaces(text, file) {
  const shims = [...text.matchAll(/^\/\/ sdk-cjs:(\w+)\nvar (require_\w+) = __commonJS\(\{\n {2}"sdk-cjs:\1"\(exports2?, module2?\) \{\n {4}module2?\.exports = require\("@twinsync\/sdk\/cjs"\)\.\1\(\);$/gm)]
  if (shims.length !== (text.match(/^\/\/ sdk-cjs:/gm) ?? []).length) throw new Error(`bundle: an SDK entry's module in ${file} is not as sharedSdkNamespaces expects`)
  let out = text
  for (const [, key, fn] of shims) {
    const shape = sdkShapes[key]
    if (shape === undefined) throw new Error(`bundle: ${file} imports the SDK's ${key}, which is no entry of sdk.cjs`)
    out = out.replace(new RegExp(`__toESM\\(${fn}\\(\\)(, 1)?\\)`, 'g'), (call, nodeMode) => (!shape.hasDefault || (shape.esModule && nodeMode === undefined) ? `${fn}()` : call))
    if (key === 'index' && out.includes(`__toESM(${fn}()`)) throw new Error(`bundle: ${file} still copies the SDK's index into a namespace of its own per importer (__toESM(${fn}()); see sharedSdkNamespaces`)
  }
  return out
}

/** `@oclif/core` is oclif.cjs, required from the bundle's folder: the instance bin/run.js loaded. */
const oclifRequired = {
  name: 'oclif-required',
  setup(b) {
    b.onResolve({ filter: /^@oclif\/core$/ }, () => ({ path: './oclif.cjs', external: true }))
  },
}

/** The TUI's entry is the TUI's own bundle (tui.js, built below), imported by `twinsync tui` only. */
const TUI_BUNDLE = './tui.js'
const tuiApart = {
  name: 'tui-apart',
  setup(b) {
    b.onResolve({ filter: /[\\/]tui[\\/]tui-command\.js$/ }, (args) => {
      if (args.kind !== 'dynamic-import') throw new Error(`bundle: ${args.importer} imports the TUI statically; only \`import()\` keeps it apart`)
      return { path: TUI_BUNDLE, external: true }
    })
  },
}

/**
 * The `import()` of a module outside the CommonJS bundle, as esbuild left it, made to work from a
 * code cache: oclif.cjs and Node's own modules are required (the code takes named exports of a
 * built-in, which its CommonJS object has too; an `import()` would start Node's ES module loader,
 * about 4 ms, in a run that needs it for nothing else), the TUI's bundle imported by its file
 * URL, anything else (the SDK, @octokit/rest) through `__twinsyncImport`. Any other `import(`
 * left in the file is refused: it would fail once the file runs from the cache.
 */
function dynamicImportsThroughLoader(text, output, name = 'twinsync.cjs') {
  let out = text
  const paths = new Set(output.imports.filter((imp) => imp.kind === 'dynamic-import' && imp.external === true).map((imp) => imp.path))
  for (const path of paths) {
    const call = `import(${JSON.stringify(path)})`
    const by =
      path === './oclif.cjs' || path.startsWith('node:')
        ? `Promise.resolve().then(() => require(${JSON.stringify(path)}))`

        : path === TUI_BUNDLE
          ? `__twinsyncImport(require("node:url").pathToFileURL(require("node:path").join(__dirname, ${JSON.stringify(TUI_BUNDLE)})).href)`
          : `__twinsyncImport(${JSON.stringify(path)})`
    if (!out.includes(call)) throw new Error(`bundle: ${call} not found in ${output.entryPoint}`)
    out = out.split(call).join(by)
  }
  const rest = out.slice(out.indexOf('\n')).match(DYNAMIC_IMPORT)
  if (rest !== null) throw new Error(`bundle: ${name} still calls import() itself (${rest.length}×)`)
  return out
}

/**
 * Libraries of the lazy file that an unchanged snapshot, `plan` and `status` never run (git and
 * other tools are spawned only when something changed, YAML read only for a config file that is
 * not empty, secrets scanned only in a changed file), each a CommonJS file of its own beside it,
 * `vendor-<name>.cjs`, required through `__twinsyncRequire` (so from the code cache too) when the
 * first module that imports it runs. A file's source is read whole and copied into a string on
 * every run that loads it, and its code cache holds an entry for every function at its top, run
 * or not: without their whitespace, these libraries were 0.9 MB of the 2.77 MB an unchanged
 * snapshot read (execa twice, in the SDK's and the CLI's); twinsync-lib.cjs 1,352 → 783 KB,
 * sdk-lib.cjs 890 → 536 KB. Session 12, minbase root, unchanged snapshot, with withoutWhitespace
 * (below), against the build before both: the files it reads 3.86 → 1.87 MB, page faults 9,457 →
 * 7,869 a run, task-clock (`perf stat`, medians of 30 interleaved, load average 9) 181.9 → 167.7
 * ms; `status` 214.6 → 204.5, `plan` 202.2 → 196.6, `history` 176.3 → 154.8 ms (20 each).
 * Only imports from TwinSync's own modules are sent there; a library that another bundled
 * library imports stays in that library's file.
 */
/** Every vendor file written, for the final pass over the CommonJS files (sha256 line, whitespace). */
const vendorFiles = []
/**
 * `vendors` maps a library's specifier to the vendor file it is in (libraries that share state go
 * in one file: secretlint's core and the profiler instance secrets.ts silences). An import of it
 * from TwinSync's own modules becomes a small module of the bundle that takes it from there.
 */
function vendorApart(vendors) {
  return {
    name: 'vendor-apart',
    setup(b) {
      b.onResolve({ filter: /^[@a-z]/ }, (args) => {
        if (vendors[args.path] === undefined || args.namespace === 'vendor' || /[\\/]node_modules[\\/]/.test(args.importer)) return undefined
        return { path: args.path, namespace: 'vendor' }
      })
      b.onLoad({ filter: /.*/, namespace: 'vendor' }, (args) => ({
        contents: `module.exports = __twinsyncRequire(${JSON.stringify(`./vendor-${vendors[args.path]}.cjs`)})[${JSON.stringify(args.path)}]`,
        loader: 'js',
      }))
    },
  }
}
/** Each vendor file, its libraries built from `resolveDir` as the importing modules resolve them. */
async function buildVendors({ vendors, dir, resolveDir, options }) {
  for (const group of new Set(Object.values(vendors))) {
    const file = join(dir, `vendor-${group}.cjs`)
    const specifiers = Object.keys(vendors).filter((specifier) => vendors[specifier] === group)
    const result = await build({
      ...options,
      stdin: { contents: specifiers.map((specifier) => `exports[${JSON.stringify(specifier)}] = require(${JSON.stringify(specifier)})`).join('\n'), resolveDir, sourcefile: `vendor-${group}.cjs`, loader: 'js' },
      outfile: file,
    })
    writeFileSync(file, lazyBuiltins(asciiComments(dynamicImportsThroughLoader(readFileSync(file, 'utf8'), Object.values(result.metafile.outputs)[0], basename(file))), basename(file)))
    vendorFiles.push(file)
  }
}

/**
 * An esbuild plugin that takes each module `indexOf` finds (its index in the `__eager` list of the
 * eager file `eagerFile`, see splitCjs; -1: the build's own) from that file with `require`: the
 * instance it holds, never a copy. The lazy file's way to the eager one's modules (splitCjs), and
 * the TUI's to those it shares with the commands (SHARED_WITH_TUI).
 */
function takenFromEager(name, eagerFile, indexOf) {
  return {
    name,
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.namespace === name) return { path: args.path, external: true }
        if (args.pluginData?.resolving || args.namespace !== 'file' || args.kind === 'entry-point') return undefined
        const found = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { resolving: true } })
        const at = indexOf(found.path)
        return at === -1 ? found : { path: String(at), namespace: name }
      })
      b.onLoad({ filter: /.*/, namespace: name }, (args) => ({ contents: `module.exports = require(${JSON.stringify(eagerFile)}).__eager[${args.path}]()`, loader: 'js' }))
    },
  }
}

/**
 * One program as two CommonJS files in `dir`: `<name>.cjs`, what every run needs (the entry and
 * what it imports statically), and `<name>-lib.cjs`, the rest, which the first file requires
 * (through `__twinsyncRequire`, so from the code cache too) when a run first reaches it. Each
 * file's code cache holds every function of the file, used or not (its size grows with the
 * file), so `--help` and the like read only the small file's. A module is in one of the two
 * files, never both: what the lazy part imports of the eager one it takes from there
 * (`__eager`), and the build checks it.
 *
 * `entry` (ES module text, written as `<name>-entry.mjs` in `entryDir`) is the eager file's entry;
 * its `import()` of a module outside the static imports goes to the lazy file. `lazyRoots`:
 * modules the lazy file holds besides those (ones `entry` reaches as
 * `__twinsyncRequire('./<name>-lib.cjs').load(<their index>)`). Returns both builds.
 */
async function splitCjs({ name, dir, entryDir, entry, lazyRoots = [], vendors = {}, options: given }) {
  const options = { ...given, plugins: [vendorApart(vendors), ...given.plugins] }
  const eagerEntry = join(entryDir, `${name}-entry.mjs`)
  const libEntry = join(entryDir, `${name}-lib-entry.cjs`)
  const lib = `./${name}-lib.cjs`
  try {
    // What the entry imports statically: a first build, not written.
    writeFileSync(eagerEntry, entry)
    const probe = await build({ ...options, entryPoints: [eagerEntry], outdir: dir, write: false })
    const inputs = probe.metafile.inputs
    // The files the entry reaches through imports of these kinds, in the order first met.
    const reached = (kinds) => {
      const out = []
      const walk = (file) => {
        if (out.includes(file)) return
        out.push(file)
        for (const imp of inputs[file].imports) if (!imp.external && kinds.includes(imp.kind)) walk(imp.path)
      }
      walk(relative(process.cwd(), eagerEntry))
      return out
    }
    const eager = reached(['import-statement', 'require-call'])
    // What the entry reaches through `import` statements alone runs as the file loads; a module
    // reached only through a `require()` (the SDK's light entry) runs when first required, and
    // the lazy file takes it through `__eager` the same way (a `require`, not an `import`).
    const imported = reached(['import-statement'])
    const eagerFiles = eager.filter((f) => !f.includes(':') && f !== relative(process.cwd(), eagerEntry)).map((f) => join(process.cwd(), f))
    const roots = [...lazyRoots]
    for (const file of eager) for (const imp of inputs[file].imports) {
      if (!imp.external && imp.kind === 'dynamic-import' && !eager.includes(imp.path) && !imp.path.includes(':')) {
        const abs = join(process.cwd(), imp.path)
        if (!roots.includes(abs)) roots.push(abs)
      }
    }
    const toLib = {
      name: 'to-lib',
      setup(b) {
        b.onResolve({ filter: /.*/ }, async (args) => {
          if (args.kind !== 'dynamic-import' || args.pluginData?.resolving || args.namespace !== 'file') return undefined
          const found = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { resolving: true } })
          const at = found.external === true || found.namespace !== 'file' ? -1 : roots.indexOf(found.path)
          return at === -1 ? found : { path: String(at), namespace: 'to-lib' }
        })
        b.onLoad({ filter: /.*/, namespace: 'to-lib' }, (args) => ({ contents: `module.exports = __twinsyncRequire(${JSON.stringify(lib)}).load(${args.path})`, loader: 'js' }))
      },
    }
    const runsAtLoad = (f) => imported.includes(relative(process.cwd(), f))
    writeFileSync(eagerEntry, `${entry}\n${eagerFiles.map((f, i) => (runsAtLoad(f) ? `import * as __eager${i} from ${JSON.stringify(f)}` : '')).join('\n')}\nexport const __eager = [${eagerFiles.map((f, i) => (runsAtLoad(f) ? `() => __eager${i}` : `() => require(${JSON.stringify(f)})`)).join(', ')}]\n`)
    const first = await build({ ...options, entryPoints: { [name]: eagerEntry }, outdir: dir, outExtension: { '.js': '.cjs' }, plugins: [...options.plugins, toLib] })
    const fromEager = takenFromEager('from-eager', `./${name}.cjs`, (path) => eagerFiles.indexOf(path))
    writeFileSync(libEntry, `const loaded = []\nconst roots = [\n${roots.map((f) => `  () => require(${JSON.stringify(f)}),`).join('\n')}\n]\nexports.load = (n) => (loaded[n] ??= roots[n]())\n`)
    const second = await build({ ...options, entryPoints: { [`${name}-lib`]: libEntry }, outdir: dir, outExtension: { '.js': '.cjs' }, plugins: [...options.plugins, fromEager] })
    const firstFiles = Object.keys(first.metafile.inputs).filter((f) => !f.includes(':')).map((f) => join(process.cwd(), f))
    const both = Object.keys(second.metafile.inputs).filter((f) => !f.includes(':') && firstFiles.includes(join(process.cwd(), f)))
    if (both.length > 0) throw new Error(`bundle: ${both.join(', ')} in both ${name}.cjs and ${name}-lib.cjs`)
    for (const [file, result] of [[`${name}.cjs`, first], [`${name}-lib.cjs`, second]]) {
      const path = join(dir, file)
      writeFileSync(path, lazyBuiltins(asciiComments(dynamicImportsThroughLoader(readFileSync(path, 'utf8'), Object.values(result.metafile.outputs)[0], file)), file))
    }
    await buildVendors({ vendors, dir, resolveDir: entryDir, options: given })
    return { first, second, eagerFiles, runsAtLoad }
  } finally {
    rmSync(eagerEntry, { force: true })
    rmSync(libEntry, { force: true })
  }
}

// The SDK as one CommonJS file, sdk/bundle/sdk.cjs, so the host compiles it from V8's code cache
// as it does oclif and the commands (bin/run.js): as ES module chunks (session 5) the SDK's index
// with typebox took 21–30 ms to import on every run. Each of the package's entries is a function
// of sdk.cjs that runs that entry's modules when first called (`errors()` does not build
// typebox's schemas), and each entry's file (sdk/bundle/index.js, errors.js, …) is a small ES
// module that requires sdk.cjs and exports that entry's names: a plugin's `import
// '@twinsync/sdk'` and the host's `require` get the one instance in require's cache.
/**
 * typebox's regular expressions over Unicode properties (`\p{ID_Start}`, `\p{L}`, `\p{Script=Han}`…)
 * made when first used instead of when typebox loads: V8 builds each one's character classes from
 * ICU when the expression is created, and typebox's index loads them all with every SDK entry
 * that imports it (its code emitter's identifier check, the IDN e-mail format, the IDNA tables
 * behind the hostname formats), though only a schema with such a format or a compiled validator
 * with an odd property name asks one. 1.1–1.2 ms of CPU a run that needs none (session 8: the
 * expressions alone in a fresh node, medians of 5; callgrind counted 2% of an unchanged
 * snapshot's instructions in their parsing). A module-level `const NAME = /…\p{…}…/flags` whose
 * only uses are `NAME.test(` (no `g` or `y` flag: no state between tests) is made when first
 * tested; the IDNA module, which holds the rest, is required when a hostname format is first
 * checked. Anything else in those files fails the build (see the checks).
 */
const LAZY_TYPEBOX = /[\\/]node_modules[\\/]typebox[\\/]build[\\/](guard[\\/]emit|format[\\/]idn_email|format[\\/]hostname|format[\\/]idn_hostname)\.mjs$/
const IDNA_IMPORT = "import * as Idna from './idna/index.mjs';"
let lazyTypeboxFiles = 0
/** The text without its comments (for counting a name's uses only). */
const uncommented = (text) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '')
function lazyTypeboxRegExps(text, path) {
  let out = text
  if (/[\\/]format[\\/](idn_)?hostname\.mjs$/.test(path)) {
    if (out.split(IDNA_IMPORT).length !== 2) throw new Error(`bundle: ${path} does not import typebox's IDNA module as lazyTypeboxRegExps expects`)
    out = out.replace(IDNA_IMPORT, "let Idna__module; const idna = () => (Idna__module ??= require('./idna/index.mjs'));")
    const uses = uncommented(out).match(/(?<![\w$.])Idna(?![\w$])/g)?.length ?? 0
    const calls = uncommented(out).match(/(?<![\w$.])Idna\.Is\w+\(/g)?.length ?? 0
    if (uses === 0 || uses !== calls) throw new Error(`bundle: ${path} uses typebox's IDNA module other than by calling its functions; see lazyTypeboxRegExps`)
    out = out.replace(/(?<![\w$.])Idna\.(Is\w+)\(/g, 'idna().$1(')
  } else {
    const declarations = [...out.matchAll(/^const (\w+) = (\/.*\\p\{.*\/([a-z]*));$/gm)]
    if (declarations.length !== 1) throw new Error(`bundle: ${path} does not hold one regular expression over Unicode properties as lazyTypeboxRegExps expects`)
    const [line, name, literal, flags] = declarations[0]
    if (/[gy]/.test(flags)) throw new Error(`bundle: ${path}'s ${name} keeps state between tests (${flags}); see lazyTypeboxRegExps`)
    out = out.replace(line, `let ${name}__lazy;`)
    const uses = uncommented(out).match(new RegExp(`(?<![\\w$.])${name}(?![\\w$])`, 'g'))?.length ?? 0
    const tests = uncommented(out).match(new RegExp(`(?<![\\w$.])${name}\\.test\\(`, 'g'))?.length ?? 0
    if (uses === 0 || uses !== tests) throw new Error(`bundle: ${path} uses ${name} other than by its test(); see lazyTypeboxRegExps`)
    out = out.replace(new RegExp(`(?<![\\w$.])${name}\\.test\\(`, 'g'), () => `(${name}__lazy ??= ${literal}).test(`)
  }
  lazyTypeboxFiles++
  return out
}
const lazyTypebox = {
  name: 'lazy-typebox-regexps',
  setup(b) {
    b.onLoad({ filter: LAZY_TYPEBOX }, (args) => ({ contents: lazyTypeboxRegExps(readFileSync(args.path, 'utf8'), args.path), loader: 'js' }))
  },
}

const SDK_ENTRIES = { index: 'index', light: 'light', errors: 'errors', domains: 'domains', conformance: 'conformance-kit', typebox: 'typebox', typeboxValue: 'typebox-value' }
const sdkOut = join(sdk, 'bundle')
const SDK_EAGER = ['errors', 'domains']
/**
 * The SDK's light entry (sdk/src/light.ts: what the core needs to reach the twin, no typebox) is
 * in sdk.cjs too, but its modules run when light() is first called: `require()`d there, they are
 * wrapped (esbuild's `__esm`) and splitCjs hands them to sdk-lib.cjs the same way (see `__eager`).
 * In sdk-lib.cjs, history paid for reading the file and its code cache even so (the light entry
 * alone there: `history --limit 1` 379.1 → 367.7 M instructions); run as sdk.cjs loads, every
 * command paid for its modules (node:crypto among them: `history --help` 248.0 → 311.8 M).
 * Speed (issue 22, session 27, callgrind, minbase root's bench twin of 1,000 snapshots, load 5-8):
 * `history --limit 1` 379.2 → 335.0 M instructions, `--limit 1000` 468.3 → 422.6 M, `history --help`
 * 248.1 → 253.4 M (the larger sdk.cjs); `status`, which needs the index for its providers, within
 * its noise (1,599–1,636 → 1,614–1,623 M).
 */
const SDK_LIGHT = 'light'
const inSdkLib = Object.keys(SDK_ENTRIES).filter((key) => !SDK_EAGER.includes(key) && key !== SDK_LIGHT)
/**
 * The entries in sdk-lib.cjs (the index, typebox and its value module, the conformance kit) load
 * that file when one of their names is first read, not when the entry is first asked for: each is
 * an object of the entry's names (known here, from sdk/dist), each a getter. The index's names of
 * the light entry are read from it (the same values: the index re-exports its modules); those of
 * SDK_HELD (index modules without typebox that an unchanged snapshot, `plan` or `status` reads:
 * the made documents, whose homes a run reads, the Debian services' table and its config checks,
 * the plan's capabilities and format version) from their module in sdk.cjs, run when one of its
 * names is first read (as light's modules are, so `history`, which runs light, does not run them);
 * every other name from the entry's module in sdk-lib.cjs (the index's from the one module that
 * exports it: indexParts). Every module of the CLI's bundle that
 * imports the SDK, typebox or its value module asks for the entry when it first runs
 * (`require_index()`, see sharedSdkNamespaces) but reads a name only where it uses it (esbuild
 * reads `import_sdk.name` at each use), so a run that reads no other name and builds no schema
 * (the CLI's schemas are built when first used: sdk/src/lazy-schema.ts) never loads sdk-lib.cjs,
 * typebox's ~700 modules. A plugin's `import '@twinsync/sdk'` (the ES module facade reads every
 * name) and its `require` get the same object: one SDK instance.
 * Speed (issue 22, session 41): the figures are in sdk/src/lazy-schema.ts.
 */
const SDK_HELD = ['made-documents', 'run-as', 'config-check', 'debian-services', 'follow-up', 'content-validator', 'plan-format']
const SDK_LAZY_ENTRY = `function loadedOnRead(names, load, held) {
  const entry = {}
  Object.defineProperty(entry, '__esModule', { value: true })
  for (const name of names) {
    const from = held?.[name] ?? load
    Object.defineProperty(entry, name, { enumerable: true, get: () => from()[name] })
  }
  return entry
}`
/** The names of sdk/dist/<file>.js (`default` among them when it has one). */
const distNames = async (file) => Object.keys(await import(pathToFileURL(join(sdk, 'dist', `${file}.js`)).href))
/**
 * Speed (issue 22, session 43): a name of the SDK's index that neither the light entry nor SDK_HELD
 * gives is read from the one module of the index that exports it (`export * from './x.js'`, found
 * by its names; typebox's `Type` from the typebox entry), loaded through sdk-lib.cjs as its own
 * root, not from the whole index: a third-party plugin reads a few names (the dnf example: `Type`,
 * its diagnostics, `fingerprint`), and the index ran every SDK module and typebox's for them. The
 * same instance (each module runs once in sdk-lib.cjs, whichever root reaches it first); a name two
 * modules export, or one from another package, comes from the whole index as before.
 * The bench's plugin row (the dnf example installed first, an unchanged minbase snapshot;
 * callgrind, node only, 2 scavenges every run): what the plugin adds 51.8 -> 42.4 M instructions
 * (without it 370.4-371.6 M; with it 422.2 -> 414.0 M, three runs each within 0.1 M): about
 * 12.0 -> 9.9 ms at the bench row's rate. What is left is mostly typebox's `Type`, which the
 * example's schemas are built with as its module loads: sdk-lib.cjs's code cache read (+16 M) and
 * typebox's ~700 modules run (their exports defined, +10 M in Object.defineProperty alone).
 */
const indexPartFiles = []
async function indexParts(heldNames) {
  const text = readFileSync(join(sdk, 'dist', 'index.js'), 'utf8')
  const starred = [...text.matchAll(/^export \* from '\.\/([\w-]+)\.js';$/gm)].map((m) => m[1])
  const fromTypebox = new Set([...text.matchAll(/^export \{ ([\w, ]+) \} from 'typebox';$/gm)].flatMap((m) => m[1].split(/,\s*/)))
  const namesOf = new Map()
  for (const file of starred) namesOf.set(file, new Set(await distNames(file)))
  const parts = new Map()
  for (const name of await distNames(SDK_ENTRIES.index)) {
    if (heldNames.has(name) || name === 'default') continue
    if (fromTypebox.has(name)) {
      parts.set(name, 'typebox')
      continue
    }
    const files = starred.filter((file) => namesOf.get(file).has(name))
    if (files.length !== 1) continue
    if (!indexPartFiles.includes(files[0])) indexPartFiles.push(files[0])
    parts.set(name, files[0])
  }
  return parts
}
/** The entry text of each entry in sdk-lib.cjs (see SDK_LAZY_ENTRY). */
const lazyEntries = []
{
  // heldOf(): each name the index takes from sdk.cjs, to the function that gives its module.
  const held = ['function heldOf() {', '  const held = {}']
  for (const name of await distNames(SDK_ENTRIES[SDK_LIGHT])) held.push(`  held[${JSON.stringify(name)}] = ${SDK_LIGHT}`)
  for (const [i, file] of SDK_HELD.entries()) {
    held.push(`  let module${i}`, `  const held${i} = () => (module${i} ??= require('./dist/${file}.js'))`)
    for (const name of await distNames(file)) held.push(`  held[${JSON.stringify(name)}] ??= held${i}`)
  }
  // The index's other names: each from its own module in sdk-lib.cjs (`indexParts`, see there).
  const heldNames = new Set([...(await distNames(SDK_ENTRIES[SDK_LIGHT])), ...(await Promise.all(SDK_HELD.map(distNames))).flat()])
  for (const [name, part] of await indexParts(heldNames)) {
    const at = part === 'typebox' ? inSdkLib.indexOf('typebox') : inSdkLib.length + indexPartFiles.indexOf(part)
    held.push(`  held[${JSON.stringify(name)}] ??= part${at}`)
  }
  for (const at of new Set([inSdkLib.indexOf('typebox'), ...indexPartFiles.map((_, j) => inSdkLib.length + j)])) {
    lazyEntries.push(`let partLib${at}`, `const part${at} = () => (partLib${at} ??= __twinsyncRequire('./sdk-lib.cjs').load(${at}))`)
  }
  lazyEntries.push(...held, '  return held', '}')
  for (const key of inSdkLib) {
    lazyEntries.push(`let ${key}Lib, ${key}Module\nexport const ${key} = () => (${key}Module ??= loadedOnRead(${JSON.stringify(await distNames(SDK_ENTRIES[key]))}, () => (${key}Lib ??= __twinsyncRequire('./sdk-lib.cjs').load(${inSdkLib.indexOf(key)}))${key === 'index' ? ', heldOf()' : ''}))`)
  }
}
const sdkSplit = await splitCjs({
  name: 'sdk',
  dir: sdkOut,
  entryDir: sdk,
  // errors() and domains() in sdk.cjs (every command needs them), light() there when first
  // called, the other entries in sdk-lib.cjs.
  entry: Object.entries(SDK_ENTRIES)
    .map(([key, file]) =>
      SDK_EAGER.includes(key)
        ? `import * as ${key}Module from './dist/${file}.js'\nexport const ${key} = () => ${key}Module`
        : key === SDK_LIGHT
          ? `let ${key}Module\nexport const ${key} = () => (${key}Module ??= require('./dist/${file}.js'))`
          : undefined,
    )
    .filter((text) => text !== undefined)
    .concat(lazyEntries, SDK_LAZY_ENTRY)
    .join('\n'),
  lazyRoots: [...inSdkLib.map((key) => join(sdk, 'dist', `${SDK_ENTRIES[key]}.js`)), ...indexPartFiles.map((file) => join(sdk, 'dist', `${file}.js`))],
  vendors: { execa: 'execa', '@secretlint/core': 'secretlint', '@secretlint/secretlint-rule-preset-recommend': 'secretlint-preset', '@secretlint/profiler': 'secretlint' },
  options: {
    ...common,
    format: 'cjs',
    define: { 'import.meta.url': '__twinsyncMeta.url' },
    logOverride: { 'empty-import-meta': 'error' },
    banner: { js: CJS_BANNER },
    plugins: [lazyTypebox],
  },
})
// The light entry and SDK_HELD reach no typebox (see SDK_LIGHT): a module of them that imports
// typebox, or an SDK module that does, would load typebox for every run that reaches the twin.
{
  const inputs = sdkSplit.first.metafile.inputs
  const seen = new Set()
  const walk = (file, from) => {
    if (seen.has(file)) return
    seen.add(file)
    if (/node_modules[\\/]typebox[\\/]/.test(file)) throw new Error(`bundle: a module sdk.cjs holds (the light entry, SDK_HELD) loads typebox (${file}, imported by ${from}); keep that module in sdk-lib.cjs`)
    for (const imp of inputs[file]?.imports ?? []) if (!imp.external) walk(imp.path, file)
  }
  for (const file of [SDK_ENTRIES[SDK_LIGHT], ...SDK_HELD]) {
    const start = Object.keys(inputs).find((f) => f.replace(/\\/g, '/').endsWith(`dist/${file}.js`))
    if (start === undefined) throw new Error(`bundle: the SDK's ${file} module is not in sdk.cjs`)
    walk(start, 'the entry')
  }
}
// The four typebox files, in the SDK's lazy file (typebox is not among what every command loads).
if (lazyTypeboxFiles !== 4) throw new Error(`bundle: lazyTypeboxRegExps rewrote ${lazyTypeboxFiles} typebox files, not the 4 this build expects`)
const sdkFile = join(sdkOut, 'sdk.cjs')
const sdkCjs = createRequire(sdkFile)(sdkFile)
// Each index name read from its own module (indexParts) is the whole index's, the same object.
{
  const whole = createRequire(sdkFile)('./sdk-lib.cjs').load(inSdkLib.indexOf('index'))
  const index = sdkCjs.index()
  const differ = Object.keys(whole).filter((name) => index[name] !== whole[name])
  if (differ.length > 0) throw new Error(`bundle: sdk.cjs's index() gives other values than the whole index for ${differ.join(', ')} (see indexParts)`)
}
/** Per SDK entry (SDK_OF's keys): what sharedSdkNamespaces needs to know of its module object. */
const sdkShapes = {}
for (const [key, file] of Object.entries(SDK_ENTRIES)) {
  const esm = await import(pathToFileURL(join(sdk, 'dist', `${file}.js`)).href)
  const names = Object.keys(esm).filter((name) => name !== 'default')
  const cjs = sdkCjs[key]()
  sdkShapes[key] = { esModule: cjs.__esModule === true, hasDefault: 'default' in esm }
  const lost = [...names, ...('default' in esm ? ['default'] : [])].filter((name) => !(name in cjs))
  if (lost.length > 0) throw new Error(`bundle: sdk.cjs's ${key}() lacks ${lost.join(', ')} of sdk/dist/${file}.js`)
  const facade = [
    `// The SDK's ${file} entry: its names from sdk.cjs, the one instance of the SDK (core/scripts/bundle.mjs).`,
    // node:module without its ES module facade (a namespace of all its names, built when imported):
    // a plugin's ES module importing the SDK's index 3.34 → 3.12 ms of CPU (fresh node with the
    // SDK loaded, medians of 21, session 9). process.getBuiltinModule is Node 20.16+.
    "const { createRequire } = process.getBuiltinModule('node:module')",
    `const m = createRequire(import.meta.url)('./sdk.cjs').${key}()`,
    // Bound under names of their own first: `export const { Array } = m` would be a global's name.
    `const { ${names.map((name, i) => `${JSON.stringify(name)}: n${i}`).join(', ')} } = m`,
    `export { ${names.map((name, i) => `n${i} as ${JSON.stringify(name)}`).join(', ')} }`,
    ...('default' in esm ? ['export default m.default'] : []),
  ]
  writeFileSync(join(sdkOut, `${file}.js`), facade.join('\n') + '\n')
  const through = await import(pathToFileURL(join(sdkOut, `${file}.js`)).href)
  const differ = Object.keys(esm).filter((name) => through[name] !== cjs[name])
  if (differ.length > 0 || Object.keys(through).length !== Object.keys(esm).length) throw new Error(`bundle: sdk/bundle/${file}.js does not give sdk.cjs's ${key}() (${differ.join(', ')})`)
  // The same entry for require() (the package's `require` condition): sdk.cjs's object itself, so
  // a plugin shipped as CommonJS gets the one instance without Node's ES module loader, which a
  // require() of the ES module facade would start (see docs/plugin-authoring.md).
  const required = [
    `// The SDK's ${file} entry for require(): sdk.cjs's, the one instance of the SDK (core/scripts/bundle.mjs).`,
    "'use strict'",
    `module.exports = require('./sdk.cjs').${key}()`,
  ]
  writeFileSync(join(sdkOut, `${file}.cjs`), required.join('\n') + '\n')
  if (createRequire(sdkFile)(`./${file}.cjs`) !== cjs) throw new Error(`bundle: sdk/bundle/${file}.cjs does not give sdk.cjs's ${key}()`)
}
removeStale(sdkOut, [sdkSplit.first, sdkSplit.second], [...Object.values(SDK_ENTRIES).flatMap((file) => [`${file}.js`, `${file}.cjs`]), ...vendorFiles.map((f) => basename(f))])

// oclif as one CommonJS file. TypeScript, ts-node and tsx are what oclif would use to run a
// linked plugin's sources; bin/run.js turns that off (settings.enableAutoTranspile), so they
// are never loaded and stay out. Its `import()` calls (oclif loads ES modules: the CLI's bundle,
// plugins) go through `__twinsyncImport`, which bin/code-cache.js passes in: V8 drops what a
// script compiled from a code cache needs for `import()` (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING),
// and vm's own way around it is experimental and warns on every run. Required any other way,
// the file uses its own `import()`. Its `import()` of a library, `import('wsl-utils')` (the
// platform check of every start: five ES modules from node_modules, 4–6 ms through Node's ES
// module loader; `is-wsl` since session 7, see WSL_CHECK), is left for esbuild to bundle: it
// stays lazy and comes from the code cache.
const BUNDLED_BY_OCLIF = ["'wsl-utils')", "'is-wsl')"]
// A plugin's commands are sorted by `localeCompare` when it loads (every run, the root's first):
// the first such call sets up ICU's collator, 4.7 ms of CPU a run (session 7). For ids of
// lowercase letters, `-` and `:` only (TwinSync's and @oclif/plugin-plugins'), that order is
// the strings' code unit order (checked in core/test/oclif-config.test.ts), compared so; any
// other id as before.
const ID_SORT = '.sort((a, b) => a.id.localeCompare(b.id))'
const ID_SORT_PLAIN = '.sort((a, b) => /^[a-z:-]*$/.test(a.id) && /^[a-z:-]*$/.test(b.id) ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.id.localeCompare(b.id))'
let idSorts = 0

// oclif reads a plugin's package.json and manifest (and the user's theme) with fs/promises:
// open, stat, read and close each a trip through Node's thread pool and a turn of the event loop.
// Read synchronously inside the same async function: the same text, the same errors (as a
// rejection).
const JSON_READ = "const contents = await (0, promises_1.readFile)(path, 'utf8');"
const JSON_READ_PLAIN = "const contents = (0, node_fs_1.readFileSync)(path, 'utf8');"
let jsonReads = 0

// oclif's platform check of every run asks wsl-utils whether this is WSL; wsl-utils (for its
// other functions) loads node:child_process and a PowerShell helper first. Its `isWsl` is
// is-wsl's answer (checked below: the same is-wsl), asked of is-wsl directly.
const WSL_CHECK = "(await import('wsl-utils')).isWsl"
const WSL_CHECK_PLAIN = "(await import('is-wsl')).default"
let wslChecks = 0

// oclif checks at load that node satisfies package.json's `engines` (TwinSync's, as bundled:
// `>=20.19`) with semver, whose module builds about a hundred regular expressions first: 2–3 ms
// of CPU a run (session 7). A range `>=X[.Y[.Z]]` and a version `X.Y.Z` are compared as numbers;
// any other range or version by semver as before.
const ENGINE_CHECK = "const semver = require('semver');"
const ENGINE_CHECK_PLAIN = `const semver = { satisfies: (version, range) => {
            const min = /^>=\\s*(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?$/.exec(String(range).trim());
            const have = /^(\\d+)\\.(\\d+)\\.(\\d+)$/.exec(String(version));
            if (min === null || have === null) return require('semver').satisfies(version, range);
            for (let i = 1; i <= 3; i++) if (Number(have[i]) !== Number(min[i] ?? 0)) return Number(have[i]) > Number(min[i] ?? 0);
            return true;
        } };`
let engineChecks = 0

// oclif's own modules require every library they use when they load, and its index loads all of
// them: every run set up a glob library, minimatch, ejs, a spinner set, … that only some runs
// use. A library's module object is taken when the code first reaches one of its names instead
// (oclif's compiled code only ever reads names off it: `(0, x_1.name)(…)`, `x_1.default.y`).
const OCLIF_LIB = /[\\/]node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/].*\.js$/
const LIBRARY_REQUIRE = /^const (\w+) = (__importDefault\()?require\("([^".][^"]*)"\)\)?;$/gm
// Node's own modules oclif loads for a few of its functions only (its shell check, its prompt, its
// timing marks), each with a dozen internal modules of Node's; the others are loaded at Node's
// start anyway, and a name read through the proxy costs more than a plain one.
const LAZY_BUILTINS = ['node:child_process', 'node:readline', 'node:perf_hooks', 'node:fs/promises']
function lazyLibraries(text) {
  return text.replace(LIBRARY_REQUIRE, (line, name, importDefault, specifier) => {
    if (specifier.startsWith('node:') && !LAZY_BUILTINS.includes(specifier)) return line
    const load = importDefault ? `__importDefault(require(${JSON.stringify(specifier)}))` : `require(${JSON.stringify(specifier)})`
    return `let ${name}__module; const ${name} = new Proxy({}, { get: (_, key) => (${name}__module ??= ${load})[key], has: (_, key) => key in (${name}__module ??= ${load}) });`
  })
}
// oclif's ModuleLoader loads a plugin's ES module files (its hooks and commands) with `import()`,
// which starts Node's ES module loader for them; bin/plugin-module.js loads them with require()
// where that is the same (its figure and its rules there), bundled here.
const PLUGIN_IMPORT = 'import((0, node_url_1.pathToFileURL)(filePath).href)'
const PLUGIN_IMPORT_PLAIN = `require(${JSON.stringify(join(core, 'bin', 'plugin-module.js'))}).importPluginModule(filePath)`
let pluginImports = 0
// Its CommonJS files (`.cjs`, `.js` outside an ES module package) it requires: bin/plugin-module.js
// compiles them from V8's code cache, Node's require as the fallback (its figure and rules there).
const PLUGIN_REQUIRE = ': require(filePath)'
const PLUGIN_REQUIRE_PLAIN = `: require(${JSON.stringify(join(core, 'bin', 'plugin-module.js'))}).requirePluginModule(filePath, require)`
let pluginRequires = 0

const oclifImports = {
  name: 'oclif-imports',
  setup(b) {
    b.onLoad({ filter: /\.c?js$/ }, (args) => {
      const original = readFileSync(args.path, 'utf8')
      let text = OCLIF_LIB.test(args.path) ? lazyLibraries(original) : original
      const sorts = /[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/.test(args.path) ? text.split(ID_SORT).length - 1 : 0
      if (sorts > 0) {
        idSorts += sorts
        text = text.split(ID_SORT).join(ID_SORT_PLAIN)
      }
      if (/[\\/]@oclif[\\/]core[\\/]lib[\\/]util[\\/]fs\.js$/.test(args.path)) {
        jsonReads += text.split(JSON_READ).length - 1
        text = text.split(JSON_READ).join(JSON_READ_PLAIN)
      }
      if (/[\\/]@oclif[\\/]core[\\/]lib[\\/]util[\\/]os\.js$/.test(args.path)) {
        wslChecks += text.split(WSL_CHECK).length - 1
        text = text.split(WSL_CHECK).join(WSL_CHECK_PLAIN)
      }
      if (/[\\/]@oclif[\\/]core[\\/]lib[\\/]module-loader\.js$/.test(args.path)) {
        pluginImports += text.split(PLUGIN_IMPORT).length - 1
        text = text.split(PLUGIN_IMPORT).join(PLUGIN_IMPORT_PLAIN)
        pluginRequires += text.split(PLUGIN_REQUIRE).length - 1
        text = text.split(PLUGIN_REQUIRE).join(PLUGIN_REQUIRE_PLAIN)
      }
      if (/[\\/]@oclif[\\/]core[\\/]lib[\\/]index\.js$/.test(args.path)) {
        engineChecks += text.split(ENGINE_CHECK).length - 1
        text = text.split(ENGINE_CHECK).join(ENGINE_CHECK_PLAIN)
      }
      if (text === original && text.search(DYNAMIC_IMPORT) === -1) return undefined
      return { contents: text.replace(DYNAMIC_IMPORT, (call, at) => (BUNDLED_BY_OCLIF.some((name) => text.startsWith(name, at + call.length)) ? call : '__twinsyncImport(')), loader: 'js' }
    })
  },
}
const oclifFile = join(outdir, 'oclif.cjs')
// Its entry is @oclif/core's, with oclif's PluginLoader beside it (`__twinsyncPluginLoader`, not
// among the package's exports): bin/oclif-config.js loads a user's plugins with it as oclif does.
const oclifIndex = createRequire(join(core, 'package.json')).resolve('@oclif/core')
await build({
  ...common,
  format: 'cjs',
  stdin: {
    contents: `module.exports = require('@oclif/core')\nmodule.exports.__twinsyncPluginLoader = require(${JSON.stringify(join(dirname(oclifIndex), 'config', 'plugin-loader.js'))}).default\n`,
    resolveDir: core,
    sourcefile: 'oclif-entry.cjs',
    loader: 'js',
  },
  absWorkingDir: core,
  outfile: oclifFile,
  external: ['typescript', 'ts-node', 'tsx'],
  banner: { js: "'use strict'; var __twinsyncImport = typeof __twinsyncImport === 'function' ? __twinsyncImport : (specifier) => import(specifier);" },
  plugins: [oclifImports],
})
const oclifText = readFileSync(oclifFile, 'utf8')
// oclif.cjs as ASCII, like the CLI's and the SDK's files (asciiComments): bin/code-cache.js then
// takes it as a one-byte string. One character kept it UTF-8: ansis' minified code has a raw
// U+009B (the C1 control sequence introducer) in a regular expression's character class, so the
// 0.7 MB file was decoded as UTF-8 into a two-byte string of 1.4 MB on every run (about 1.5% of
// an unchanged snapshot's instructions, session 8). Inside a class `\x9b` is the same character;
// any other character outside the ASCII range fails the build here.
{
  let escaped = 0
  const ascii = asciiComments(oclifText).replace(/\u009b/g, (ch, at, text) => {
    const before = text.slice(text.lastIndexOf('\n', at) + 1, at)
    if (!/\/\[[^\]]*$/.test(before)) throw new Error(`bundle: oclif.cjs has U+009B outside a regular expression's character class: ${before.slice(-60)}`)
    escaped++
    return '\\x9b'
  })
  const other = ascii.search(/[^\x00-\x7f]/)
  if (other !== -1) throw new Error(`bundle: oclif.cjs holds a character outside ASCII that the build does not escape: ${ascii.slice(Math.max(0, other - 60), other + 20)}`)
  if (escaped > 0 || ascii !== oclifText) writeFileSync(oclifFile, ascii)
}
if (oclifText.slice(oclifText.indexOf('\n')).match(DYNAMIC_IMPORT) !== null) throw new Error('bundle: oclif.cjs still calls import() itself')
if (engineChecks !== 1) throw new Error(`bundle: oclif requires semver for its engines check ${engineChecks} times, not once as this build expects; see ENGINE_CHECK`)
if (jsonReads !== 1) throw new Error(`bundle: oclif reads JSON with fs/promises in ${jsonReads} places, not once as this build expects; see JSON_READ`)
if (pluginImports !== 3) throw new Error(`bundle: oclif's ModuleLoader imports a plugin's ES module in ${pluginImports} places, not 3 as this build expects; see PLUGIN_IMPORT`)
if (pluginRequires !== 3) throw new Error(`bundle: oclif's ModuleLoader requires a plugin's CommonJS file in ${pluginRequires} places, not 3 as this build expects; see PLUGIN_REQUIRE`)
if (wslChecks !== 1) throw new Error(`bundle: oclif asks wsl-utils whether this is WSL ${wslChecks} times, not once as this build expects; see WSL_CHECK`)
{
  const fromOclif = createRequire(createRequire(join(core, 'package.json')).resolve('@oclif/core'))
  const wslUtils = fromOclif.resolve('wsl-utils')
  const isWslOfWslUtils = await import(pathToFileURL(wslUtils).href).then((m) => m.isWsl)
  const isWslOfOclif = await import(pathToFileURL(fromOclif.resolve('is-wsl')).href).then((m) => m.default)
  if (createRequire(wslUtils).resolve('is-wsl') !== fromOclif.resolve('is-wsl') || isWslOfWslUtils !== isWslOfOclif) throw new Error('bundle: wsl-utils and oclif see different is-wsl packages; see WSL_CHECK')
}
if (idSorts !== 1) throw new Error(`bundle: oclif's Plugin.load sorts its commands ${idSorts} times by localeCompare, not once as this build expects; see ID_SORT`)

// The commands as one CommonJS file, so bin/run.js compiles it from V8's code cache as it does
// oclif.cjs: Node 20 keeps no code cache for ES modules, and every ES module is resolved, read
// and compiled from source by its loader on every run (see the figures above). esbuild keeps an
// `import()` of the CLI's own modules lazy in a CommonJS bundle: the module and what it imports
// are wrapped (`__esm`) and their top-level code runs when the `import()` is reached, so a
// command still runs only the code of what it uses.
const cliSplit = await splitCjs({
  name: 'twinsync',
  dir: outdir,
  entryDir: core,
  entry: entry + '\n',
  vendors: { execa: 'execa', yaml: 'yaml', 'simple-git': 'simple-git', semver: 'semver' },
  options: {
    ...common,
    format: 'cjs',
    external: ['@oclif/plugin-plugins', '@octokit/rest'],
    // React's production build for the TUI: the development one checks every render and adds a
    // performance timeline entry per render (about 1,000 per TUI session), and is what a bundle
    // gets when nothing says otherwise. The bundle went from 3.40 MB to 2.67 MB.
    define: { ...production, 'import.meta.url': '__twinsyncMeta.url', 'import.meta.resolve': '__twinsyncMetaResolve' },
    logOverride: { 'empty-import-meta': 'error' },
    banner: { js: CJS_BANNER },
    plugins: [sdkRequired, oclifRequired, tuiApart],
  },
})
const cli = cliSplit.first
startupChecked(cli)
for (const file of ['twinsync.cjs', 'twinsync-lib.cjs']) {
  const path = join(outdir, file)
  writeFileSync(path, sharedSdkNamespaces(readFileSync(path, 'utf8'), file))
}

// The TUI (`twinsync tui`, or `twinsync` alone on a terminal): ink waits on top-level `await`
// (yoga's WebAssembly), which a CommonJS file cannot, so the TUI is an ES module bundle of its
// own: its screens, its services and their libraries, one copy of each (tui/tui-command.ts makes
// its container from this copy). oclif and the SDK are shared as for the commands.
const tuiEntry = join(core, 'dist', 'tui', 'tui-command.js')
/**
 * Modules the TUI's bundle takes from twinsync.cjs (its `__eager`, the instance every command
 * loaded) instead of holding a copy of its own: modules whose state the command and the panel
 * share. unanswered-calls.ts: the provider calls under way and the panel's leaving on purpose,
 * which base-command.ts's exit listener reads; with a copy in tui.js (before session 46) the
 * panel's calls were in another Map (a provider's process.exit(0) under the panel was exit 0,
 * unsaid) and leavingOnPurpose() set a flag nothing read. tui.js requires twinsync.cjs, which
 * bin/code-cache.js put in require's cache (Module._cache): the same module object.
 */
const SHARED_WITH_TUI = [join(core, 'dist', 'providers', 'unanswered-calls.js')]
const fromCliBundle = takenFromEager('from-cli-bundle', './twinsync.cjs', (path) => {
  if (!SHARED_WITH_TUI.includes(path)) return -1
  const at = cliSplit.eagerFiles.indexOf(path)
  if (at === -1 || !cliSplit.runsAtLoad(path)) throw new Error(`bundle: ${path} is not a module twinsync.cjs runs as it loads, so the TUI cannot take it from there (SHARED_WITH_TUI)`)
  return at
})
const tui = await build({
  ...common,
  format: 'esm',
  entryPoints: { tui: tuiEntry },
  outdir,
  external: ['@oclif/plugin-plugins', '@octokit/rest'],
  define: production,
  // Compiled from source on every `twinsync tui` (Node 20 keeps no code cache for an ES module):
  // 2.79 → 1.96 MB for V8 to scan without the whitespace (see withoutWhitespace below).
  minifyWhitespace: true,
  // Bundled CommonJS libraries call require() for Node's own modules; the bundle requires oclif.cjs.
  banner: { js: "import { createRequire as __twinsyncRequire } from 'node:module'; const require = __twinsyncRequire(import.meta.url);" },
  plugins: [fromCliBundle, shared, oclifCjs, noDevtools],
})
{
  const held = Object.keys(tui.metafile.inputs).filter((f) => SHARED_WITH_TUI.includes(join(process.cwd(), f)))
  if (held.length > 0) throw new Error(`bundle: tui.js holds its own copy of ${held.join(', ')}, which it takes from twinsync.cjs (SHARED_WITH_TUI)`)
}
// bin/start.js, what every command runs after bin/run.js (the V8 flags chosen, oclif's load
// options, the bundles loaded, the exit), with the files it requires: one CommonJS file bin/run.js
// compiles from its code cache as it does the others (see there; its figure in bin/start.js).
const startFile = join(outdir, 'start.cjs')
await build({ ...common, format: 'cjs', entryPoints: [join(core, 'bin', 'start.js')], outfile: startFile, external: ['@twinsync/sdk/cjs'] })
removeStale(outdir, [cliSplit.first, cliSplit.second, tui], ['oclif.cjs', 'start.cjs', ...vendorFiles.map((f) => basename(f))])

/**
 * esbuild wraps each module of a CommonJS bundle as `__esm({ "<its path>"() {…} })` (or
 * `__commonJS`), an object literal whose one key is the module's path, so that the function is
 * named after it. Every such literal runs when the file loads, and each new key is a new hidden
 * class (map) that V8 adds to the transitions of the object literal's first map, kept sorted: with
 * some 1,600 modules in the files an unchanged snapshot loads (oclif's, the commands', the SDK's),
 * adding them cost more than everything else the files' top levels do (a fresh node: 1,600 such
 * literals 6.8–45 ms, 800 1.4 ms, 400 0.6 ms; the same 1,600 with one key 0.65 ms; session 8).
 * The key is made the same for all, `__twinsyncModule`: esbuild's helpers take the literal's
 * first key, whatever it is; the module's path stays in the comment esbuild writes above it.
 */
const MODULE_KEY = /^(var [\w$]+ = __(?:esm|commonJS)\(\{\n {2})"(?:[^"\\\n]|\\.)*"(\([\w$, ]*\) \{)$/gm
function sameModuleKey(text, file) {
  const wrappers = text.match(/^var [\w$]+ = __(?:esm|commonJS)\(\{$/gm)?.length ?? 0
  let keys = 0
  const out = text.replace(MODULE_KEY, (line, head, params) => {
    keys++
    return `${head}__twinsyncModule${params}`
  })
  if (keys !== wrappers) throw new Error(`bundle: ${file} has ${wrappers} module wrappers but ${keys} in the shape sameModuleKey expects`)
  return out
}

/**
 * The file without the spaces, line breaks and comments its code does not need (esbuild's
 * `minifyWhitespace`; names and syntax are left as they are, so stack traces and `.name` read as
 * before, at other columns). V8 needs a script's whole source beside its code cache, and every run
 * reads each file it loads and copies it into a string: 3.86 MB for an unchanged snapshot, 2.77 MB
 * so (−28%: oclif.cjs 736 → 491 KB, twinsync-lib.cjs 1,875 → 1,352 KB, sdk-lib.cjs 1,178 → 890
 * KB). The code caches are the same size (the same bytecode). Session 12, minbase root, unchanged
 * snapshot, the same build with and without: about 730 fewer page faults a run (9,290 → 8,560,
 * `perf stat`), CPU (user + sys) medians of 30 interleaved runs 160 → 150 ms under a load average
 * of 8; callgrind's user-space instructions the same (the saving is the kernel's copying and
 * faulting in). `charset: 'ascii'` keeps the file ASCII, so bin/code-cache.js takes it as a
 * one-byte string (see asciiComments).
 */
function withoutWhitespace(text, file) {
  const out = transformSync(text, { minifyWhitespace: true, legalComments: 'none', loader: 'js', charset: 'ascii', logLevel: 'warning' }).code
  if (/[^\x00-\x7f]/.test(out)) throw new Error(`bundle: ${file} is not ASCII once its whitespace is taken out`)
  return out
}

// Each CommonJS file bin/code-cache.js compiles from a code cache begins with the sha256 of the
// rest of it, which names its caches there (with the file's stat data) instead of a hash of the
// file worked out on every run.
for (const file of [startFile, oclifFile, join(outdir, 'twinsync.cjs'), join(outdir, 'twinsync-lib.cjs'), join(sdkOut, 'sdk.cjs'), join(sdkOut, 'sdk-lib.cjs'), ...vendorFiles]) {
  writeFileSync(file, withoutWhitespace(sameModuleKey(readFileSync(file, 'latin1'), basename(file)), basename(file)), 'latin1')
  const text = readFileSync(file)
  writeFileSync(file, Buffer.concat([Buffer.from(`// twinsync-bundle sha256:${createHash('sha256').update(text).digest('hex')}\n`), text]))
}
console.log(`bundle: core/bundle/twinsync.cjs + twinsync-lib.cjs (${commands.length} commands), core/bundle/tui.js, core/bundle/oclif.cjs, sdk/bundle/sdk.cjs + sdk-lib.cjs`)
