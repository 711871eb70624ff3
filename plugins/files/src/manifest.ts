import { validatorOf } from '@twinsync/sdk'
import { Manifest, type FileEntry, type FilesState, type ManifestEntry } from './state.js'

/** The manifest of a state: every entry without its text (the text is its own document). */
export function toManifest(state: FilesState): Manifest {
  return {
    version: 1,
    entries: state.entries.map(({ text: _text, ...entry }) => entry),
    leftovers: state.leftovers,
  }
}

/**
 * system/files/manifest.json's text: stableStringify of toManifest. Each entry is copied with
 * every key in sorted order (its xattrs too), so the JSON is written as it is, without
 * stableStringify's pass that checks every key of every entry is in order (session 7, issue 22:
 * the services root's 616 entries, 2.9–3.7 → 1.0–1.3 ms in a fresh process under load;
 * `plugins/files/test/manifest-text.test.ts` checks the text is stableStringify's).
 */
export function manifestText(state: FilesState): string {
  const text = JSON.stringify({ entries: state.entries.map(sortedEntry), leftovers: state.leftovers, version: 1 }, null, 2) + '\n'
  generated = text
  return text
}

/**
 * Speed (issue 22): the manifest text this process last made from a collected state. A twin
 * manifest equal to it, character for character, is the one this provider makes of the machine
 * as it is now — what `plan` and `status` read on an unchanged machine, right after collecting —
 * and is not checked against the schema again (a test checks that what collect makes passes
 * it): parsing the services root's manifest (616 entries; fresh process, medians of 7, load
 * 1.6) 5.1 → 0.9 ms of CPU, most of it compiling the validator. Any other text, a person's
 * edit or a pulled twin included, is checked as before. Nothing is stored: only text made in
 * this process counts, never a record that could be forged.
 */
let generated: string | undefined

/** A manifest entry (the text left out) with its keys inserted in sorted order; a test checks the list is complete. */
export function sortedEntry(e: FileEntry): ManifestEntry {
  const out: Partial<ManifestEntry> = {}
  if (e.capabilities !== undefined) out.capabilities = e.capabilities
  if (e.content !== undefined) out.content = e.content
  if (e.divertedFrom !== undefined) out.divertedFrom = e.divertedFrom
  if (e.empty !== undefined) out.empty = e.empty
  out.gid = e.gid
  if (e.group !== undefined) out.group = e.group
  out.mode = e.mode
  if (e.origin !== undefined) out.origin = e.origin
  if (e.owner !== undefined) out.owner = e.owner
  if (e.package !== undefined) out.package = e.package
  out.path = e.path
  if (e.secret !== undefined) out.secret = e.secret
  if (e.secretHash !== undefined) out.secretHash = e.secretHash
  if (e.secretReason !== undefined) out.secretReason = e.secretReason
  if (e.sha256 !== undefined) out.sha256 = e.sha256
  if (e.size !== undefined) out.size = e.size
  if (e.target !== undefined) out.target = e.target
  out.type = e.type
  out.uid = e.uid
  if (e.xattrs !== undefined) out.xattrs = sortedRecord(e.xattrs)
  return out as ManifestEntry
}

/** A record with its keys in the order stableStringify writes them (as it is, when they already are). */
function sortedRecord(record: Record<string, string>): Record<string, string> {
  const keys = Object.keys(record)
  if (keys.every((key, i) => i === 0 || (keys[i - 1] as string) < key)) return record
  const out: Record<string, string> = {}
  for (const key of keys.sort()) out[key] = record[key] as string
  return out
}

/** Parse system/files/manifest.json; the reason it is not a manifest otherwise. */
export function parseManifest(text: string): { manifest: Manifest } | { problem: string } {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    return { problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` }
  }
  const validator = text === generated ? undefined : validatorOf(Manifest)
  if (validator !== undefined && !validator.Check(data)) {
    const error = [...validator.Errors(data)][0]
    return { problem: `${error?.instancePath || '/'} ${error?.message ?? 'does not match the manifest format'}` }
  }
  // A path no file system can hold (a NUL byte) is a broken manifest, refused like any other.
  const bad = (data as Manifest).entries.find((e) => e.path.includes('\0') || !e.path.startsWith('/'))
  if (bad !== undefined) return { problem: `entry ${JSON.stringify(bad.path)} is not a valid absolute path` }
  return { manifest: data as Manifest }
}

export function entryWithText(entry: ManifestEntry, text: string | undefined): FileEntry {
  return text === undefined ? { ...entry } : { ...entry, text }
}
