#!/usr/bin/env node
'use strict'
// CommonJS (core/bin/package.json): an ES module entry starts Node's ES module loader, about 4 ms
// of every run (session 7), and nothing a core command runs needs it.
const args = process.argv.slice(2)
// `twinsync --version` answers without loading oclif, so scripts that probe for it stay fast.
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { version } = JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, '..', 'package.json'), 'utf8'))
  process.stdout.write(`twinsync/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  void start()
}

async function start() {
  const { join } = require('node:path')
  // oclif, the SDK and the commands as bundled CommonJS files (core/scripts/bundle.mjs), compiled from
  // V8's code cache (code-cache.js), one cache a command; oclif finds the commands' file in
  // require's cache, and the commands require the same oclif.
  const { requireCached, saveCaches } = require('./code-cache.js')
  const variant = cacheVariant(args)
  // oclif runs the same functions for every command: one cache for help, one for the rest.
  const oclif = requireCached(join(__dirname, '..', 'bundle', 'oclif.cjs'), variant.endsWith('.help') ? 'help' : 'run').exports
  // The SDK as installed, CommonJS too: the commands and every plugin share it. Of the SDK and the
  // commands, only what every command needs loads here; the rest (sdk-lib.cjs, twinsync-lib.cjs)
  // when a command first imports a service, through the same cache.
  requireCached(require.resolve('@twinsync/sdk/cjs'), variant)
  const cli = requireCached(join(__dirname, '..', 'bundle', 'twinsync.cjs'), variant).exports
  // Plugins ship compiled JavaScript; never try to transpile a linked plugin's sources.
  oclif.settings.enableAutoTranspile = false
  // No arguments: the control panel on a terminal; help otherwise (a pipe or cron never hangs).
  const bare = args.length === 0
  const onTerminal = process.stdin.isTTY === true && process.stdout.isTTY === true
  const argv = bare && onTerminal ? ['tui'] : args
  const { loadOptions } = require('./oclif-config.js')
  await oclif.execute({ args: argv, loadOptions: await loadOptions(oclif, join(__dirname, '..'), argv, cli.OWN_WORDS) })
  // Only a run that succeeded leaves a cache: bad input changes nothing on disk.
  if (!process.exitCode) saveCaches()
}

/** The name of a run's code cache: its command's first word, and whether it asks for help. */
function cacheVariant(words) {
  const word = words.length === 0 ? 'none' : /^[a-z][a-z0-9-]{0,31}$/.test(words[0]) ? words[0] : 'other'
  return words.includes('--help') || words.includes('-h') ? `${word}.help` : word
}
