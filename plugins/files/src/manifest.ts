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

/** Parse system/files/manifest.json; the reason it is not a manifest otherwise. */
export function parseManifest(text: string): { manifest: Manifest } | { problem: string } {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    return { problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` }
  }
  const validator = validatorOf(Manifest)
  if (!validator.Check(data)) {
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
