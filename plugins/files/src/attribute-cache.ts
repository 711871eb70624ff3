import { createHash } from 'node:crypto'
import type { Diagnostic, FileStat, ProviderContext } from '@twinsync/sdk'
import { racyFrom, retireKeys } from '@twinsync/sdk'
import type { WalkDigests } from './documents-token.js'
import { locateAttributeTools, readExtendedAttributes, type AttributeTools, type ExtendedAttributes } from './extended-attributes.js'
import { PARTS } from './manifest.js'

/**
 * The tools' answer, the signature it was read under and each group's stamps' digests (v5: the
 * stamps kept by part, session 51; v4: getfattr -h, a symlink's own attributes).
 */
const CACHE_KEY = 'attributes-v5'
/** Each group's stamps, a record each: this, then the group's number (0 for a walk in one; 0-63 by part). */
const STAMPS_KEY = 'attribute-stamps-v2-'
/**
 * The records of session 50 and before (the answer, its stamps whole in chunks of 512 lines, a
 * delta of them): not read. A twin's first snapshot after the upgrade walks the roots with the
 * tools once, as a first snapshot does (an older record refused, not converted), then removes them.
 */
const FORMER_KEYS = ['attributes-v4', 'attribute-stamps-v1', 'attribute-stamps-delta-v1']
/** More moved paths than this: the tools walk the roots again, as on a first run. */
export const MAX_INCREMENTAL = 256

/**
 * Speed: getcap and getfattr run only when something they would read may have moved. Setting
 * an extended attribute, an ACL or a capability changes the file's ctime, and replacing a file
 * changes its inode, so while every walked path has the same inode and ctime as last time (and
 * the same tools are installed), their answer is the one kept in the provider's cache. Paths
 * changed too recently to trust their ctime (git's "racily clean") are not trusted next time.
 * Measured on the Debian server root (1,650 paths), unchanged snapshot: the two tools cost
 * 60–260 ms of wall time (two processes walking /etc), the check under 5 ms.
 *
 * When some paths moved (session 7), the tools are asked about those paths alone (no `-r`/`-R`;
 * a symlink given by name is read itself by getfattr -h and passed over by getcap, as in their walk),
 * and the rest of the answer is the kept one: what a changed file costs no longer grows with
 * every path under the roots. The stamps are kept apart from the answer, read only then.
 * Measured on the bench's scale root (25,000 walked paths, one file changed): the two tools
 * walking `/etc` about 100 ms of wall and 160 ms of CPU → two runs on one path, a few ms.
 *
 * A symlink's entry holds the symlink's own attributes (getfattr -h, lgetxattr: session 9), which
 * only its own ctime moves, so its stamp covers them. Before, getfattr followed the symlink: the
 * entry showed its target's attributes and missed a change of those alone until the symlink
 * moved (session 8's known gap; stamping each symlink with its target's stat data would have
 * cost about 10 ms of CPU a run on the services root). A flag: no cost. The answer's cache key
 * moved to v4, so a twin whose symlinks pointed at files with attributes changes once.
 *
 * Speed (issue 22, session 51): the stamps are kept by group, the walk's parts when it is digested
 * by part (a split manifest's: PARTS, each path's part the walk's, Walked.part), else one group.
 * The record names each group's walk digest (walkDigests: every path's name, inode, device and
 * ctime in it, none racy) and a digest of its stamps' lines (the tag its own record starts with).
 * A group whose walk digest is the one recorded makes no line; one whose digest moved makes its
 * lines, and only when they are not the recorded ones (their digest) is its record read, the
 * paths whose line it lacks asked again (with the racy ones, "-") and its record written anew.
 * The scale root's one-file snapshot made all 24,512 lines, hashed their 49 chunks, read and
 * wrote a delta of the moved chunk; now the moved part's few hundred lines: this function 193.7 →
 * 28.2 M instructions (callgrind between marks at its start and its return, main thread, one run
 * each; docs/architecture.md, "Session 51, the attributes' stamps").
 */
export async function cachedAttributes(
  ctx: Pick<ProviderContext, 'host' | 'cache'>,
  roots: readonly string[],
  walked: ReadonlyArray<StampedPath>,
  startedAt: number,
  /** The walked paths' digests (documents-token.ts walkDigests: each one's name and lstat data, by part or in one; `all` undefined when one is racy). */
  walkDigest?: WalkDigests,
): Promise<ExtendedAttributes> {
  const tools = await locateAttributeTools(ctx.host)
  const base = JSON.stringify([ctx.host.root, roots, tools])
  // Speed (issue 22, session 50): the walk the kept answer was read for, if it is this one, answers
  // before any stamp is made (the walk's digest holds every path's name, inode, device and ctime).
  // The scale root's unchanged snapshot (24,512 walked paths): the stamps' lines and their chunks'
  // digests were 180 M instructions of every snapshot; now a read of the kept answer.
  // Its form named: a digest by part and one in one are never compared.
  const walk = walkDigest?.all === undefined ? undefined : `${walkDigest.byPart ? 'parts' : 'one'}:${walkDigest.all.toString('hex')}`
  const kept = parseKept(await ctx.cache.read(CACHE_KEY).catch(() => undefined))
  if (walk !== undefined && kept?.walk === walk && kept.base === base) return fromValue(kept.value)
  stampsMade++
  // The stamps' groups: the walk's parts (PARTS) when it was digested by part, else one.
  const byPart = walkDigest?.byPart ?? kept?.parts.length === PARTS
  const count = byPart ? PARTS : 1
  // The kept stamps compared with, when they are of this base and form: else none (the tools walk the roots).
  const before = kept !== undefined && kept.base === base && kept.parts.length === count ? kept : undefined
  // Each group's entry in the record written now: the walk's digest of it (hex; '' when racy or not
  // digested by part) and the tag of its stamps. A group is made (its lines) only when its digest
  // is not the one its kept stamps were made under (session 51, see the top).
  const parts: Array<[string, string]> = []
  const make = new Uint8Array(count)
  let anyMade = false
  for (let p = 0; p < count; p++) {
    const digest = byPart ? (walkDigest?.parts[p]?.toString('hex') ?? '') : ''
    const was = before?.parts[p]
    parts.push([digest, was?.[1] ?? ''])
    if (digest === '' || was?.[0] !== digest) {
      make[p] = 1
      anyMade = true
    }
  }
  // One line a walked path of a group made, "<device>:<inode>:<ctime>\t<path>", "-" for a stamp not to trust (racy, or no stat).
  const items: StampedPath[][] = Array.from({ length: count }, () => [])
  const lines: string[][] = Array.from({ length: count }, () => [])
  const racy = new Uint8Array(count)
  if (anyMade) {
    for (const item of walked) {
      const p = byPart ? item.part : 0
      if (make[p] === 0) continue
      const stat = item.stat
      let line: string
      if (stat === undefined || stat.ctimeMs > racyFrom(stat, startedAt)) {
        racy[p] = 1
        line = `-\t${item.path}`
      } else line = `${stat.dev}:${stat.ino}:${stat.ctimeMs}\t${item.path}`
      ;(items[p] as StampedPath[]).push(item)
      ;(lines[p] as string[]).push(line)
      linesMade++
    }
  }
  // The groups whose stamps moved (their tag: a digest of their lines), with their text: compared line by line, then written.
  const moves = new Map<number, string>()
  for (let p = 0; p < count; p++) {
    if (make[p] === 0) continue
    const text = (lines[p] as string[]).join('\n')
    const tag = createHash('sha256').update(text).digest('hex')
    const entry = parts[p] as [string, string]
    // The same lines as the kept stamps' (none racy): the answer holds for them.
    if (racy[p] === 0 && before !== undefined && tag === entry[1]) continue
    entry[1] = tag
    moves.set(p, text)
  }
  let value: KeptValue | undefined
  // No group's lines moved (a file's content changed, nothing its attributes follow): the kept answer, now for this walk too.
  if (before !== undefined && moves.size === 0) value = before.value
  else if (before !== undefined) {
    const moved = await movedPaths(ctx.cache, before, moves, items, lines)
    if (moved !== undefined) value = await incremental(ctx, walked, moved, before.value, tools)
  }
  if (value === undefined) {
    const read = await readExtendedAttributes(ctx.host, roots, tools)
    value = { capabilities: [...read.capabilities], xattrs: [...read.xattrs], diagnostics: read.diagnostics }
  }
  // A racy path's part has no digest (walkDigests) and its line is "-": asked again next time.
  const anyRacy = racy.some((r) => r === 1)
  // The answer first, then each moved group's stamps tagged as the answer names them: a run stopped
  // between the two leaves a tag that does not match (the tools walk the roots when that group moves next).
  await ctx.cache.write(CACHE_KEY, JSON.stringify({ base, value, parts, ...(anyRacy || walk === undefined ? {} : { walk }) } satisfies Kept)).catch(() => undefined)
  for (const [p, text] of moves) await ctx.cache.write(`${STAMPS_KEY}${p}`, `${(parts[p] as [string, string])[1]}\n${text}`).catch(() => undefined)
  // The records of session 50 and before (refused: see CACHE_KEY): removed once, when there is no record of this form.
  if (kept === undefined) await retireKeys(ctx.cache, (key) => FORMER_KEYS.includes(key))
  // A walk that changed form (by part to one, session 51's review): the groups past this form's count are never read again.
  else for (let p = count; p < kept.parts.length; p++) await ctx.cache.remove?.(`${STAMPS_KEY}${p}`).catch(() => undefined)
  return fromValue(value)
}

/** A path the collect walked, with its lstat data and its part (collect.ts Walked.part: partOf). */
type StampedPath = { path: string; stat?: FileStat | undefined; part: number }

/**
 * The walked paths whose stamp moved since the kept stamps (or that are new, or racy): in each
 * group of `moves` (the groups whose lines are not the kept ones), a line the kept stamps of that
 * group do not hold; "-" never matches. Undefined when a group's kept stamps cannot be had (lost,
 * damaged, or not the ones the answer names) or more than MAX_INCREMENTAL paths moved: the tools
 * walk the roots.
 */
async function movedPaths(
  cache: ProviderContext['cache'],
  kept: Kept,
  moves: ReadonlyMap<number, string>,
  items: ReadonlyArray<readonly StampedPath[]>,
  lines: ReadonlyArray<readonly string[]>,
): Promise<Set<string> | undefined> {
  const moved = new Set<string>()
  for (const p of moves.keys()) {
    const tag = (kept.parts[p] as [string, string])[1]
    const record = await cache.read(`${STAMPS_KEY}${p}`).catch(() => undefined)
    if (tag === '' || record?.startsWith(`${tag}\n`) !== true) return undefined
    const was = new Set(record.slice(tag.length + 1).split('\n'))
    const now = lines[p] as readonly string[]
    for (let j = 0; j < now.length; j++) {
      const line = now[j] as string
      if (line.startsWith('-\t') || !was.has(line)) moved.add((items[p]?.[j] as StampedPath).path)
    }
    if (moved.size > MAX_INCREMENTAL) return undefined
  }
  return moved
}

/** The kept answer with the paths whose stamp moved (or that are new) asked again; undefined when too many moved. */
async function incremental(
  ctx: Pick<ProviderContext, 'host'>,
  walked: ReadonlyArray<{ path: string }>,
  moved: ReadonlySet<string>,
  value: KeptValue,
  tools: AttributeTools,
): Promise<KeptValue | undefined> {
  if (moved.size > MAX_INCREMENTAL) return undefined
  // The paths the kept answer names (a few): still walked, and not moved?
  const named = new Set([...value.capabilities.map(([path]) => path), ...value.xattrs.map(([path]) => path)])
  const still = new Set<string>()
  if (named.size > 0) for (const { path } of walked) if (named.has(path) && !moved.has(path)) still.add(path)
  const capabilities = new Map(value.capabilities.filter(([path]) => still.has(path)))
  const xattrs = new Map(value.xattrs.filter(([path]) => still.has(path)))
  let diagnostics = value.diagnostics
  if (moved.size > 0) {
    const read = await readExtendedAttributes(ctx.host, [...moved], tools, { paths: true })
    for (const [path, caps] of read.capabilities) if (moved.has(path)) capabilities.set(path, caps)
    for (const [path, attrs] of read.xattrs) if (moved.has(path)) xattrs.set(path, attrs)
    diagnostics = read.diagnostics
  }
  return { capabilities: [...capabilities], xattrs: [...xattrs], diagnostics }
}

interface KeptValue {
  capabilities: Array<[string, string]>
  xattrs: Array<[string, Record<string, string>]>
  diagnostics: Diagnostic[]
}
interface Kept {
  base: string
  value: KeptValue
  /** The digest of the walk the answer was read for (walkDigests), hex; absent when a path was racy. */
  walk?: string
  /** Each group's walk digest when its stamps were made (hex, '' when racy or not digested by part), and its stamps' tag (see the top). */
  parts: Array<[string, string]>
}

let stampsMade = 0
let linesMade = 0
/** Collects whose attributes made the walked paths' stamps (tests: an unchanged walk answers from its digest alone). */
export function attributeStampsMade(): number {
  return stampsMade
}
/** Stamp lines made so far (tests: a one-file change of a walk by part makes its part's alone). */
export function attributeStampLinesMade(): number {
  return linesMade
}

function fromValue(value: KeptValue): ExtendedAttributes {
  return { capabilities: new Map(value.capabilities), xattrs: new Map(value.xattrs), diagnostics: value.diagnostics }
}

/** A damaged or foreign record only costs time: undefined, and the tools run. */
function parseKept(text: string | undefined): Kept | undefined {
  const data = parseObject(text)
  if (data === undefined || typeof data.base !== 'string' || (data.walk !== undefined && typeof data.walk !== 'string')) return undefined
  const parts = data.parts
  if (!Array.isArray(parts) || !parts.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string')) return undefined
  const value = data.value as Partial<KeptValue> | undefined
  if (value === null || typeof value !== 'object' || !Array.isArray(value.capabilities) || !Array.isArray(value.xattrs) || !Array.isArray(value.diagnostics)) return undefined
  return data as unknown as Kept
}

function parseObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined
  try {
    const data = JSON.parse(text) as unknown
    return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
