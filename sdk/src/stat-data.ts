// Speed (issue 22, session 10): a path's stat data as plain numbers, without the Stats object
// Node 20's fs.lstatSync and fs.statSync build around them. Node 20 makes four Date objects for
// every Stats (atime, mtime, ctime, birthtime; BigIntStats from BigInts), checks its arguments and
// calls a constructor of fourteen: about 20,000 instructions a call as an unchanged snapshot runs it
// (cold code), against about 3,000 for the same lstat(2) through fs's own binding (callgrind, 1,000
// calls in a fresh node). An unchanged snapshot of the minbase root makes 838 such calls (the host
// port's lstat and stat of the files walk and systemd's unit-file cache, the twin's quick check of
// git's stat data): with them through here, 416 → 401 M instructions (callgrind, three runs each,
// less V8's random hash-seed work) — see docs/architecture.md's Speed table.
//
// The binding is `process.binding('fs')`, what fs.lstatSync itself calls with the same arguments
// (so the same errors, and `undefined` for a missing entry, as `throwIfNoEntry: false` gives): taken only on Node 20 (Node 22 builds
// its Dates lazily), never with --pending-deprecation (process.binding would warn) or under
// Node's permission model (which the binding would bypass), and a path holding a NUL byte (which
// fs refuses) or anything but a string goes to fs. Its first answer in a process is checked field
// by field against fs's for the same path; any difference, a missing binding or a thrown
// TypeError, and every call goes to fs, as before.
import { fstatSync, lstatSync, statSync, type BigIntStats, type Stats } from 'node:fs'

/** What TwinSync reads of a stat: the numbers fs's Stats holds (times in ms, as Stats computes them). */
export interface StatData {
  dev: number
  mode: number
  nlink: number
  uid: number
  gid: number
  ino: number
  size: number
  mtimeMs: number
  ctimeMs: number
}

/** The same numbers exact (fs's `bigint: true`), times in nanoseconds. */
export interface BigStatData {
  dev: bigint
  mode: bigint
  nlink: bigint
  uid: bigint
  gid: bigint
  ino: bigint
  size: bigint
  mtimeNs: bigint
  ctimeNs: bigint
}

/** fs's binding call: (path, bigint, request, throwIfNoEntry) → the shared numbers array, undefined when missing. */
type RawStat = (path: string, bigint: boolean, req: undefined, throwIfNoEntry: boolean) => Float64Array | BigInt64Array | undefined

/** fs's binding call for a descriptor: (fd, bigint, request, throwIfNoEntry) → the shared numbers array. */
type RawFstat = (fd: number, bigint: boolean, req: undefined, throwIfNoEntry: boolean) => Float64Array | BigInt64Array | undefined

interface Raw {
  lstat: RawStat
  stat: RawStat
  /** Absent: fstatData goes to fs. */
  fstat?: RawFstat
}

/** undefined: not looked for yet; null: fs is used. */
let raw: Raw | null | undefined
/** Whether the binding's first answer of each kind agreed with fs's. */
const checked = { lstat: false, stat: false, lstatBig: false, statBig: false, fstat: false }

function binding(): Raw | null {
  if (raw !== undefined) return raw
  raw = null
  try {
    const pending = process.execArgv.includes('--pending-deprecation') || /(^|\s)--pending-deprecation(\s|$)/.test(process.env.NODE_OPTIONS ?? '') || process.env.NODE_PENDING_DEPRECATION === '1'
    const node = process as unknown as { permission?: unknown; binding?: (name: string) => unknown }
    if (!process.version.startsWith('v20.') || pending || node.permission !== undefined || typeof node.binding !== 'function') return raw
    const fs = node.binding('fs') as Partial<Raw>
    if (typeof fs.lstat === 'function' && typeof fs.stat === 'function') {
      raw = { lstat: fs.lstat.bind(fs), stat: fs.stat.bind(fs), ...(typeof fs.fstat === 'function' ? { fstat: fs.fstat.bind(fs) } : {}) }
    }
  } catch {
    raw = null
  }
  return raw
}

const usable = (path: unknown): path is string => typeof path === 'string' && !path.includes('\0')

function numbers(s: Float64Array): StatData {
  // Stats's own formula (msFromTimeSpec), so the times equal fs's to the last bit.
  return { dev: s[0]!, mode: s[1]!, nlink: s[2]!, uid: s[3]!, gid: s[4]!, ino: s[7]!, size: s[8]!, mtimeMs: s[12]! * 1e3 + s[13]! / 1e6, ctimeMs: s[14]! * 1e3 + s[15]! / 1e6 }
}

function bigNumbers(s: BigInt64Array): BigStatData {
  return { dev: s[0]!, mode: s[1]!, nlink: s[2]!, uid: s[3]!, gid: s[4]!, ino: s[7]!, size: s[8]!, mtimeNs: s[12]! * 1_000_000_000n + s[13]!, ctimeNs: s[14]! * 1_000_000_000n + s[15]! }
}

const fromStats = (s: Stats): StatData => ({ dev: s.dev, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs })
const fromBigStats = (s: BigIntStats): BigStatData => ({ dev: s.dev, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs })

function same<T extends object>(a: T | undefined, b: T | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return (Object.keys(a) as Array<keyof T>).every((k) => Object.is(a[k], b[k]))
}

function viaBinding<T extends object>(kind: keyof typeof checked, usableArgument: boolean, call: (r: Raw) => T | undefined, plain: () => T | undefined): T | undefined {
  const r = binding()
  if (r === null || !usableArgument) return plain()
  let answer: T | undefined
  try {
    answer = call(r)
  } catch (error) {
    // The binding's own errors are fs's (the same call); a TypeError means its signature is not this one.
    if (!(error instanceof TypeError)) throw error
    raw = null
    return plain()
  }
  if (!checked[kind]) {
    const fs = plain()
    if (!same(answer, fs)) {
      raw = null
      return fs
    }
    checked[kind] = true
  }
  return answer
}

function rawCall<T>(fn: RawStat, path: string, big: boolean, convert: (s: never) => T): T | undefined {
  const s = fn(path, big, undefined, false)
  if (s === undefined) return undefined
  if (big ? !(s instanceof BigInt64Array) : !(s instanceof Float64Array)) throw new TypeError('unexpected stat array')
  return convert(s as never)
}

/** lstat(2) of path: its numbers, undefined when nothing is there (ENOENT); fs's errors otherwise (ENOTDIR too, as fs). */
export function lstatData(path: string): StatData | undefined {
  return viaBinding('lstat', usable(path), (r) => rawCall(r.lstat, path, false, numbers), () => {
    const s = lstatSync(path, { throwIfNoEntry: false })
    return s === undefined ? undefined : fromStats(s)
  })
}

/** stat(2) of path (a symlink followed), as lstatData. */
export function statData(path: string): StatData | undefined {
  return viaBinding('stat', usable(path), (r) => rawCall(r.stat, path, false, numbers), () => {
    const s = statSync(path, { throwIfNoEntry: false })
    return s === undefined ? undefined : fromStats(s)
  })
}

/** lstat(2) of path with exact numbers (fs's `bigint: true`), as lstatData. */
export function lstatBigData(path: string): BigStatData | undefined {
  return viaBinding('lstatBig', usable(path), (r) => rawCall(r.lstat, path, true, bigNumbers), () => {
    const s = lstatSync(path, { bigint: true, throwIfNoEntry: false })
    return s === undefined ? undefined : fromBigStats(s)
  })
}

/**
 * fstat(2) of an open descriptor, as lstatData (fs's errors: EBADF). Speed (issue 22, session 53):
 * every read through the host port (LocalHost's openRegular) checks its descriptor's type and
 * size so, without fs.fstatSync's Stats (its four Dates): a minbase first snapshot reads about
 * 480 files through the port; the figure with followFolder's (local-host.ts).
 */
export function fstatData(fd: number): StatData {
  const plain = () => fromStats(fstatSync(fd))
  const usableFd = binding()?.fstat !== undefined && Number.isInteger(fd) && fd >= 0
  return viaBinding('fstat', usableFd, (r) => rawFstat(r.fstat as RawFstat, fd), plain) ?? plain()
}

/** fs.fstatSync's own binding call (fs's errors thrown by it). */
function rawFstat(fn: RawFstat, fd: number): StatData {
  const s = fn(fd, false, undefined, false)
  if (!(s instanceof Float64Array)) throw new TypeError('unexpected stat array')
  return numbers(s)
}

/** The file type bits of a mode (S_IFMT). */
export const S_IFMT = 0o170000
export const S_IFREG = 0o100000
export const S_IFDIR = 0o040000
export const S_IFLNK = 0o120000

/** Which way the calls go now: fs's binding (after a first check) or fs (tests check Node 20 takes the binding). */
export function statDataVia(): 'binding' | 'fs' {
  return binding() === null ? 'fs' : 'binding'
}

/** For tests: forget whether the binding is used and checked (undefined: look again; false: fs only). */
export function resetStatData(use?: false): void {
  raw = use === false ? null : undefined
  for (const k of Object.keys(checked) as Array<keyof typeof checked>) checked[k] = false
}
