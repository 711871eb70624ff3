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
  keepYoungGenerationSmall()
  const { join } = require('node:path')
  // oclif, the SDK and the commands as bundled CommonJS files (core/scripts/bundle.mjs), compiled from
  // V8's code cache (code-cache.js), one cache a command; oclif finds the commands' file in
  // require's cache, and the commands require the same oclif.
  const { provide, requireCached, saveCaches } = require('./code-cache.js')
  const variant = cacheVariant(args)
  // oclif runs the same functions for every command: one cache for help, one for the rest.
  const oclif = requireCached(join(__dirname, '..', 'bundle', 'oclif.cjs'), variant.endsWith('.help') ? 'help' : 'run').exports
  // The SDK as installed, CommonJS too: the commands and every plugin share it. Of the SDK and the
  // commands, only what every command needs loads here; the rest (sdk-lib.cjs, twinsync-lib.cjs)
  // when a command first imports a service, through the same cache.
  provide('@twinsync/sdk/cjs', requireCached(sdkFile(), variant).exports)
  const cli = requireCached(join(__dirname, '..', 'bundle', 'twinsync.cjs'), variant).exports
  // Plugins ship compiled JavaScript; never try to transpile a linked plugin's sources.
  oclif.settings.enableAutoTranspile = false
  // No arguments: the control panel on a terminal; help otherwise (a pipe or cron never hangs).
  // process.stdin is only looked at then: setting it up costs 1–2 ms of CPU (session 7).
  const argv = args.length === 0 && process.stdin.isTTY === true && process.stdout.isTTY === true ? ['tui'] : args
  const { loadOptions } = require('./oclif-config.js')
  await oclif.execute({ args: argv, loadOptions: await loadOptions(oclif, join(__dirname, '..'), argv, cli.OWN_WORDS) })
  // Only a run that succeeded leaves a cache: bad input changes nothing on disk.
  if (!process.exitCode) saveCaches()
}

/**
 * Memory (issue 22, session 7): V8's young generation kept at its first size (1 MB a
 * semi-space) instead of doubling up to 16 MB once much of what it holds survives, as it does
 * while a provider builds its state. That reserve was 32 MB of the scale root's unchanged
 * snapshot's peak: 176-206 MB → 154-159 MB for the same CPU (1.16 and 1.13 s, medians of 9
 * interleaved, load 6-8). Node takes --max-semi-space-size only on its command line, which a
 * `#!` line cannot pass; V8 reads its growth factor each time the space would grow, and
 * raises a factor below 2 only when the heap is set up, so 1 set now keeps the size
 * (measured on Node 20; where a V8 grows otherwise, the run only uses more memory).
 */
function keepYoungGenerationSmall() {
  require('node:v8').setFlagsFromString('--semi-space-growth-factor=1')
}

/**
 * @twinsync/sdk's CommonJS file (its package.json's `exports["./cjs"]`), looked up in the
 * node_modules folders Node would search from here, without Node's resolver (which loads its ES
 * module resolver for a package's `exports`, about 2 ms, see code-cache.js's `provide`). Anything
 * else than that plain layout: require.resolve.
 */
function sdkFile() {
  const { readFileSync } = require('node:fs')
  const { dirname, join } = require('node:path')
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
      if (entries['./package.json'] === './package.json') require('./code-cache.js').provideFile('@twinsync/sdk/package.json', join(dir, '@twinsync', 'sdk', 'package.json'))
      return join(dirname(join(dir, '@twinsync', 'sdk', 'package.json')), target)
    }
    break
  }
  return require.resolve('@twinsync/sdk/cjs')
}

/** The name of a run's code cache: its command's first word, and whether it asks for help. */
function cacheVariant(words) {
  const word = words.length === 0 ? 'none' : /^[a-z][a-z0-9-]{0,31}$/.test(words[0]) ? words[0] : 'other'
  return words.includes('--help') || words.includes('-h') ? `${word}.help` : word
}
