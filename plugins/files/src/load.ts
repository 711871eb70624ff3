import {
  compareStrings,
  errorDiagnostic,
  infoDiagnostic,
  isTwinSyncError,
  machinePathOf,
  mirrorPath,
  warningDiagnostic,
  type Diagnostic,
  type LoadResult,
  type ProviderContext,
  type TwinReader,
  twinsyncLines,
} from '@twinsync/sdk'
import { readAccounts } from './accounts.js'
import { resolveScope, type FilesScope } from './collect.js'
import { collectedWithBlob, collectedWithBytes } from './collected-texts.js'
import { resolveConfig } from './config.js'
import { decodeText, sha256 } from './content.js'
import { isIncluded } from './include.js'
import { sameMeaning } from './entry-meaning.js'
import { readManifest } from './manifest.js'
import { outsideScope } from './scope.js'
import { isUnitMaskLink, type FileEntry, type FilesState } from './state.js'

/**
 * The desired state from a twin: the manifest's entries, each mirrored file's text from its
 * document under filesystem/. The documents win over the manifest for content: a person edits
 * the file, not its hash. A document the manifest does not list is a new file (0644 root:root,
 * in directories 0755 root:root); a mirrored file whose document was removed is to be deleted.
 * A document bigger than maxFileSize (what a snapshot records and never copies) is not read: its
 * entry says `oversized`, and its change is left out of every plan, shown (scope.ts's tooLarge).
 * A document for a file the manifest lists as not mirrored (secret, binary, too large) is not
 * taken either: its entry says `unmirroredDocument`, and its change is left out the same way
 * (scope.ts's notMirrored).
 */
export async function loadFiles(ctx: ProviderContext, twin: TwinReader): Promise<LoadResult<FilesState>> {
  // The target's accounts first: a path listed twice is read as one when both entries ask the same (entry-meaning.ts).
  const { accounts } = await readAccounts(ctx.host)
  const { maxFileSize } = resolveConfig(ctx.config, ctx.limits)
  const line = twinsyncLines(ctx)
  const manifest = await readManifest(twin, line, (a, b) => sameMeaning(a, b, accounts))
  if (manifest === undefined) {
    return { state: undefined, diagnostics: [] }
  }
  if ('problem' in manifest) {
    return {
      state: undefined,
      diagnostics: [
        errorDiagnostic(manifest.problem.code, manifest.problem.summary, {
          provider: 'files',
          detail: manifest.problem.nextStep ?? `Fix the manifest in the twin, or go back to the last snapshot's with \`${line(['discard', 'files'])}\` (drops every pending file edit); no file change is planned until then.`,
        }),
      ],
    }
  }
  // The include set, ignores and secret rules, for a document the manifest does not list (a file
  // the person adds) alone: none on an unchanged twin, where working them out again (the users'
  // homes looked up, the patterns compiled, the secrets' key read) was about 1 ms of every
  // `plan` and `status` (session 8).
  let scope: FilesScope | undefined
  const diagnostics: Diagnostic[] = manifest.merged.map(({ document, path }) =>
    infoDiagnostic('FILES_MANIFEST_DUPLICATE_MERGED', `${document} lists ${path} twice, both asking the same of it; read as one`, {
      path,
      provider: 'files',
      detail: 'Nothing to do: the snapshot after the next change to the manifest (or an apply) writes it once.',
    }),
  )
  const entries = new Map<string, FileEntry>()
  // Files the manifest lists as not mirrored (secret, binary, too large): a document for one is looked for below.
  const unmirrored = new Set<string>()
  for (const entry of manifest.entries) {
    // Another provider's path, or a unit's mask link: not this provider's to apply, even when a
    // twin from before that provider claimed it (the SysV rc?.d links) still lists it.
    if (isUnitMaskLink(entry) || ctx.claims.isClaimedByOther('files', entry.path)) continue
    if (entry.type !== 'file' || entry.content !== 'mirrored' || entry.secret === true) {
      entries.set(entry.path, { ...entry })
      if (entry.type === 'file') unmirrored.add(entry.path)
      continue
    }
    // The twin's document is the blob of the text collect just made of the file (an unchanged machine): that text, unread (collected-texts.ts).
    const known = collectedWithBlob(entry.path, twin.blobOf?.(mirrorPath(entry.path)))
    if (known !== undefined) {
      entries.set(entry.path, { ...entry, mode: await twinMode(twin, mirrorPath(entry.path), entry.mode), text: known.text, sha256: known.sha256, size: known.size })
      continue
    }
    const bytes = await readDocument(twin, mirrorPath(entry.path), maxFileSize)
    if (typeof bytes === 'number') {
      // Bigger than a snapshot copies: not read, never applied (diff.ts plans it `too-large`, scope.ts leaves it out).
      const { content: _content, sha256: _sha, ...rest } = entry
      entries.set(entry.path, { ...rest, content: 'too-large', size: bytes, oversized: bytes })
      continue
    }
    if (bytes === 'symlink') {
      // Never followed, never applied: planned `not-text` (a symlink), which scope.ts's notText
      // leaves out, named: pending until discarded. Before session 40 a warning here, no change,
      // and the next snapshot put the file's text back in place of the link without a word.
      entries.set(entry.path, { ...entry, ...symlinkDocument })
      continue
    }
    if (bytes === undefined) {
      diagnostics.push(
        infoDiagnostic('FILES_REMOVED_IN_TWIN', `${entry.path} was removed from the twin; a plan deletes it`, { path: entry.path, provider: 'files' }),
      )
      continue
    }
    // The bytes of the text collect just made of the machine's file (an unchanged machine): its string and sha256 (collected-texts.ts).
    const same = collectedWithBytes(entry.path, bytes)
    if (same !== undefined) {
      entries.set(entry.path, { ...entry, mode: await twinMode(twin, mirrorPath(entry.path), entry.mode), text: same.text, sha256: same.sha256, size: bytes.byteLength })
      continue
    }
    const text = decodeText(bytes)
    if (text === undefined) {
      // Not text (a snapshot never writes such a document for a mirrored file): not taken, never
      // applied; the diff plans it `not-text`, which scope.ts's notText leaves out, named, so it is
      // pending until discarded. Before session 40 a warning here and the entry without content:
      // no change, `status` "in sync", and the next snapshot put the document back without a word.
      entries.set(entry.path, { ...entry, notText: bytes.byteLength })
      continue
    }
    entries.set(entry.path, { ...entry, mode: await twinMode(twin, mirrorPath(entry.path), entry.mode), text, sha256: sha256(bytes), size: bytes.byteLength })
  }

  const listed = new Map(manifest.entries.map((e) => [e.path, e.type]))
  for (const docPath of await twin.list('filesystem/')) {
    const path = machinePathOf(docPath)
    if (path === undefined) continue
    // A document for a file the manifest lists as not mirrored (a secret, binary or too large on
    // the machine): a snapshot never writes one, so a person committed it or a pull brought it.
    // Its content is not taken (a secret's stays where the person put it, in no plan or output):
    // the entry says the document is there, the diff plans its change as `not-mirrored`, and the
    // one scope rule names it (scope.ts's notMirrored): the plan leaves it out, `status` lists it
    // as never applied and a snapshot keeps it, until it is discarded. Before session 39 it was
    // not looked at: "in sync", and the next snapshot dropped the document without a word.
    if (unmirrored.has(path)) {
      const read = await readDocument(twin, docPath, maxFileSize)
      if (read === 'symlink') entries.set(path, { ...(entries.get(path) as FileEntry), ...symlinkDocument })
      else if (read === undefined) diagnostics.push(unreadableName(docPath, path))
      else entries.set(path, { ...(entries.get(path) as FileEntry), unmirroredDocument: typeof read === 'number' ? read : read.byteLength })
      continue
    }
    // A document where the manifest has a folder or a symlink: the person made it a file (a type change).
    if (listed.get(path) === 'file') continue
    if (ctx.claims.isClaimedByOther('files', path)) continue
    scope ??= (await resolveScope(ctx)).scope
    // A document outside the include set, ignored, or at a secret path (a hand edit, a pull) is
    // still what the twin asks for: an entry like any other, whose change the provider's
    // outOfScope names (scope.ts, the one rule), so the plan leaves it out, `status` lists it as
    // never applied and a snapshot keeps it, until it is discarded. Before session 38 it was a
    // warning here, not a change: `status` said "nothing pending" and the next snapshot dropped
    // the document without a word. Its folders are not made for it (nothing of it is applied).
    const outside = outsideScope(ctx, scope, path) !== undefined || scope.secrets.pathVerdict(path) !== undefined
    // What the manifest lists at the path (a folder, a symlink): the document wins, and the entry says so (unapplied.ts).
    const was = listed.get(path)
    const owned = (mode: string): FileEntry => ({ ...rootOwned(path, 'file', mode), ...(was === undefined ? {} : { listedAs: was }) })
    const read = await readDocument(twin, docPath, maxFileSize)
    if (read === 'symlink') {
      // A new file the twin asks for as a symlink: never followed, never applied (as a listed one's above).
      entries.set(path, { ...owned('0644'), content: 'mirrored', ...symlinkDocument })
      continue
    }
    if (typeof read === 'number') {
      // Bigger than a snapshot copies: not read (its folders are not made for it either), never applied.
      if (listed.has(path)) for (const inside of [...entries.keys()]) if (inside.startsWith(`${path}/`)) entries.delete(inside)
      entries.set(path, { ...owned('0644'), size: read, content: 'too-large', oversized: read })
      continue
    }
    if (read === undefined) {
      // Listed, yet not there by that name: a name that is not UTF-8 (the listing's name is a lossy
      // decoding of its bytes, which names no file), or no regular file any more. Before session 21
      // such a document was planned as an empty file under the decoded name.
      diagnostics.push(unreadableName(docPath, path))
      continue
    }
    const bytes = read
    const text = decodeText(bytes)
    if (text === undefined) {
      // Not text: a new file the twin asks for, not taken, never applied (as the listed one's above;
      // its folders are not made for it, nor is anything the manifest lists below it taken out:
      // the change never runs, so no delete of what it would replace may run either).
      entries.set(path, { ...owned('0644'), size: bytes.byteLength, content: 'mirrored', notText: bytes.byteLength })
      continue
    }
    if (listed.has(path)) for (const inside of [...entries.keys()]) if (inside.startsWith(`${path}/`)) entries.delete(inside)
    entries.set(path, { ...owned((await twin.executableOf?.(docPath)) === true ? '0755' : '0644'), size: bytes.byteLength, content: 'mirrored', sha256: sha256(bytes), text })
    for (let dir = parentOf(path); !outside && dir !== undefined && isIncluded(dir, scope.roots); dir = parentOf(dir)) {
      if (!entries.has(dir)) entries.set(dir, rootOwned(dir, 'directory', '0755'))
    }
  }

  const state: FilesState = {
    entries: [...entries.values()].sort((a, b) => compareStrings(a.path, b.path)),
    leftovers: manifest.leftovers,
    accounts,
  }
  return { state, diagnostics }
}

/**
 * A mirrored file's mode as the twin asks for it. Git keeps one mode bit, and every snapshot
 * writes it from the machine's mode (100755 where the manifest's mode has any x bit, collect.ts;
 * so since the first files provider, 5c480f73), so where the document's bit and the manifest's
 * mode disagree the twin was changed:
 * - executable where the manifest's mode has no x bit (a mirror's `chmod +x`, a script pushed
 *   executable): the x bits where its r bits are (0644 → 0755; session 42);
 * - not executable where the manifest's mode has x bits (a `chmod -x` in the twin, a mirror's
 *   100755 → 100644): the mode without its x bits (0755 → 0644; session 43), only when the last
 *   snapshot had the document executable (TwinReader.observedExecutableOf), so the change is
 *   against what TwinSync itself committed. A twin whose manifest and bit disagreed already in
 *   that snapshot (a hand-made or hand-committed twin; no snapshot ever wrote one) is never
 *   taken for a mass `chmod -x`; nor is a reader that cannot say (a snapshot's tree, history).
 * Either is the document's bit only where it differs from the last snapshot's; where it does not,
 * the manifest's mode stands (a person's edit of the mode in the manifest: 0755 → 0644 with the
 * document still 100755 was planned back to 0755 by session 42's rule, the edit lost).
 * Before session 42 the manifest always won: the plan planned nothing, `status` said in sync,
 * and the next snapshot wrote the machine's bit back without a word.
 */
async function twinMode(twin: TwinReader, docPath: string, mode: string): Promise<string> {
  const bits = parseInt(mode, 8)
  if (!Number.isInteger(bits)) return mode
  const executable = await twin.executableOf?.(docPath)
  if (executable === undefined || executable === ((bits & 0o111) !== 0)) return mode
  const observed = await twin.observedExecutableOf?.(docPath)
  if (observed === executable) return mode
  if (executable) return (bits | ((bits & 0o444) >> 2)).toString(8).padStart(4, '0')
  return observed === true ? (bits & ~0o111).toString(8).padStart(4, '0') : mode
}

/**
 * A symlink committed under filesystem/ is recorded data, never a route: the twin reader
 * refuses to read through it, and the file it stands for is left as it is on the machine (its
 * change planned `not-text`, left out by scope.ts's notText, FILES_TWIN_SYMLINK_NOT_PLANNED).
 * (Symlinks on the machine are recorded in the manifest, never as links in the twin.)
 */
async function readDocument(twin: TwinReader, path: string, maxFileSize: number): Promise<Uint8Array | undefined | 'symlink' | number> {
  try {
    // Its size first, the file unread (a pulled twin's 200 MB document is never held in memory);
    // a reader that cannot say (one holding its documents already) is judged by what it read.
    const size = await twin.sizeOf?.(path)
    if (size !== undefined && size > maxFileSize) return size
    const bytes = await twin.read(path)
    return bytes !== undefined && bytes.byteLength > maxFileSize ? bytes.byteLength : bytes
  } catch (error) {
    if (isTwinSyncError(error) && error.code === 'TWIN_SYMLINK') return 'symlink'
    throw error
  }
}

/** What load notes of a file whose twin document is a symlink (`not-text`, diff.ts): its link is never read. */
const symlinkDocument = { notText: 0, symlinkDocument: true } as const

function unreadableName(docPath: string, path: string): Diagnostic {
  return warningDiagnostic('FILES_TWIN_NAME_UNREADABLE', `${docPath} cannot be read from the twin by that name (its name is not UTF-8, or it is not a regular file); it is not applied`, {
    path,
    provider: 'files',
    detail: 'Rename it in the twin to a UTF-8 name (the machine path it stands for), or remove it; a pull refuses such names (TWIN_UNSAFE).',
  })
}

function rootOwned(path: string, type: 'file' | 'directory', mode: string): FileEntry {
  return { path, type, mode, owner: 'root', uid: 0, group: 'root', gid: 0 }
}

function parentOf(path: string): string | undefined {
  const at = path.lastIndexOf('/')
  return at <= 0 ? undefined : path.slice(0, at)
}
