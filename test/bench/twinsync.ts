// The TwinSync CLI as the benchmark runs it: the built binary, a private twin, config and
// plugin data dir (nothing from the host's /etc/twinsync or installed plugins), timed with the
// same wrapper as etckeeper.
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { cliSandbox, TWINSYNC_BIN, type CliSandbox } from '../support/cli.js'
import { counted, flagMarkers, measure, type Count, type Sample } from './measure.js'

export interface BenchCli extends CliSandbox {
  /** Run `twinsync args...` once, measured; rejects unless it exits with one of okCodes. */
  timed(args: string[], okCodes?: number[], extraEnv?: Record<string, string>): Promise<Sample>
  /** The instructions of one run of `twinsync args...` with its collections and markers (callgrind, measure.ts's `counted`); undefined without valgrind. */
  counted(args: string[]): Promise<Count | undefined>
  /** Delete the twin, so the next snapshot --init starts from nothing. */
  forgetTwin(): Promise<void>
  /**
   * Which V8 flag markers (core/bin/v8-flags.js: `long-run-*`, `large-heap-*`) the timed runs so
   * far found in the sandbox's code-cache folder, as a phrase: each marker with how many runs
   * started with it ("none at any of 21 timed runs" when none did). A marker sets other V8 flags
   * for its command's run, so a section's note says which its rows ran with.
   */
  markersSeen(): string
}

export async function benchCli(): Promise<BenchCli> {
  const sandbox = await cliSandbox()
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: sandbox.dir,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    // The sandbox's own code caches (HOME's .cache, named so an outer XDG_CACHE_HOME can never be
    // shared by two sandboxes: measure.ts's `instructions`).
    XDG_CACHE_HOME: join(sandbox.dir, '.cache'),
    TWINSYNC_DATA_DIR: sandbox.dataDir,
    TWINSYNC_CONFIG: sandbox.configFile,
  }
  const seen = new Map<string, number>()
  let timedRuns = 0
  return {
    ...sandbox,
    timed: async (args, okCodes = [0], extraEnv = {}) => {
      timedRuns++
      for (const m of await flagMarkers(env)) seen.set(m, (seen.get(m) ?? 0) + 1)
      return measure(['node', TWINSYNC_BIN, ...args], { env: { ...env, ...extraEnv }, okCodes, timeoutMs: 900_000 })
    },
    markersSeen: () => (seen.size === 0 ? `none at any of ${timedRuns} timed runs` : [...seen].map(([m, n]) => `${m} at ${n} of ${timedRuns} timed runs`).join(', ')),
    counted: (args) => counted([TWINSYNC_BIN, ...args], { env, timeoutMs: 900_000 }),
    forgetTwin: () => rm(sandbox.twinDir, { recursive: true, force: true }),
  }
}
