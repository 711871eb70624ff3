import type { ProviderCache } from '@twinsync/sdk'
import type { Accounts } from './accounts.js'
import type { HeldName } from './secret-names.js'
import type { FilesState } from './state.js'

/**
 * Speed (issue 22, session 27): a snapshot's collect whose documents are all kept is not
 * described. When the snapshot hands back a token (`since`) and the walk alone gives the same
 * token (documents-token.ts: every walked path's lstat data, the leftovers, the rules, the
 * accounts, the attributes, none racy), the documents HEAD holds are the ones describing would
 * make; describing every file (the stat cache's lookup of each file's verdict, text, blob id and
 * origin, an entry object each) only built a state that a snapshot never reads. So then no file is
 * looked up: the collect returns its token, every part kept, and a state without entries
 * (`keptState`: reading its entries throws, so a caller that did read it fails loudly instead of
 * seeing no files). A snapshot gives `since` (CollectRequest.since: it never reads the state of
 * such a collect), and so do a plan and status whose comparison of the files found nothing under
 * that token against the commit they read (core/src/plan/kept-compare.ts: they read no state of a
 * collect whose token is `since`); the rest collect without it and describe every file.
 *
 * Taken only when it cannot differ from describing: the walk found every folder's listing in the
 * stat cache unmoved (nothing remembered, nothing racy: `StatCache.untouched`), nothing was
 * unreadable, and the warnings that describing says (a file held out as a token file, a symlink
 * held out by its target) are on record for this very token (`DescribedNotes`, written by the
 * collect that described the files and made the token, read back only under an equal token). A
 * split manifest's form is part of the token: the walk's token is worked out in the form `since`
 * names, and an equal token means that form is the one describing makes (an equal token, equal
 * documents). Anything else: every file is described as before.
 *
 * Figure (the scale root, 19,600 files under /etc, an unchanged snapshot, 2026-12-03, load 10–13):
 * callgrind of the node process (warm, each build its own copy of the code caches) 4,316 and
 * 4,406 M instructions → 3,030 and 2,941 M (3,154 M with the 1 MB young generation of a large
 * run, as the base's): about −30%; CPU user + sys with children, 8 interleaved pairs: medians
 * 1,480 → 1,270 ms, paired −215 ms; peak memory 109–112 → 103–106 MB (docs/architecture.md, Speed).
 */

/** What describing the files said besides their entries, kept with the token of what it described. */
export interface DescribedNotes {
  /** Files held out as token files (their path and secretReason), in path order. */
  tokenFiles: Array<{ path: string; reason: string }>
  /** Symlinks held out because their target holds a secret (describe's part of the name screen). */
  heldLinks: HeldName[]
  /** Files left out because git's fsck would refuse them in a pushed tree (gitFsckRefusal), with why, in path order. */
  gitRefused: Array<{ path: string; reason: string }>
}

const NOTES_KEY = 'described-notes-v2'

/** The notes on record for `token`; undefined when none (or another token's, or not readable). */
export async function notesFor(cache: ProviderCache, token: string): Promise<DescribedNotes | undefined> {
  const text = await cache.read(NOTES_KEY).catch(() => undefined)
  if (text === undefined) return undefined
  try {
    const value = JSON.parse(text) as { token?: unknown; notes?: DescribedNotes }
    const notes = value.notes
    if (value.token !== token || notes === undefined || !Array.isArray(notes.tokenFiles) || !Array.isArray(notes.heldLinks) || !Array.isArray(notes.gitRefused)) return undefined
    const said = (f: { path?: unknown; reason?: unknown } | undefined) => typeof f?.path === 'string' && typeof f.reason === 'string'
    const fine = notes.tokenFiles.every(said) && notes.gitRefused.every(said) && notes.heldLinks.every((h) => typeof h?.path === 'string' && typeof h.rule === 'string')
    return fine ? notes : undefined
  } catch {
    return undefined
  }
}

/** Record what describing said under `token` (written only when it is not already the record). */
export async function rememberNotes(cache: ProviderCache, token: string, notes: DescribedNotes): Promise<void> {
  const text = JSON.stringify({ token, notes })
  if ((await cache.read(NOTES_KEY).catch(() => undefined)) === text) return
  await cache.write(NOTES_KEY, text).catch(() => undefined)
}

/** The state of a collect whose files were not described (see the top): its entries are not there to read. */
export function keptState(leftovers: string[], accounts: Accounts): FilesState {
  const state = { leftovers, accounts } as unknown as FilesState
  return Object.defineProperty(state, 'entries', {
    enumerable: true,
    get(): never {
      throw new Error('files: this collect kept every document (a snapshot handed back its token) and described no file: its state has no entries to read')
    },
  })
}
