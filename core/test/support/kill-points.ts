import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'

/**
 * kill -9 at a chosen step, in-process and deterministic: every call of Node's `fs` (synchronous
 * and promises) that changes the disk is a step. From step `at` on, each such call throws
 * without doing anything, as though the process had died just before it ('kill'); reads go on,
 * so the code's own catch blocks run and find they can change nothing more. With 'fail', only
 * step `at` throws (an I/O error there) and the later ones go through: the caller's cleanup runs.
 * The patched functions reach ES module imports through `syncBuiltinESMExports`. Child processes
 * (git) are not steps: each is git's own all-or-nothing.
 */
export class Killed extends Error {
  readonly code = 'EIO'
  constructor(readonly step: number, readonly call: string) {
    super(`killed at step ${step} (${call})`)
  }
}

const SYNC = ['writeFileSync', 'appendFileSync', 'renameSync', 'rmSync', 'unlinkSync', 'linkSync', 'mkdirSync', 'symlinkSync', 'writeSync', 'utimesSync', 'copyFileSync', 'rmdirSync', 'truncateSync', 'ftruncateSync', 'chmodSync', 'fsyncSync'] as const
const PROMISES = ['writeFile', 'appendFile', 'rename', 'rm', 'unlink', 'link', 'mkdir', 'symlink', 'utimes', 'copyFile', 'rmdir', 'truncate', 'chmod'] as const

/** An open that may write (create, truncate, append): a step. */
function opensForWriting(flags: unknown): boolean {
  if (flags === undefined || flags === null) return false
  if (typeof flags === 'number') return (flags & 3) !== fs.constants.O_RDONLY || (flags & (fs.constants.O_CREAT | fs.constants.O_TRUNC)) !== 0
  return typeof flags === 'string' && !/^rs?$/.test(flags)
}

export interface KillPoint {
  /** Steps counted so far (all of them, when nothing threw: the run's length). */
  readonly steps: number
  /** Whether step `at` was reached. */
  readonly hit: boolean
  /** The calls counted, in order (for a failure's message). */
  readonly calls: readonly string[]
  restore(): void
}

export function killAt(at: number, mode: 'kill' | 'fail' = 'kill'): KillPoint {
  const originals: Array<[object, string, unknown]> = []
  const state = { steps: 0, hit: false, calls: [] as string[] }
  // Node's own fs functions call one another (writeFileSync opens and writes): only the outer call is a step.
  let inside = 0
  const step = (name: string, args: unknown[]) => {
    state.steps++
    state.calls.push(`${name}(${typeof args[0] === 'string' ? args[0] : ''})`)
    if (state.steps === at || (mode === 'kill' && state.steps > at)) {
      state.hit = true
      throw new Killed(state.steps, name)
    }
  }
  const patch = (target: Record<string, unknown>, name: string, isStep: (args: unknown[]) => boolean, async: boolean) => {
    const original = target[name] as (...args: unknown[]) => unknown
    originals.push([target, name, original])
    target[name] = function (this: unknown, ...args: unknown[]) {
      if (inside > 0 || !isStep(args)) return original.apply(this, args)
      if (async) {
        try {
          step(name, args)
        } catch (error) {
          return Promise.reject(error)
        }
      } else step(name, args)
      inside++
      try {
        return original.apply(this, args)
      } finally {
        inside--
      }
    }
  }
  const sync = fs as unknown as Record<string, unknown>
  const promises = fs.promises as unknown as Record<string, unknown>
  for (const name of SYNC) patch(sync, name, () => true, false)
  for (const name of PROMISES) patch(promises, name, () => true, true)
  patch(sync, 'openSync', (args) => opensForWriting(args[1]), false)
  patch(promises, 'open', (args) => opensForWriting(args[1]), true)
  syncBuiltinESMExports()
  return {
    get steps() {
      return state.steps
    },
    get hit() {
      return state.hit
    },
    calls: state.calls,
    restore() {
      for (const [target, name, original] of originals.reverse()) (target as Record<string, unknown>)[name] = original
      syncBuiltinESMExports()
    },
  }
}
