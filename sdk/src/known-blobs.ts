import type { TwinDocument } from './twin-document.js'

/**
 * A document's git blob id as its provider already knows it, so the core can find a document the
 * twin already holds without hashing its content: a provider that keeps the content from an
 * earlier run (the files provider's stat cache keeps each mirrored file's text) can keep its id
 * beside it.
 *
 * The core takes the id only where the tree it builds holds exactly that id at the document's
 * path (the same mode too): the document is then unchanged. Any other id is ignored and the
 * content hashed as before, so a wrong id can never put content into the twin, only keep a
 * provider's own document as the twin has it. Kept by document object and content, in this
 * process only: a copy of the document (a redacted one, say) or a document whose content was
 * replaced has no id.
 *
 * Speed (issue 22, session 9): hashing every document an unchanged snapshot hands over (the
 * services root's 211 mirrored files, 1.3 MB) was 16 M instructions of SHA-1 (callgrind, 3% of
 * the snapshot); figures in docs/architecture.md (Speed).
 */
const known = new WeakMap<TwinDocument, { content: TwinDocument['content']; blob: string }>()

/** Record `blob` (40 hex digits: git's SHA-1 of `blob <length>\0` and the content's bytes) as the id of `doc`'s content; returns `doc`. */
export function withKnownBlob<T extends TwinDocument>(doc: T, blob: string): T {
  // Not checked: an id that is no tree's (another form, another content's) is never taken.
  known.set(doc, { content: doc.content, blob })
  return doc
}

/** The blob id recorded for this document object with this content, if any (see withKnownBlob). */
export function knownBlob(doc: TwinDocument): string | undefined {
  const entry = known.get(doc)
  return entry !== undefined && entry.content === doc.content ? entry.blob : undefined
}
