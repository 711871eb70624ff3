// Preloaded into a measured twinsync process (NODE_OPTIONS=--import=...): on exit, append the
// process's own CPU time (user + system, ms) to $TWINSYNC_BENCH_CPU_FILE. CPU time moves far
// less than wall time when a shared machine is busy.
import { appendFileSync } from 'node:fs'

process.on('exit', () => {
  const { user, system } = process.cpuUsage()
  if (process.env.TWINSYNC_BENCH_CPU_FILE) appendFileSync(process.env.TWINSYNC_BENCH_CPU_FILE, `${(user + system) / 1000}\n`)
})
