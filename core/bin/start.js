'use strict'
// A command's run, after bin/run.js took code-cache.js: the V8 flags chosen, oclif, the SDK and the
// commands loaded from their code caches, the command run, its caches written. Built with the
// files it requires into core/bundle/start.cjs (core/scripts/bundle.mjs), which bin/run.js loads
// through code-cache.js's cache as it does the other bundles.
//
// Speed (issue 22, session 52): until then every command compiled this code, the V8 flags' file,
// oclif's load options and the exit from source (core/bin has no digest to name a cache by), about
// 4 M instructions a command. Callgrind (node only, `npm run bench:compare` against 6f8d572f, 3
// interleaved pairs, the same output bytes): the minbase root's unchanged snapshot 406.1 -> 401.9 M
// (the like-for-like pairs, 10 scavenges each), `plan` 416.5 -> 412.8 M, `--version` 111.9 ->
// 111.6 M (run.js's shorter top level). One cache for every command (`start`): what they run
// here differs by little. Left from source: run.js and code-cache.js, which reads the caches.
const { join } = require('node:path')
const { exitWhenIdle } = require('./exit-when-idle.js')
const { loadOptions, rootAndPlugins } = require('./oclif-config.js')
const { chooseFlags, recordRun, withDefaultFlags } = require('./v8-flags.js')

/**
 * Runs the command `args` asks for. `cache`: bin/code-cache.js as bin/run.js loaded it (one
 * instance a process: the bundles' requires go through it). `self`: requireCached's handle of this
 * file, whose cache was read before any V8 flag was set.
 */
async function start(args, cache, self) {
  const root = join(__dirname, '..')
  // oclif, the SDK and the commands as bundled CommonJS files (core/scripts/bundle.mjs), compiled from
  // V8's code cache (code-cache.js), one cache a command; oclif finds the commands' file in
  // require's cache, and the commands require the same oclif.
  const { cacheDir, guardCompiles, provide, requireCached, saveCaches, setPluginVariant } = cache
  // V8's flags for this command (v8-flags.js: TurboFan held back for a short run, the young
  // generation small for a large one), V8's default budget wherever it reads or makes cached code.
  const command = cacheVariant(args)
  const flags = chooseFlags(command, cacheDir)
  guardCompiles(withDefaultFlags)
  // This file's cache is read before the flags are chosen, so under V8's defaults; a large run's
  // young-generation flag stays set while caches are written (v8-flags.js) and would stamp it for
  // no later run to take: a large run writes none (the handle's `writeNone`, which code-cache.js's
  // save reads whatever saveCaches asks).
  if (flags.large) self.writeNone = true
  // Speed (issue 22, session 38): a run with a user's plugin keeps code caches of its own
  // (`.plugins` in their names). A cache holds the functions the run that wrote it compiled, and
  // is written again only when V8 refuses it, so a run with a plugin that read a cache a run
  // without one wrote (oclif's is one for every command: `plugins install` is often the first
  // command run, or the plugin came after the caches) compiled oclif's plugin loader and the SDK's
  // link to it from source in every run (10-50 KB of code cache's worth). The bench's plugin sandbox
  // (the dnf example installed first), an unchanged minbase snapshot, callgrind (node only, 3
  // interleaved rounds): with the plugin 444.0 -> 433.1 M instructions (medians), what the plugin
  // adds 18.7 -> 8.2 M (medians of the pairs; about 4.8 -> 2.1 ms at that run's rate).
  const known = rootAndPlugins(root)
  const plugins = known.userPlugins ? '.plugins' : ''
  const variant = command + plugins + flags.suffix
  setPluginVariant(variant)
  // oclif runs the same functions for every command of a run without plugins (session 38: the
  // cache an unchanged snapshot wrote grows by under 30 bytes in status, plan, history, providers
  // and describe): one cache for help, one for the rest, each with plugins and without.
  const oclif = requireCached(join(root, 'bundle', 'oclif.cjs'), (command.endsWith('.help') ? 'help' : 'run') + plugins + flags.suffix).exports
  // The SDK as installed, CommonJS too: the commands and every plugin share it. Of the SDK and the
  // commands, only what every command needs loads here; the rest (sdk-lib.cjs, twinsync-lib.cjs)
  // when a command first imports a service, through the same cache.
  provide('@twinsync/sdk/cjs', requireCached(sdkFile(cache), variant).exports)
  const cli = requireCached(join(root, 'bundle', 'twinsync.cjs'), variant).exports
  // Plugins ship compiled JavaScript; never try to transpile a linked plugin's sources.
  oclif.settings.enableAutoTranspile = false
  // No arguments: the control panel on a terminal; help otherwise (a pipe or cron never hangs).
  // process.stdin is only looked at then: setting it up costs 1–2 ms of CPU (session 7).
  const argv = args.length === 0 && process.stdin.isTTY === true && process.stdout.isTTY === true ? ['tui'] : args
  await oclif.execute({ args: argv, loadOptions: await loadOptions(oclif, root, argv, cli.OWN_WORDS, known) })
  // Only a run that succeeded leaves a cache: bad input changes nothing on disk.
  if (!process.exitCode) {
    saveCaches()
    recordRun(command, flags, cacheDir)
  }
  // Once the command ran: an exit without waiting on V8's garbage collector (exit-when-idle.js).
  exitWhenIdle()
}

/**
 * @twinsync/sdk's CommonJS file (its package.json's `exports["./cjs"]`), looked up in the
 * node_modules folders Node would search from here, without Node's resolver (which loads its ES
 * module resolver for a package's `exports`, about 2 ms, see code-cache.js's `provide`). Anything
 * else than that plain layout: require.resolve.
 */
function sdkFile(cache) {
  const { readFileSync } = require('node:fs')
  const { dirname } = require('node:path')
  for (const dir of require('node:module')._nodeModulePaths(__dirname)) {
    let text
    try {
      text = readFileSync(join(dir, '@twinsync', 'sdk', 'package.json'), 'utf8')
    } catch (error) {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') continue
      break
    }
    const { exports: entries } = JSON.parse(text)
    const target = entries?.['./cjs']
    if (typeof target === 'string' && target.startsWith('./') && !target.includes('*')) {
      // Where a plugin's run looks for the SDK too (code-cache.js's provideFile).
      if (entries['./package.json'] === './package.json') cache.provideFile('@twinsync/sdk/package.json', join(dir, '@twinsync', 'sdk', 'package.json'))
      return join(dirname(join(dir, '@twinsync', 'sdk', 'package.json')), target)
    }
    break
  }
  return require.resolve('@twinsync/sdk/cjs')
}

/**
 * The name of a run's code cache: its command's first word, and whether it asks for help or makes
 * the first snapshot. A cache holds every function the run that wrote it compiled, and V8 reads
 * all of it each time: the first snapshot (`--init`, once a twin) compiles much that an unchanged
 * one never runs, and its cache would otherwise be the one every later snapshot reads (the
 * services root: 2.2 MB instead of 1.7 MB of the two lib files' caches).
 */
function cacheVariant(words) {
  const word = words.length === 0 ? 'none' : /^[a-z][a-z0-9-]{0,31}$/.test(words[0]) ? words[0] : 'other'
  if (words.includes('--help') || words.includes('-h')) return `${word}.help`
  return words.includes('--init') ? `${word}.init` : word
}

exports.start = start
