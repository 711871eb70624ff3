#!/usr/bin/env node
// `twinsync --version` answers without loading oclif, so scripts that probe for it stay fast.
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-v')) {
  const { readFileSync } = await import('node:fs')
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`twinsync/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  const { execute, settings } = await import('@oclif/core')
  // Plugins ship compiled JavaScript; never try to transpile a linked plugin's sources.
  settings.enableAutoTranspile = false
  await execute({ dir: import.meta.url })
}
