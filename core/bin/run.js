#!/usr/bin/env node
// `twinsync --version` answers without loading oclif, so scripts that probe for it stay fast.
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-v')) {
  const { readFileSync } = await import('node:fs')
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`twinsync/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // oclif as one bundled CommonJS file (core/scripts/bundle.mjs), compiled from V8's code cache
  // (code-cache.js); the commands' chunks require the same instance.
  const { requireCached } = await import('./code-cache.js')
  const { fileURLToPath } = await import('node:url')
  const oclif = requireCached(fileURLToPath(new URL('../bundle/oclif.cjs', import.meta.url)))
  const { execute, settings } = oclif.exports
  // Plugins ship compiled JavaScript; never try to transpile a linked plugin's sources.
  settings.enableAutoTranspile = false
  // No arguments: the control panel on a terminal; help otherwise (a pipe or cron never hangs).
  const bare = process.argv.length === 2
  const onTerminal = process.stdin.isTTY === true && process.stdout.isTTY === true
  await execute({ dir: import.meta.url, ...(bare && onTerminal ? { args: ['tui'] } : {}) })
  // Only a run that succeeded leaves a cache: bad input changes nothing on disk.
  if (!process.exitCode) oclif.save()
}
