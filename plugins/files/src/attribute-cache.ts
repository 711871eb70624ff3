import { createHash } from 'node:crypto'
import type { Diagnostic, FileStat, ProviderContext } from '@twinsync/sdk'
import { racyFrom } from '@twinsync/sdk'
import { locateAttributeTools, readExtendedAttributes, type AttributeTools, type ExtendedAttributes } from './extended-attributes.js'

/** The tools' answer and the signature it was read under (v4: getfattr -h, a symlink's own attributes). */
const CACHE_KEY = 'attributes-v4'
/** Each walked path's stamp (device, inode, ctime) when the answer above was read, a line each: what the incremental run compares. */
const STAMPS_KEY = 'attribute-stamps-v1'
/** More moved paths than this: the tools walk the roots again, as on a first run. */
export const MAX_INCREMENTAL = 256
/** Stamp lines hashed at a time. */
const STAMP_CHUNK = 512

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
): Promise<ExtendedAttributes> {
  const tools = await locateAttributeTools(ctx.host)
  const base = JSON.stringify([ctx.host.root, roots, tools])
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
  const kept = parseKept(await ctx.cache.read(CACHE_KEY).catch(() => undefined))
  if (!racy && kept?.signature === signature) return fromValue(kept.value)

  let value: KeptValue | undefined
  let texts: string[] | undefined
  if (kept !== undefined && kept.base === base) {
    const stamps = await ctx.cache.read(STAMPS_KEY).catch(() => undefined)
    const tag = `${kept.signature}\n`
    if (stamps?.startsWith(tag) === true) {
      const moved = movedPaths(walked, lineOf, chunks, stamps.slice(tag.length))
      if (moved !== undefined) {
        texts = moved.texts
        value = await incremental(ctx, walked, moved.moved, kept.value, tools)
      }
    }
  }
  if (value === undefined) {
    const read = await readExtendedAttributes(ctx.host, roots, tools)
    value = { capabilities: [...read.capabilities], xattrs: [...read.xattrs], diagnostics: read.diagnostics }
  }
  texts ??= chunkTexts(walked, lineOf)
  // A racy path is asked again next time: its stamp is "-", and the signature never matches.
  const stored = racy ? `racy:${signature}` : signature
  // The answer first, then the stamps tagged with its signature: a run stopped between the two leaves them unpaired (a full run next time).
  await ctx.cache.write(CACHE_KEY, JSON.stringify({ signature: stored, base, value } satisfies Kept)).catch(() => undefined)
  await ctx.cache.write(STAMPS_KEY, `${stored}\n${CHUNKS_LINE}${chunks.digests.join('')} ${texts.map((t) => t.length).join(',')}\n${texts.join('\n')}`).catch(() => undefined)
  return fromValue(value)
}

/** The second line of the stamps record: each chunk's digest (64 hex characters each), then each chunk's text's length. */
const CHUNKS_LINE = 'chunks '

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

/**
 * The walked paths whose stamp moved since the kept stamps (or that are new, or racy), and the
 * chunks' texts of this walk (a chunk whose digest did not move: its kept text). A chunk is
 * taken as unmoved only by its digest, made of this walk's lines and recorded with them.
 *
 * Speed (issue 22, session 9): when the walk holds the same paths as the kept stamps (a file's
 * content or attributes changed, none came or went), only the chunks whose digest moved are
 * compared, line by line, and every other chunk's text is the kept one: the scale root's
 * one-file snapshot made its 25,000 lines again, split the kept 1.7 MB into 25,000 more and
 * looked each up in a set of them; now one chunk of 512 (with the other session-9 rows of
 * docs/architecture.md, Speed: the one-file snapshot 1,413 → 1,082 ms of CPU). Otherwise (paths came or went, many
 * chunks moved, stamps written before chunks were recorded) every line is compared as before.
 */
function movedPaths(
  walked: ReadonlyArray<{ path: string; stat?: FileStat | undefined }>,
  lineOf: (item: { path: string; stat?: FileStat | undefined }) => string,
  chunks: Chunks,
  kept: string,
): { moved: Set<string>; texts: string[] } | undefined {
  const newline = kept.indexOf('\n')
  const header = newline < 0 ? '' : kept.slice(0, newline)
  const [digests = '', lengths = ''] = header.startsWith(CHUNKS_LINE) ? header.slice(CHUNKS_LINE.length).split(' ') : []
  const sizes = lengths === '' ? [] : lengths.split(',').map(Number)
  const body = header.startsWith(CHUNKS_LINE) ? kept.slice(newline + 1) : kept
  const count = chunks.digests.length
  if (header.startsWith(CHUNKS_LINE) && digests.length === count * 64 && sizes.length === count && sizes.every((n) => Number.isInteger(n) && n >= 0)) {
    const texts: string[] = []
    const moved = new Set<string>()
    let at = 0
    let aligned = true
    for (let k = 0; k < count && aligned; k++) {
      const before = body.slice(at, at + (sizes[k] as number))
      at += (sizes[k] as number) + 1
      if (digests.slice(k * 64, k * 64 + 64) === chunks.digests[k] && !chunks.racy.has(k)) {
        texts.push(before)
        continue
      }
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
      texts.push(lines.join('\n'))
    }
    // Every chunk's text accounted for: the same paths, in the same order.
    if (aligned && at === body.length + 1) return { moved, texts }
  }
  // Every line compared: a line the kept stamps hold is a path with the same stamp as then; "-" never matches.
  const before = new Set(body.split('\n'))
  const lines = walked.map(lineOf)
  const texts: string[] = []
  for (let i = 0; i < lines.length; i += STAMP_CHUNK) texts.push(lines.slice(i, i + STAMP_CHUNK).join('\n'))
  const moved = new Set<string>()
  for (let i = 0; i < walked.length; i++) {
    const line = lines[i] as string
    if (line.startsWith('-\t') || !before.has(line)) moved.add((walked[i] as { path: string }).path)
  }
  return { moved, texts }
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
}

function fromValue(value: KeptValue): ExtendedAttributes {
  return { capabilities: new Map(value.capabilities), xattrs: new Map(value.xattrs), diagnostics: value.diagnostics }
}

/** A damaged or foreign record only costs time: undefined, and the tools run. */
function parseKept(text: string | undefined): Kept | undefined {
  const data = parseObject(text)
  if (data === undefined || typeof data.signature !== 'string' || typeof data.base !== 'string') return undefined
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
