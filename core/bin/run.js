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
  // The rest of the run (bin/start.js, with the V8 flags' and oclif's load options' files) is
  // built into core/bundle/start.cjs and compiled from its code cache like the other bundles;
  // only this file and code-cache.js, which reads the caches, are compiled from source.
  const cache = require('./code-cache.js')
  const self = cache.requireCached(require('node:path').join(__dirname, '..', 'bundle', 'start.cjs'), 'start')
  void self.exports.start(args, cache, self)
}
