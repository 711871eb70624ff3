'use strict'
// Preloaded (`--require`) by core/test/regexp-tier-up.test.ts: V8's flags of a short, small run
// set as bin/run.js sets them (no cache folder), before anything else of the process runs.
require('../../bin/v8-flags.js').chooseFlags('snapshot', () => undefined)
