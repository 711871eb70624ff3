#!/usr/bin/env node
// `twinsync --version` answers without loading oclif, so scripts that probe for it stay fast.
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-v')) {
  const { readFileSync } = await import('node:fs')
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`twinsync/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // oclif, the SDK and the commands as bundled CommonJS files (core/scripts/bundle.mjs), compiled from
  // V8's code cache (code-cache.js), one cache a command; oclif finds the commands' file in
  // require's cache, and the commands require the same oclif.
  const { requireCached, saveCaches } = await import('./code-cache.js')
  const { fileURLToPath } = await import('node:url')
  const variant = cacheVariant(process.argv.slice(2))
  // oclif runs the same functions for every command: one cache for help, one for the rest.
  const oclif = requireCached(fileURLToPath(new URL('../bundle/oclif.cjs', import.meta.url)), variant.endsWith('.help') ? 'help' : 'run')
  // The SDK as installed, CommonJS too: the commands and every plugin share it. Of the SDK and the
  // commands, only what every command needs loads here; the rest (sdk-lib.cjs, twinsync-lib.cjs)
  // when a command first imports a service, through the same cache.
  requireCached(fileURLToPath(import.meta.resolve('@twinsync/sdk/cjs')), variant)
  requireCached(fileURLToPath(new URL('../bundle/twinsync.cjs', import.meta.url)), variant)
  const { execute, settings } = oclif.exports
  // Plugins ship compiled JavaScript; never try to transpile a linked plugin's sources.
  settings.enableAutoTranspile = false
  // No arguments: the control panel on a terminal; help otherwise (a pipe or cron never hangs).
  const bare = process.argv.length === 2
  const onTerminal = process.stdin.isTTY === true && process.stdout.isTTY === true
  await execute({ dir: import.meta.url, ...(bare && onTerminal ? { args: ['tui'] } : {}) })
  // Only a run that succeeded leaves a cache: bad input changes nothing on disk.
  if (!process.exitCode) saveCaches()
}

/** The name of a run's code cache: its command's first word, and whether it asks for help. */
function cacheVariant(args) {
  const word = args.length === 0 ? 'none' : /^[a-z][a-z0-9-]{0,31}$/.test(args[0]) ? args[0] : 'other'
  return args.includes('--help') || args.includes('-h') ? `${word}.help` : word
}
