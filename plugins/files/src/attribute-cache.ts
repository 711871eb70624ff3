import { createHash } from 'node:crypto'
import type { Diagnostic, FileStat, ProviderContext } from '@twinsync/sdk'
import { racyFrom } from '@twinsync/sdk'
import type { WalkDigests } from './documents-token.js'
import { locateAttributeTools, readExtendedAttributes, type AttributeTools, type ExtendedAttributes } from './extended-attributes.js'

/** The tools' answer and the signature it was read under (v4: getfattr -h, a symlink's own attributes). */
const CACHE_KEY = 'attributes-v4'
/** Each walked path's stamp (device, inode, ctime) when the answer above was read, a line each: what the incremental run compares. */
const STAMPS_KEY = 'attribute-stamps-v1'
/** More moved paths than this: the tools walk the roots again, as on a first run. */
export const MAX_INCREMENTAL = 256
/** Stamp lines hashed at a time. */
const STAMP_CHUNK = 512
/** The chunks of stamps that moved since STAMPS_KEY was written whole, and the answer's signature they pair with (see writeStamps). */
const DELTA_KEY = 'attribute-stamps-delta-v1'
/** The delta is used from this many chunks of stamps, while it holds at most one in DELTA_SHARE of them; else the stamps are written whole. */
const DELTA_FROM_CHUNKS = 4
const DELTA_SHARE = 4

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
 */
export async function cachedAttributes(
  ctx: Pick<ProviderContext, 'host' | 'cache'>,
  roots: readonly string[],
  walked: ReadonlyArray<{ path: string; stat?: FileStat | undefined }>,
  startedAt: number,
  /** The walked paths' digests (documents-token.ts walkDigests: each one's name and lstat data; `all` undefined when one is racy). */
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
  const keptText = await ctx.cache.read(CACHE_KEY).catch(() => undefined)
  const kept = parseKept(keptText)
  if (walk !== undefined && kept?.walk === walk && kept.base === base) return fromValue(kept.value)
  stampsMade++
  // One line a walked path, "<device>:<inode>:<ctime>\t<path>", "-" for a stamp not to trust (racy, or no stat).
  let racy = false
  const lineOf = ({ path, stat }: { path: string; stat?: FileStat | undefined }): string => {
    if (stat === undefined || stat.ctimeMs > racyFrom(stat, startedAt)) {
      racy = true
      return `-\t${path}`
    }
    return `${stat.dev}:${stat.ino}:${stat.ctimeMs}\t${path}`
  }
  // The signature is the digest of each STAMP_CHUNK lines' digest: the lines and their text are
  // made whole only when it does not match (memory, session 7: the scale root's 25,000 lines
  // and their 1.9 MB text were left to the old generation by every unchanged snapshot), and
  // then only for the chunks whose digest moved (session 9, see incremental).
  const chunks: Chunks = { digests: [], racy: new Set() }
  for (let i = 0; i < walked.length; i += STAMP_CHUNK) {
    const wasRacy: boolean = racy
    racy = false
    const chunk = walked.slice(i, i + STAMP_CHUNK).map(lineOf).join('\n')
    chunks.digests.push(createHash('sha256').update(chunk).digest('hex'))
    if (racy) chunks.racy.add(chunks.digests.length - 1)
    racy ||= wasRacy
  }
  const signature = createHash('sha256').update(base).update('\n').update(chunks.digests.join('')).digest('hex')
  if (!racy && kept?.signature === signature) {
    // The same stamps, another walk (a file's content changed, nothing its attributes follow): the answer kept, now for this walk too.
    if (walk !== undefined) await ctx.cache.write(CACHE_KEY, JSON.stringify({ ...kept, walk } satisfies Kept)).catch(() => undefined)
    return fromValue(kept.value)
  }

  let value: KeptValue | undefined
  let stamps: KeptStamps | undefined
  let moved: Moved | undefined
  if (kept !== undefined && kept.base === base) {
    stamps = await readStamps(ctx.cache, kept.signature)
    if (stamps !== undefined) {
      moved = await movedPaths(walked, lineOf, chunks, stamps)
      if (moved !== undefined) value = await incremental(ctx, walked, moved.moved, kept.value, tools)
    }
  }
  if (value === undefined) {
    const read = await readExtendedAttributes(ctx.host, roots, tools)
    value = { capabilities: [...read.capabilities], xattrs: [...read.xattrs], diagnostics: read.diagnostics }
  }
  // A racy path is asked again next time: its stamp is "-", and the signature never matches.
  const stored = racy ? `racy:${signature}` : signature
  // The answer first, then the stamps tagged with its signature: a run stopped between the two leaves them unpaired (a full run next time).
  await ctx.cache.write(CACHE_KEY, JSON.stringify({ signature: stored, base, value, ...(racy || walk === undefined ? {} : { walk }) } satisfies Kept)).catch(() => undefined)
  await writeStamps(ctx.cache, stored, chunks, stamps, moved, () => chunkTexts(walked, lineOf)).catch(() => undefined)
  return fromValue(value)
}

/**
 * The stamps of every walked path, tagged with the answer's signature `stored`: as a delta
 * (DELTA_KEY) when the kept stamps came from a record written whole (STAMPS_KEY, or the delta's
 * own base) and few chunks differ from it; else written whole (`whole()`: every chunk's text).
 *
 * Speed (issue 22, session 10): a one-file snapshot of the scale root wrote its 1.7 MB of
 * stamps (25,000 lines in 49 chunks) again for the one chunk that moved: now a delta of that
 * chunk (about 35 KB) and the digests, and the whole record is not even read while the chunks
 * that moved are the delta's. Figures in docs/architecture.md (Speed).
 *
 * Crash safety: each record is a cache file (a CRC-32 trailer checked on every read), and the
 * delta is taken only for the answer whose signature it is tagged with and only with the whole
 * record it names (by that record's tag): torn, lost or of another record, the tools walk the
 * roots again, as on a first run.
 */
async function writeStamps(
  cache: ProviderContext['cache'],
  stored: string,
  chunks: Chunks,
  stamps: KeptStamps | undefined,
  moved: Moved | undefined,
  whole: () => string[],
): Promise<void> {
  const count = chunks.digests.length
  if (stamps?.baseTag !== undefined && moved?.texts !== undefined && count >= DELTA_FROM_CHUNKS) {
    const replaced = new Map(stamps.replaced)
    for (const [k, text] of moved.texts) replaced.set(k, text)
    if (replaced.size * DELTA_SHARE <= count) {
      const keys = [...replaced.keys()].sort((a, b) => a - b)
      const lengths = chunks.digests.map((_, k) => replaced.get(k)?.length ?? (stamps.sizes[k] as number))
      const texts = keys.map((k) => replaced.get(k) as string)
      await cache.write(DELTA_KEY, `${stored}\n${BASE_LINE}${stamps.baseTag}\n${CHUNKS_LINE}${chunks.digests.join('')} ${lengths.join(',')}\n${REPLACED_LINE}${keys.join(',')}\n${texts.join('\n')}`)
      return
    }
  }
  const texts = whole()
  await cache.write(STAMPS_KEY, `${stored}\n${CHUNKS_LINE}${chunks.digests.join('')} ${texts.map((t) => t.length).join(',')}\n${texts.join('\n')}`)
  // A delta of the record replaced (or torn, or another's) is never taken with this one: removed all the same.
  await cache.remove?.(DELTA_KEY)
}

/** The second line of the stamps record: each chunk's digest (64 hex characters each), then each chunk's text's length. */
const CHUNKS_LINE = 'chunks '
/** The delta's second line: the tag of the whole record it follows; its fourth: the chunks it holds (their indexes). */
const BASE_LINE = 'base '
const REPLACED_LINE = 'replaced '

interface Chunks {
  /** Each STAMP_CHUNK lines' digest (sha256, hex), in the walk's order. */
  digests: string[]
  /** Chunks holding a stamp not to trust ("-"): asked again whatever their digest. */
  racy: Set<number>
}

/** Each STAMP_CHUNK lines of the walk as text. */
function chunkTexts(walked: ReadonlyArray<{ path: string; stat?: FileStat | undefined }>, lineOf: (item: { path: string; stat?: FileStat | undefined }) => string): string[] {
  const texts: string[] = []
  for (let i = 0; i < walked.length; i += STAMP_CHUNK) texts.push(walked.slice(i, i + STAMP_CHUNK).map(lineOf).join('\n'))
  return texts
}

/** The stamps kept for an answer (the whole record, or its delta over one), read no further than needed. */
interface KeptStamps {
  /** The tag of the whole record these are (or the delta's base): what a delta written now names; undefined for stamps without chunks (the older layout). */
  baseTag: string | undefined
  /** Each chunk's digest (hex, one after another) and its text's length; undefined in the older layout. */
  digests: string | undefined
  sizes: number[]
  /** Chunks' texts the delta holds in place of the whole record's. */
  replaced: ReadonlyMap<number, string>
  /** Chunk k's kept text; undefined when it cannot be had (the whole record missing, damaged, or another). */
  chunk(k: number): Promise<string | undefined>
  /** Every kept line, one after another. */
  body(): Promise<string | undefined>
}

/** The stamps paired with the answer signed `tag`: its delta over a whole record, else a whole record; undefined when neither is. */
async function readStamps(cache: ProviderContext['cache'], tag: string): Promise<KeptStamps | undefined> {
  const delta = await cache.read(DELTA_KEY).catch(() => undefined)
  const whole = async (): Promise<WholeStamps | undefined> => parseWhole(await cache.read(STAMPS_KEY).catch(() => undefined))
  if (delta?.startsWith(`${tag}\n`) === true) {
    const read = parseDelta(delta.slice(tag.length + 1))
    if (read === undefined) return undefined
    let base: Promise<WholeStamps | undefined> | undefined
    const fromBase = async (k: number): Promise<string | undefined> => {
      base ??= whole().then((w) => (w?.tag === read.baseTag && w.digests !== undefined && w.sizes.length === read.sizes.length ? w : undefined))
      const w = await base
      // A chunk the delta does not hold is the whole record's, with the digest and length the delta gives it.
      if (w === undefined || w.digests?.slice(k * 64, k * 64 + 64) !== read.digests.slice(k * 64, k * 64 + 64) || w.sizes[k] !== read.sizes[k]) return undefined
      return w.chunk(k)
    }
    const chunk = async (k: number): Promise<string | undefined> => read.replaced.get(k) ?? fromBase(k)
    return {
      baseTag: read.baseTag,
      digests: read.digests,
      sizes: read.sizes,
      replaced: read.replaced,
      chunk,
      body: async () => {
        const texts: string[] = []
        for (let k = 0; k < read.sizes.length; k++) {
          const text = await chunk(k)
          if (text === undefined) return undefined
          texts.push(text)
        }
        return texts.join('\n')
      },
    }
  }
  const w = await whole()
  if (w === undefined || w.tag !== tag) return undefined
  return {
    baseTag: w.digests === undefined ? undefined : w.tag,
    digests: w.digests,
    sizes: w.sizes,
    replaced: new Map(),
    chunk: async (k) => w.chunk(k),
    body: async () => w.body,
  }
}

interface WholeStamps {
  tag: string
  digests: string | undefined
  sizes: number[]
  body: string
  chunk(k: number): string | undefined
}

/** A whole stamps record: its tag, its chunks (when recorded, and their lengths add up to its lines), its lines. */
function parseWhole(text: string | undefined): WholeStamps | undefined {
  if (text === undefined) return undefined
  const first = text.indexOf('\n')
  if (first < 0) return undefined
  const tag = text.slice(0, first)
  const second = text.indexOf('\n', first + 1)
  const header = second < 0 ? '' : text.slice(first + 1, second)
  if (!header.startsWith(CHUNKS_LINE)) return { tag, digests: undefined, sizes: [], body: text.slice(first + 1), chunk: () => undefined }
  const body = text.slice(second + 1)
  const [digests = '', lengths = ''] = header.slice(CHUNKS_LINE.length).split(' ')
  const sizes = lengths === '' ? [] : lengths.split(',').map(Number)
  const starts: number[] = []
  let at = 0
  for (const n of sizes) {
    starts.push(at)
    at += n + 1
  }
  // Every chunk's text accounted for, each digest 64 characters: else the lines alone are trusted (compared one by one).
  if (digests.length !== sizes.length * 64 || !sizes.every((n) => Number.isInteger(n) && n >= 0) || at !== body.length + 1) return { tag, digests: undefined, sizes: [], body, chunk: () => undefined }
  return { tag, digests, sizes, body, chunk: (k) => (k < sizes.length ? body.slice(starts[k], (starts[k] as number) + (sizes[k] as number)) : undefined) }
}

/** A delta's lines after its tag (see writeStamps); undefined when they do not add up. */
function parseDelta(text: string): { baseTag: string; digests: string; sizes: number[]; replaced: Map<number, string> } | undefined {
  const lines: string[] = []
  let at = 0
  for (let i = 0; i < 3; i++) {
    const end = text.indexOf('\n', at)
    if (end < 0) return undefined
    lines.push(text.slice(at, end))
    at = end + 1
  }
  const [baseLine = '', chunksLine = '', replacedLine = ''] = lines
  if (!baseLine.startsWith(BASE_LINE) || !chunksLine.startsWith(CHUNKS_LINE) || !replacedLine.startsWith(REPLACED_LINE)) return undefined
  const [digests = '', lengths = ''] = chunksLine.slice(CHUNKS_LINE.length).split(' ')
  const sizes = lengths === '' ? [] : lengths.split(',').map(Number)
  if (digests.length !== sizes.length * 64 || !sizes.every((n) => Number.isInteger(n) && n >= 0)) return undefined
  const keys = replacedLine === REPLACED_LINE ? [] : replacedLine.slice(REPLACED_LINE.length).split(',').map(Number)
  const replaced = new Map<number, string>()
  for (const k of keys) {
    if (!Number.isInteger(k) || k < 0 || k >= sizes.length || replaced.has(k)) return undefined
    const size = sizes[k] as number
    replaced.set(k, text.slice(at, at + size))
    at += size + 1
  }
  // The chunks' texts end the delta exactly.
  if (at !== (keys.length === 0 ? text.length : text.length + 1)) return undefined
  return { baseTag: baseLine.slice(BASE_LINE.length), digests, sizes, replaced }
}

interface Moved {
  moved: Set<string>
  /** The texts of the chunks whose digest moved, by index; undefined when every line was compared (then the stamps are written whole). */
  texts: Map<number, string> | undefined
}

/**
 * The walked paths whose stamp moved since the kept stamps (or that are new, or racy), and the
 * texts of the chunks that moved. A chunk is taken as unmoved only by its digest, made of this
 * walk's lines and recorded with them.
 *
 * Speed (issue 22, session 9): when the walk holds the same paths as the kept stamps (a file's
 * content or attributes changed, none came or went), only the chunks whose digest moved are
 * compared, line by line: the scale root's one-file snapshot made its 25,000 lines again, split
 * the kept 1.7 MB into 25,000 more and looked each up in a set of them; now one chunk of 512
 * (with the other session-9 rows of docs/architecture.md, Speed: the one-file snapshot 1,413 →
 * 1,082 ms of CPU). Otherwise (paths came or went, many chunks moved, stamps written before
 * chunks were recorded) every line is compared as before.
 */
async function movedPaths(
  walked: ReadonlyArray<{ path: string; stat?: FileStat | undefined }>,
  lineOf: (item: { path: string; stat?: FileStat | undefined }) => string,
  chunks: Chunks,
  kept: KeptStamps,
): Promise<Moved | undefined> {
  const count = chunks.digests.length
  if (kept.digests !== undefined && kept.sizes.length === count) {
    const texts = new Map<number, string>()
    const moved = new Set<string>()
    let aligned = true
    for (let k = 0; k < count && aligned; k++) {
      if (kept.digests.slice(k * 64, k * 64 + 64) === chunks.digests[k] && !chunks.racy.has(k)) continue
      const before = await kept.chunk(k)
      if (before === undefined) return undefined
      const items = walked.slice(k * STAMP_CHUNK, (k + 1) * STAMP_CHUNK)
      const lines = items.map(lineOf)
      const old = before.split('\n')
      if (old.length !== lines.length || moved.size + lines.length > MAX_INCREMENTAL * 8) aligned = false
      for (let j = 0; j < lines.length && aligned; j++) {
        const line = lines[j] as string
        const path = (items[j] as { path: string }).path
        const was = old[j] as string
        // The same path in the same place, or the walk's paths are not the kept ones'.
        if (was.slice(was.indexOf('\t') + 1) !== path) aligned = false
        else if (line !== was || line.startsWith('-\t')) moved.add(path)
      }
      texts.set(k, lines.join('\n'))
    }
    if (aligned) return { moved, texts }
  }
  // Every line compared: a line the kept stamps hold is a path with the same stamp as then; "-" never matches.
  const body = await kept.body()
  if (body === undefined) return undefined
  const before = new Set(body.split('\n'))
  const moved = new Set<string>()
  for (const item of walked) {
    const line = lineOf(item)
    if (line.startsWith('-\t') || !before.has(line)) moved.add(item.path)
  }
  return { moved, texts: undefined }
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
  signature: string
  base: string
  value: KeptValue
  /** The digest of the walk the answer was read for (walkDigests), hex; absent when a path was racy. */
  walk?: string
}

let stampsMade = 0
/** Collects whose attributes made the walked paths' stamps (tests: an unchanged walk answers from its digest alone). */
export function attributeStampsMade(): number {
  return stampsMade
}

function fromValue(value: KeptValue): ExtendedAttributes {
  return { capabilities: new Map(value.capabilities), xattrs: new Map(value.xattrs), diagnostics: value.diagnostics }
}

/** A damaged or foreign record only costs time: undefined, and the tools run. */
function parseKept(text: string | undefined): Kept | undefined {
  const data = parseObject(text)
  if (data === undefined || typeof data.signature !== 'string' || typeof data.base !== 'string' || (data.walk !== undefined && typeof data.walk !== 'string')) return undefined
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
