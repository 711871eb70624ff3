'use strict'
// Preloaded into a measured twinsync process (NODE_OPTIONS=--require=...): on exit, append the
// process's own CPU time (user + system, ms) to $TWINSYNC_BENCH_CPU_FILE. CPU time moves far
// less than wall time when a shared machine is busy (on 2 cores at a load average of 5, a
// millisecond of CPU is about 2.5 of wall). CommonJS and `--require`, so the measured process
// starts no ES module loader of its own and loads a plugin's modules as it always does (an
// `--import` preload makes TwinSync load a plugin's ES modules with import(): bin/plugin-module.js).
const { appendFileSync } = require('node:fs')

process.on('exit', () => {
  const { user, system } = process.cpuUsage()
  if (process.env.TWINSYNC_BENCH_CPU_FILE) appendFileSync(process.env.TWINSYNC_BENCH_CPU_FILE, `${(user + system) / 1000}\n`)
})
