import type { Diagnostic, Provider, TwinDocument } from '@twinsync/sdk'
import { spellCharacter, spelledLine, warningDiagnostic } from '@twinsync/sdk/light'
import { providerFailure } from '../providers/provider-call.js'
import { isFsckJudgedName, TREE_PATH_MAX_BYTES, twinPathProblem } from '../twin/twin-path-check.js'

/**
 * The paths of the documents a snapshot's providers hand in, looked at before anything is written
 * (session 43). A twin's tree holds a path once, and as a file or as a folder, never both. The
 * draft follows the machine when a path changes kind (a file where a folder was: the folder's
 * files go; a folder where a file was: the file goes, atomic-snapshot.ts's write), which is right
 * for a provider's own path that changed kind, and was silent loss for anything else: a collect
 * handing in `x` and `x/y` committed only `x/y`; a provider writing `x/y` dropped another
 * provider's `x`, even one kept as it was because its provider failed; one path twice kept the
 * last. And a name with a newline or an escape outside filesystem/ was committed, though no
 * machine name makes it (under filesystem/ a name is the machine's: any user can name a file
 * `$'a\nb'` in ~/.config, and the files provider mirrors it as it is).
 *
 * Each such provider's collect is refused (PROVIDER_FAILED naming it, the paths spelled out): its
 * part of the twin keeps its last snapshot, the others go on. A clash with a file the new tree
 * keeps refuses the provider that writes the new path; two new documents at one path as a file and
 * a folder refuse both (neither is more right than the other).
 *
 * Speed: a document the tree holds as a file at its path (every document of an unchanged snapshot)
 * cannot clash with what the tree holds, so only new paths are looked at further; the map of the
 * paths written is the one the snapshot made before (its set of written paths). 19,600 paths of
 * /usr/share and /etc (tsx, medians of 15 runs at load 10, minimums in brackets): all held
 * 3.7-8 ms (the set the snapshot made before alone 1.6-2.7 ms), all new (a first snapshot)
 * 9-18 ms, a first snapshot of that size costing seconds.
 */
export interface PathsOfTree {
  /** Whether the tree as it stands before the documents (HEAD, with the working twin's edits) holds a file at this path. */
  holds(path: string): boolean
  /** Whether it holds files below this path (a folder). */
  isFolder(path: string): boolean
  /** The files it holds below this folder. */
  under(folder: string): string[]
  /** Whether a file it holds stays in the new tree when these providers' documents go in (not one of them that they dropped). */
  stays(path: string, fresh: ReadonlySet<string>): boolean
  /** Which provider's file it is, for the message (undefined: the twin's own). */
  ownerOf(path: string): string | undefined
}

/** C0 controls, DEL and C1 controls: no provider's own name holds one; a machine's may (filesystem/). */
const CONTROL = /[\0-\x1f\x7f-\x9f]/

/** A UTF-16 unit of a surrogate pair alone (the u flag matches a pair as one code point, never here). */
const LONE_SURROGATE = /[\ud800-\udfff]/u

/** A path spelled out: controls and invisible characters (spelledLine), and a lone surrogate, which a terminal would show as U+FFFD. */
const shown = (path: string) => (LONE_SURROGATE.test(path) ? spelledLine(path).replace(/[\ud800-\udfff]/gu, spellCharacter) : spelledLine(path))

/**
 * Why no provider may hand in a document at `path`, in words, or undefined when one may (session
 * 44: before, a path the draft cannot write failed the whole snapshot with PATH_INVALID, a path
 * outside the twin's two parts was only left out, and two names of one UTF-8 were both committed).
 * - What no tree of the twin holds (twinPathProblem, the draft's own rule): the empty path, an
 *   absolute one, an empty part, a `.` or `..` part (one that stays inside, `a/../b`, as well: a
 *   tree has no such name), a NUL, `.git` in any case or spelling, a name over 255 bytes.
 * - A path outside system/ and filesystem/: the twin's own files (twin.json, plans/, scripts/,
 *   and a `.gitmodules` at the top, which a pull refuses) are no provider's, whatever its
 *   twinPaths say.
 * - A path over TREE_PATH_MAX_BYTES (3,072), the longest a pull takes: another twin of the
 *   mirror could not pull the commit.
 * - A lone surrogate: written as UTF-8 it becomes U+FFFD, so two such paths were one name, held
 *   twice in one tree (git fsck's duplicateEntries; git 2.39 kept both, the working twin one).
 * - Outside filesystem/ (where a name is the machine's): a control character (session 43), and
 *   a `.gitmodules` or `.gitattributes` in any spelling (isFsckJudgedName: a mirror that checks
 *   what is pushed refuses a bad one; git obeys neither in the twin, git-attributes.ts).
 */
export function documentPathProblem(path: string): string | undefined {
  const problem = twinPathProblem(path)
  if (problem !== undefined) return problem
  const machine = path.startsWith('filesystem/')
  if (!machine && !path.startsWith('system/')) return "a path outside system/ and filesystem/, where the twin keeps its own files (twin.json, plans/, scripts/): no provider's"
  if (path.length * 3 > TREE_PATH_MAX_BYTES && Buffer.byteLength(path) > TREE_PATH_MAX_BYTES) return `a path of ${Buffer.byteLength(path)} bytes (a twin path holds ${TREE_PATH_MAX_BYTES} at most, the longest a pull takes)`
  if (LONE_SURROGATE.test(path)) return 'half of a UTF-16 surrogate pair, which has no UTF-8 (git would name it U+FFFD, as it names any other)'
  if (machine) return undefined
  if (CONTROL.test(path)) return "a control character, which no provider's own name holds (only a machine's names, mirrored under filesystem/, may)"
  if (/(?:^|\/)(?:\.git|git|gi7)|[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/i.test(path) && path.split('/').some(isFsckJudgedName)) return "a .gitmodules or .gitattributes, whose content git's fsck judges (a mirror that checks what it is sent refuses a bad one); no provider's own document is named so"
  return undefined
}

/** Folders of system/ that TwinSync itself writes (the journal of the commands run, the manifest of the providers): no plugin's. */
export const CORE_PATHS: readonly string[] = ['system/journal/', 'system/twinsync/']

/** Whether two entries of twinPaths or inputPaths (a file, or a folder ending in "/") name a path in common. */
const overlap = (a: string, b: string) => a === b || (a.endsWith('/') && b.startsWith(a)) || (b.endsWith('/') && a.startsWith(b))

/**
 * Why a provider's twinPaths and inputPaths cannot be its part of the twin, in words, or undefined
 * (session 45): each is a path under system/ that documentPathProblem lets a document have (a
 * folder judged without its final "/"), reaching neither TwinSync's own folders (CORE_PATHS) nor
 * a path of a provider loaded before it (`before`: its twinPaths and inputPaths; a file and a
 * folder of one name, `x` and `x/`, share no path and are judged when documents clash). Before,
 * a plugin claiming `plans/`, `twin.json`, `.git/`, `system/journal/commands.json` or apt's
 * document loaded as usual: its collect was refused at every snapshot (document-paths.ts) or,
 * for another provider's path, the path was owned by whichever provider came first.
 */
export function claimedPathsProblem(provider: Pick<Provider, 'twinPaths' | 'inputPaths'>, before: ReadonlyArray<Pick<Provider, 'name' | 'twinPaths' | 'inputPaths'>>): string | undefined {
  const inputs: readonly unknown[] | undefined = provider.inputPaths
  if (inputs !== undefined && !Array.isArray(inputs)) return 'its inputPaths are not a list'
  const own: Array<[string, unknown]> = [...provider.twinPaths.map((p): [string, unknown] => ['twinPaths', p]), ...(inputs ?? []).map((p): [string, unknown] => ['inputPaths', p])]
  for (const [key, entry] of own) {
    if (typeof entry !== 'string') return `its ${key} hold ${entry === null ? 'null' : typeof entry}, not a path`
    const path = entry.endsWith('/') ? entry.slice(0, -1) : entry
    const problem = !entry.startsWith('system/')
      ? "a path outside system/, where a provider's own documents are (a file mirrored under filesystem/ is a provider's by the machine path it claims; twin.json, plans/ and scripts/ are the twin's own)"
      : path === 'system' ? undefined : documentPathProblem(path)
    if (problem !== undefined) return `its ${key} name ${shown(entry)}, ${problem}`
    const core = CORE_PATHS.find((c) => overlap(entry, c))
    if (core !== undefined) return `its ${key} name ${shown(entry)}, which reaches ${core}, TwinSync's own (the journal of the commands run, the manifest of the providers)`
    for (const other of before) {
      const theirs = [...other.twinPaths, ...(other.inputPaths ?? [])].find((t) => overlap(entry, t))
      if (theirs !== undefined) return `its ${key} name ${shown(entry)}, which reaches ${shown(theirs)}, the ${other.name} provider's`
    }
  }
  return undefined
}

/** What a provider that handed in a document at `path` returned, `problem` being documentPathProblem's verdict. */
const cannotHold = (path: string, problem: string) => `a document the twin cannot hold: ${shown(path)}, ${problem}`

/**
 * A collect's first document at a path the twin cannot hold (documentPathProblem), as its
 * provider's PROVIDER_FAILED diagnostic (the words a snapshot refuses it with), or undefined: for
 * `plan` and `status`, which collect but write no document (session 45). Before, a plan compared
 * such a provider as usual; its apply then ran and said only afterwards (exit 1) that the
 * snapshots after it could not record that provider. Every path is judged, not only those the
 * twin does not hold yet (a plan has no list of the tree's paths at hand, and making one costs
 * more). Cost (session 45): a plan or status whose comparison of the files provider found
 * nothing under the token it gives now (kept-compare.ts) gets none of its documents (kept
 * whole): `status --json` of the scale root, callgrind like pairs old/new -7.1 M of 3,132 M
 * (noise). When the files provider makes its documents (the first plan or status after a
 * snapshot, or files that moved), its 19,600 scale-root paths are judged: +56.5 M instructions
 * in a fresh process (callgrind, medians of 5: 712.0 -> 768.6 M), 6-11 ms of CPU at load 14-20.
 */
export function unholdableCollect(provider: string, documents: readonly TwinDocument[], consequence: string): Diagnostic | undefined {
  for (const doc of documents) {
    const problem = documentPathProblem(doc.path)
    if (problem !== undefined) return providerFailure(provider, 'collect', new Error(`it returned ${cannotHold(doc.path, problem)}`), consequence)
  }
  return undefined
}

/**
 * The providers whose documents cannot go in as given, each with its PROVIDER_FAILED diagnostic;
 * the documents in their providers' parts of the twin, and a warning for each provider that handed
 * in documents outside its part (notOwnedDiagnostic: not written). `documents`: each fresh
 * provider's documents, in the order given; `fresh`: the providers that collected this time.
 * A document's path is judged first (documentPathProblem: a provider handing in a path the twin
 * cannot hold is refused, wherever the path lies), then whose it is (tree.ownerOf).
 */
export function refusedDocumentPaths(
  documents: ReadonlyArray<{ doc: TwinDocument; provider: string }>,
  fresh: ReadonlySet<string>,
  tree: PathsOfTree,
  consequence: string,
): { refused: Map<string, Diagnostic>; written: Map<string, string>; owned: Array<{ doc: TwinDocument; provider: string }>; notOwned: Map<string, Diagnostic> } {
  const refused = new Map<string, Diagnostic>()
  const refuse = (provider: string, problem: string) => {
    if (!refused.has(provider)) refused.set(provider, providerFailure(provider, 'collect', new Error(`it returned ${problem}`), consequence))
  }
  const owned: Array<{ doc: TwinDocument; provider: string }> = []
  const strays = new Map<string, string[]>()
  // Each path's writer, and the paths the tree does not hold yet.
  const writer = new Map<string, string>()
  const added: string[] = []
  for (const entry of documents) {
    const { doc, provider } = entry
    const path = doc.path
    // A path the tree holds is one (it holds no other): only a new one is judged whole; a control character in any.
    const held = tree.holds(path)
    const problem = held ? (!path.startsWith('filesystem/') && CONTROL.test(path) ? documentPathProblem(path) : undefined) : documentPathProblem(path)
    if (problem !== undefined) {
      refuse(provider, cannotHold(path, problem))
      continue
    }
    if (tree.ownerOf(path) !== provider) {
      const list = strays.get(provider)
      if (list === undefined) strays.set(provider, [path])
      else list.push(path)
      continue
    }
    owned.push(entry)
    const known = writer.get(path)
    if (known !== undefined) {
      // A path is owned by one provider: twice means twice from it.
      refuse(provider, `the document ${shown(path)} twice: a path the twin holds once`)
      continue
    }
    writer.set(path, provider)
    if (!held) added.push(path)
  }
  const notOwned = new Map([...strays].map(([provider, paths]) => [provider, notOwnedDiagnostic(provider, paths, tree.ownerOf)]))
  if (added.length === 0) return { refused, written: writtenBy(writer, refused), owned, notOwned }
  const whose = (path: string) => {
    const owner = tree.ownerOf(path)
    return owner === undefined ? "the twin's own file" : `the ${owner} provider's document`
  }
  // Refusing a provider keeps its files as they were, which may clash with another's new path: again until none is refused anew.
  for (let before = -1; before !== refused.size; ) {
    before = refused.size
    const live = (path: string) => {
      const by = writer.get(path)
      return by !== undefined && !refused.has(by) ? by : undefined
    }
    const stillFresh = new Set([...fresh].filter((p) => !refused.has(p)))
    // Folders found to be no file of the new tree, with every folder above them (this pass only: a refusal keeps files).
    const clear = new Set<string>()
    for (const path of added) {
      const provider = writer.get(path) as string
      if (refused.has(provider)) continue
      // A folder on its way that is a file: one this provider hands in too, another's, or one the tree keeps.
      let walked: string[] | undefined
      for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
        const folder = path.slice(0, i)
        if (clear.has(folder)) break
        ;(walked ??= []).push(folder)
        const by = live(folder)
        if (by === provider) refuse(provider, `documents ${shown(folder)} and ${shown(path)}: a file and a folder at one path`)
        else if (by !== undefined && !tree.holds(folder)) {
          // Both new: neither is more right than the other.
          const both = `${shown(folder)} (the ${by} provider's) and ${shown(path)} (the ${provider} provider's): a file and a folder at one path`
          refuse(provider, `a document another provider's clashes with: ${both}`)
          refuse(by, `a document another provider's clashes with: ${both}`)
        } else if (by !== undefined || (tree.holds(folder) && tree.stays(folder, stillFresh))) {
          refuse(provider, `${shown(path)}, a folder where the twin keeps the file ${shown(folder)} (${whose(folder)})`)
        }
        if (refused.has(provider)) break
      }
      if (walked !== undefined && !refused.has(provider)) for (const folder of walked) clear.add(folder)
      if (refused.has(provider) || !tree.isFolder(path)) continue
      // A file where the tree keeps a folder's files (this provider's own, another's, or the twin's).
      for (const below of tree.under(path)) {
        const by = live(below)
        if (by === provider) refuse(provider, `documents ${shown(path)} and ${shown(below)}: a file and a folder at one path`)
        else if (by !== undefined || tree.stays(below, stillFresh)) refuse(provider, `${shown(path)}, a file where the twin keeps the folder ${shown(path)}/ (${shown(below)}: ${whose(below)})`)
        if (refused.has(provider)) break
      }
    }
  }
  return { refused, written: writtenBy(writer, refused), owned, notOwned }
}

/** Each path written, by its provider: those of the providers not refused (the map as made, when none is: it is also the snapshot's set of written paths). */
function writtenBy(writer: Map<string, string>, refused: ReadonlyMap<string, Diagnostic>): Map<string, string> {
  if (refused.size > 0) for (const [path, provider] of writer) if (refused.has(provider)) writer.delete(path)
  return writer
}

/**
 * A tree as a list of its files' paths (an adopt's: the observed snapshot it writes on top of):
 * `goes`, whether a file of a provider that collected this time goes when that provider does not
 * hand it in again (an adopt: always, it keeps no parts; a snapshot's draft answers for itself).
 */
export function listedTree(paths: readonly string[], ownerOf: (path: string) => string | undefined): PathsOfTree {
  const files = new Set(paths)
  const folders = new Set<string>()
  for (const path of paths) for (let i = path.lastIndexOf('/'); i > 0 && !folders.has(path.slice(0, i)); i = path.lastIndexOf('/', i - 1)) folders.add(path.slice(0, i))
  return {
    holds: (path) => files.has(path),
    isFolder: (path) => folders.has(path),
    under: (folder) => paths.filter((p) => p.startsWith(`${folder}/`)),
    stays: (path, fresh) => {
      if (!(path.startsWith('filesystem/') || path.startsWith('system/'))) return true
      const owner = ownerOf(path)
      return owner === undefined || !fresh.has(owner)
    },
    ownerOf,
  }
}

/**
 * Documents a provider handed in outside its part of the twin (not under its twinPaths, or under
 * filesystem/ for a machine path another provider claims, or none): never written, and said
 * (session 43; before, a log line only --verbose showed). One warning per provider, the first
 * few paths named, spelled out; `owners` says whose each path is (undefined: no provider's).
 */
export function notOwnedDiagnostic(provider: string, paths: readonly string[], owners: (path: string) => string | undefined): Diagnostic {
  const named = paths.slice(0, 3).map((path) => {
    const owner = owners(path)
    return `${shown(path)} (${owner === undefined ? "no provider's" : `the ${owner} provider's`})`
  })
  const more = paths.length > named.length ? ` and ${paths.length - named.length} more` : ''
  const count = paths.length === 1 ? 'a document' : `${paths.length} documents`
  return warningDiagnostic('PROVIDER_FAILED', `The ${provider} provider handed in ${count} outside its part of the twin: ${named.join(', ')}${more}; ${paths.length === 1 ? 'it was' : 'they were'} not written`, {
    provider,
    detail: `A fault in the ${provider} provider, not in TwinSync: a provider writes only under its twinPaths, and under filesystem/ only the machine paths it claims. Its other documents were written. Update it, or report it to its authors.`,
  })
}
