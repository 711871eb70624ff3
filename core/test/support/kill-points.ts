import { AsyncLocalStorage } from 'node:async_hooks'
import childProcess from 'node:child_process'
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { MACHINE_LOCK_DIR } from '../../src/apply/machine-lock.js'

/**
 * kill -9 at a chosen step, in-process and deterministic: every call of Node's `fs` that changes
 * the disk is a step, in each of its forms: synchronous (`renameSync`), callback (`rename`) and
 * promise (`fs.promises.rename`), so code moved from one form to another is still killed at each
 * of its writes (session 52's callback form of the SDK's writeFileAtomic escaped the kills: seven
 * test files failed). A FileHandle's own methods are not steps (as before: the open that made the
 * handle is one). From step `at` on, each such call throws without doing anything (a callback
 * form answers its callback with the error), as though the process had died just before it
 * ('kill'); reads go on, so the code's own catch blocks run and find they can change nothing
 * more. With 'fail', only step `at` throws (an I/O error there) and the later ones go through:
 * the caller's cleanup runs.
 * The patched functions reach ES module imports through `syncBuiltinESMExports`. Child processes
 * (git) are not steps unless `children` is 'steps' (each spawn one, before it starts); either way
 * none starts after a kill (a dead process starts nothing: before session 34 a catch block's git,
 * `checkout` or `update-ref`, still ran after the "kill").
 */
export class Killed extends Error {
  readonly code = 'EIO'
  constructor(readonly step: number, readonly call: string) {
    super(`killed at step ${step} (${call})`)
  }
}

/** Steps in all three forms (`NAMESync`, `NAME` with a callback, `fs.promises.NAME`). */
const CALLS = ['writeFile', 'appendFile', 'rename', 'rm', 'unlink', 'link', 'mkdir', 'symlink', 'utimes', 'copyFile', 'rmdir', 'truncate', 'chmod'] as const
/**
 * Steps on a descriptor: fs/promises has them only as a FileHandle's methods, so synchronous and
 * callback forms. fchmod, fchown and futimes since session 54: the SDK's writeFileAtomic sets the
 * temp file's mode (owner, times) through its descriptor in its 'blocking' and 'pool' forms.
 */
const FD_CALLS = ['write', 'ftruncate', 'fsync', 'fchmod', 'fchown', 'futimes'] as const

// Node's rm (all forms) loads its walker on first use, which takes fs's functions as they are then:
// loaded inside a kill's patches, it would keep the patched ones after restore (steps of a dead run).
fs.rmSync(join('/proc', 'twinsync-kill-points-none'), { force: true })

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

/** `at`: the step's number, or the first step whose call (`renameSync(/path)`) this picks. */
export function killAt(at: number | ((call: string) => boolean), mode: 'kill' | 'fail' = 'kill', children: 'after' | 'steps' = 'after'): KillPoint {
  const originals: Array<[object, string, unknown]> = []
  const state = { steps: 0, hit: false, calls: [] as string[] }
  // Node's own fs functions call one another (writeFileSync opens and writes): only the outer call is a step.
  // A callback form calls them later, from its own callbacks: those run in `within`'s context.
  let inside = 0
  const within = new AsyncLocalStorage<true>()
  let chosen = typeof at === 'number' ? at : Number.POSITIVE_INFINITY
  const step = (name: string, args: unknown[]) => {
    state.steps++
    const call = `${name}(${typeof args[0] === 'string' ? args[0] : ''})`
    state.calls.push(call)
    if (typeof at === 'function' && !state.hit && chosen === Number.POSITIVE_INFINITY && at(call)) chosen = state.steps
    if (state.steps === chosen || (mode === 'kill' && state.steps > chosen)) {
      state.hit = true
      throw new Killed(state.steps, name)
    }
  }
  const patch = (target: Record<string, unknown>, name: string, isStep: (args: unknown[]) => boolean, form: 'sync' | 'callback' | 'promise') => {
    const original = target[name] as (...args: unknown[]) => unknown
    originals.push([target, name, original])
    target[name] = function (this: unknown, ...args: unknown[]) {
      if (inside > 0 || within.getStore() === true || !isStep(args)) return original.apply(this, args)
      const done = form === 'callback' ? args.at(-1) : undefined
      if (form === 'callback' && typeof done !== 'function') return original.apply(this, args) // Node throws for it
      try {
        step(name, args)
      } catch (error) {
        if (form === 'sync') throw error
        if (form === 'promise') return Promise.reject(error)
        // As a failed call answers: its callback, with the error, later.
        process.nextTick(done as (error: Error) => void, error)
        return undefined
      }
      if (form === 'callback') {
        // Node's own calls from inside it are not steps; the caller's callback runs as the caller's code.
        const caller = (...results: unknown[]) => within.exit(() => (done as (...a: unknown[]) => void)(...results))
        return within.run(true, () => original.apply(this, [...args.slice(0, -1), caller]))
      }
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
  // A child process: a step of its own ('steps'), or refused once the run is dead.
  const spawns = childProcess as unknown as Record<string, unknown>
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync'] as const) {
    const original = spawns[name] as (...args: unknown[]) => unknown
    originals.push([spawns, name, original])
    spawns[name] = function (this: unknown, ...args: unknown[]) {
      if (inside === 0) {
        const line = [args[0], ...(Array.isArray(args[1]) ? args[1] : [])].filter((a) => typeof a === 'string').join(' ')
        if (children === 'steps') step(name, [line])
        else if (mode === 'kill' && state.hit) throw new Killed(state.steps, `${name}(${line})`)
      }
      return original.apply(this, args)
    }
  }
  const always = () => true
  for (const name of [...CALLS, ...FD_CALLS]) {
    patch(sync, `${name}Sync`, always, 'sync')
    patch(sync, name, always, 'callback')
  }
  for (const name of CALLS) patch(promises, name, always, 'promise')
  // open's flags are its second argument in every form; a callback open without flags reads.
  const writingOpen = (args: unknown[]) => opensForWriting(typeof args[1] === 'function' ? undefined : args[1])
  patch(sync, 'openSync', writingOpen, 'sync')
  patch(sync, 'open', writingOpen, 'callback')
  patch(promises, 'open', writingOpen, 'promise')
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

/** A step's call as a person reads it: git's child without the `-c` settings and `-C` folder every one of them carries. */
export function shortCall(call: string): string {
  return call.replace(/ -c \S+/g, '').replace(/ -C \S+/g, '')
}

/**
 * The stopped run is gone before the next one starts (it is the test's own process, which lives
 * on): what names its run — in the twin the twin lock, the ref locks' record, temp files named by
 * pid, the move stamp; in `machineLocks` (/run/twinsync) an apply's machine lock and its temp files — is made to
 * name a pid that is not running, as a killed or failed run's does for the next command. Session
 * 33: the machine lock was left naming the live test process, and the next in-process apply got
 * LOCK_HELD until it was removed by hand.
 */
export function asGoneRun(twinDir: string, machineLocks: string = MACHINE_LOCK_DIR): void {
  const gone = 2 ** 30
  const state = join(twinDir, '.git', 'twinsync')
  const asGone = (path: string) => {
    let text: string
    try {
      text = fs.readFileSync(path, 'utf8')
    } catch {
      return
    }
    let value: { pid?: number }
    try {
      value = JSON.parse(text) as { pid?: number }
    } catch {
      return // half written (killed while writing it): not this run's record
    }
    if (value.pid === process.pid) fs.writeFileSync(path, JSON.stringify({ ...value, pid: gone }) + (text.endsWith('\n') ? '\n' : ''))
  }
  // The move stamp (move-stamp.ts) names the run too while a move it began is not ended.
  for (const name of ['ref-locks.json', 'lock', 'moves']) asGone(join(state, name))
  const renameOwn = (folder: string, name: string) => {
    if (name.includes(`.${process.pid}-`)) fs.renameSync(join(folder, name), join(folder, name.replace(`.${process.pid}-`, `.${gone}-`)))
  }
  const walk = (folder: string) => {
    for (const e of fs.readdirSync(folder, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(folder, e.name))
      else {
        // A move stamp's temp file names its run inside too (move-stamp.ts), as the stamp does.
        if (e.name.startsWith('.moves.')) asGone(join(folder, e.name))
        renameOwn(folder, e.name)
      }
    }
  }
  walk(state)
  // The machine locks this process holds (one per target root; a test's process holds none of them
  // between its runs) and the temp files it was writing them through.
  let locks: string[]
  try {
    locks = fs.readdirSync(machineLocks)
  } catch {
    return // never made: no apply took one
  }
  for (const name of locks) {
    if (/^apply-[0-9a-f]+\.lock$/.test(name)) asGone(join(machineLocks, name))
    else if (name.startsWith('.apply-')) renameOwn(machineLocks, name)
  }
}
