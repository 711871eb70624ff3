import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { isDeepStrictEqual } from 'node:util'
import { stableStringify } from '@twinsync/sdk/light'
import { isTwinSyncError } from '@twinsync/sdk/errors'
import { runGitBytes } from '../twin/git.js'
import { JsonDraft, NameLookup } from './json-draft.js'
import { differences, emptied, namedTwice, type UnitPath } from './json-units.js'

export interface MergedPath {
  /** The content the intended twin gets; undefined: the path is absent. */
  content: Uint8Array | undefined
  /**
   * The person's edit and the machine changed the same lines: the edit wins there (what was
   * asked for is never dropped), and the plan shows the rest for review.
   */
  conflict: boolean
  /**
   * Entries of named lists the person removed that the machine's copy no longer holds here: the
   * machine moved them to another document of the same family (the files manifest going into
   * parts or back). `carryRemovals` takes them out there; otherwise the removal would be lost.
   */
  removed?: UnitPath[]
}

/**
 * Carry one path's intent from the state it was made against (`base`) to a newer one (`onto`):
 * untouched sides take the other side, both changed is a line merge (git merge-file) whose
 * conflicting hunks keep the intent. A JSON document whose lines conflict (or that a line merge
 * breaks) is merged by its places instead (mergeUnits), else the intent is kept whole.
 */
export async function mergePath(
  path: string,
  base: Uint8Array | undefined,
  intended: Uint8Array | undefined,
  onto: Uint8Array | undefined,
): Promise<MergedPath> {
  if (same(intended, base)) return { content: onto, conflict: false }
  if (same(onto, base) || same(intended, onto)) return { content: intended, conflict: false }
  if (onto === undefined && base !== undefined && intended !== undefined && path.endsWith('.json') && !path.startsWith('filesystem/')) {
    // The machine's side has no such document any more: a document of named lists keeps only the
    // elements the person changed (a part of the files manifest the machine no longer writes,
    // its entries now in manifest.json); any other document is kept whole, as below, and so is
    // a mirrored file the machine removed (its bytes are what the person asked for).
    const kept = mergeUnits(path, base, intended, undefined)
    if (kept !== undefined) return kept
  }
  if (base === undefined && intended !== undefined && onto !== undefined && path.endsWith('.json') && !path.startsWith('filesystem/')) {
    // Both sides made the document since the base: a document of named lists is merged entry by
    // entry onto the machine's, as if the base had it empty. So a part of the files manifest that
    // an earlier crossing kept with the person's entries alone, when the machine writes that part
    // again (the threshold crossed back), keeps the machine's other entries instead of planning
    // them away (session 9); any other document is kept whole, as below.
    const empty = emptiedOf(parse(intended), false)
    const kept = empty === undefined ? undefined : mergeUnits(path, empty.bytes, intended, onto)
    if (kept !== undefined) return { ...kept, conflict: true }
  }
  if (intended === undefined || onto === undefined || base === undefined) return { content: intended, conflict: true }
  const merged = await mergeFile(base, intended, onto)
  if (merged === undefined) return { content: intended, conflict: true }
  if (path.endsWith('.json')) {
    const broken = brokenByLines(merged.content, intended, onto)
    // Lines that conflict, or a merge that breaks the document: merged by its JSON units instead.
    if (merged.conflict || broken) {
      const units = mergeUnits(path, base, intended, onto)
      if (units !== undefined) return units
    }
    if (broken) return { content: intended, conflict: true }
  }
  return merged
}

/**
 * A line merge broke a JSON document: it does not parse, or a named list holds an element twice
 * that neither side does. Both sides added the same element in different forms (a files
 * manifest entry the person wrote by hand, and the machine's as collected after the apply made
 * it, with the names, size and hash the person left out): their lines fell apart without a
 * conflict, and the manifest listed the path twice (FILES_MANIFEST_DUPLICATE on every plan).
 */
function brokenByLines(merged: Uint8Array | undefined, intended: Uint8Array, onto: Uint8Array): boolean {
  const doc = parse(merged)
  if (doc === undefined) return true
  try {
    const twice = namedTwice(doc.value)
    if (twice.size === 0) return false
    const before = new Set([...namedTwice(parse(intended)?.value), ...namedTwice(parse(onto)?.value)])
    return [...twice].some((name) => !before.has(name))
  } catch (error) {
    // A hostile twin's document nested deeper than the stack: the place merge cannot walk it either.
    if (error instanceof RangeError) return true
    throw error
  }
}

/**
 * A JSON document merged by its smallest places (json-units.ts: a key, an entry of a named list):
 * the machine's document with every place the person changed taken from the person's, whole
 * where the machine's has nothing there. It says a conflict where the machine changed that place
 * too; the person's value is kept there, as the line merge keeps the intended lines. Where lines
 * conflict this keeps the rest of the machine's changes, and it is what carries an edit across
 * a change of a document's layout: the files manifest going into parts or back to one document
 * (plugins/files/src/manifest.ts), whose entries the line merge would keep or drop by the block.
 * Only onto a document whose bytes are exactly what stableStringify writes for it (every
 * provider's), so the result's bytes are the provider's; for a mirrored file (filesystem/, whose
 * bytes are what the person asked for, its layout too) only from a person's document so written.
 * Undefined otherwise, and for a document too deep to walk (the line merge's answer stands).
 */
function mergeUnits(path: string, base: Uint8Array, intended: Uint8Array, onto: Uint8Array | undefined): MergedPath | undefined {
  try {
    const [was, wants] = [parse(base), parse(intended)]
    if (was === undefined || wants === undefined) return undefined
    if (path.startsWith('filesystem/') && !written(wants)) return undefined
    // No document on the machine's side: a document of named lists (and written as stableStringify writes it) emptied.
    const now = onto === undefined ? emptiedOf(was) : parse(onto)
    if (now === undefined || !written(now)) return undefined
    // Each place looked up through an index of each list, and taken into one draft (json-draft.ts):
    // a valueAt and a takeFrom a place walked and copied the document's list, n² for n places
    // (session 39; the promotion's were made so in session 38).
    const lookup = new NameLookup()
    const result = new JsonDraft(now.value, lookup)
    let conflict = false
    const removed: UnitPath[] = []
    for (const unit of differences(was.value, wants.value)) {
      const place = lookup.reachable(now.value, unit)
      // The machine moved that place too — to something other than what the person asked (the same value is agreement, not a conflict).
      const there = lookup.at(now.value, place)
      if (!isDeepStrictEqual(there, lookup.at(was.value, place)) && !isDeepStrictEqual(there, lookup.at(wants.value, place))) conflict = true
      result.take(wants.value, place)
      // An element the person removed, which the machine's copy does not hold (any more): nothing here says it goes.
      if (typeof unit[unit.length - 1] === 'object' && lookup.at(wants.value, unit) === undefined && lookup.at(now.value, unit) === undefined) removed.push(unit)
    }
    return { content: Buffer.from(stableStringify(result.value())), conflict, ...(removed.length > 0 ? { removed } : {}) }
  } catch (error) {
    // A hostile twin's document nested deeper than the stack (JSON.parse takes it, a walk does not).
    if (error instanceof RangeError) return undefined
    throw error
  }
}

/**
 * The other documents of a document's family, a document in parts: `D.json` and every
 * `D/NAME.json` (the files manifest's manifest.json and manifest/NN.json), as `names` holds them.
 */
export function familyOf(path: string, names: ReadonlySet<string>): string[] {
  const stems = [path.endsWith('.json') ? path.slice(0, -'.json'.length) : undefined, path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : undefined]
  const out = new Set<string>()
  for (const stem of stems) {
    // A folder of parts only beside its document: "system/files/" is no family of manifest.json.
    if (stem === undefined || !names.has(`${stem}.json`)) continue
    for (const name of names) {
      const inside = name.startsWith(`${stem}/`) && name.endsWith('.json') && !name.slice(stem.length + 1).includes('/')
      if ((name === `${stem}.json` || inside) && name !== path) out.add(name)
    }
  }
  return [...out].sort()
}

/**
 * A family member's bytes with these named-list elements taken out (carryRemovals): undefined
 * when it holds none of them, or is not a document written as stableStringify writes it.
 */
export function withoutElements(bytes: Uint8Array | undefined, units: readonly UnitPath[]): Uint8Array | undefined {
  const doc = parse(bytes)
  if (doc === undefined || !written(doc)) return undefined
  // One draft, not a takeFrom (a copy of the list) an element: n² for n elements (session 39).
  const draft = new JsonDraft(doc.value)
  let taken = false
  for (const unit of units) {
    if (draft.at(unit) === undefined) continue
    draft.take({}, unit)
    taken = true
  }
  return taken ? Buffer.from(stableStringify(draft.value())) : undefined
}

type Parsed = { bytes: Uint8Array; value: unknown }

/** The bytes are exactly stableStringify's of their value (as UTF-8: no byte was lost decoding them). */
function written(doc: Parsed): boolean {
  return Buffer.from(stableStringify(doc.value)).equals(doc.bytes)
}

function emptiedOf(doc: Parsed | undefined, asWritten = true): Parsed | undefined {
  const value = doc !== undefined && (!asWritten || written(doc)) ? emptied(doc.value) : undefined
  return value === undefined ? undefined : { bytes: Buffer.from(stableStringify(value)), value }
}

function parse(bytes: Uint8Array | undefined): Parsed | undefined {
  if (bytes === undefined) return undefined
  try {
    return { bytes, value: JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown }
  } catch {
    return undefined
  }
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return Buffer.from(a).equals(Buffer.from(b))
}

/**
 * git merge-file, resolved once toward each side: where the two results differ, hunks
 * conflicted, and the intended one is kept. Undefined when git cannot merge (binary input).
 */
async function mergeFile(base: Uint8Array, ours: Uint8Array, theirs: Uint8Array): Promise<MergedPath | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'twinsync-merge-'))
  try {
    const files = ['intended', 'base', 'observed'].map((n) => join(dir, n))
    await Promise.all([writeFile(files[0] as string, ours), writeFile(files[1] as string, base), writeFile(files[2] as string, theirs)])
    // Bytes, never decoded: a file not in UTF-8 (a latin1 é) comes back as it was, not as U+FFFD.
    const [mine, other] = await Promise.all([runGitBytes(dir, ['merge-file', '-p', '--ours', ...files]), runGitBytes(dir, ['merge-file', '-p', '--theirs', ...files])])
    return { content: mine, conflict: !mine.equals(other) }
  } catch (error) {
    if (isTwinSyncError(error) && error.code === 'GIT_FAILED') return undefined
    throw error
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
