import { readdirSync, realpathSync } from 'node:fs'
import { basename, dirname, isAbsolute, resolve } from 'node:path'
import type { StatData } from '@twinsync/sdk'
import { lstatData, S_IFDIR, S_IFLNK, S_IFMT, TwinSyncError } from '@twinsync/sdk/light'
import { quoteArg, twinsyncLine } from '../plan/command-text.js'
import type { RunTarget } from '../plan/run-target.js'
import type { GitClientFactory } from './git.js'
import { expandHome, refuseUnprintable } from './twin-location.js'
import { TwinRepository, type TwinInfo } from './twin-repository.js'

/** A path the files provider mirrors: the include entry, and where it is on this host (under the target root). */
export interface MirroredPath {
  include: string
  path: string
}

/** A place that may hold the twin, and what it holds now. */
export interface TwinPlace {
  /** Absolute. */
  dir: string
  /** 'twin': a twin is there (use it); 'empty' or 'missing': `init` creates one there. */
  holds: 'twin' | 'empty' | 'missing'
  /** twin.json of the twin there. */
  info?: TwinInfo
}

/**
 * The one rule for where a twin may live, for `--repo`, `repo:` in the configuration file and
 * Settings in the TUI alike: an absolute path (or ~/…), not a symlink, neither inside a mirrored
 * path nor around one (a snapshot would copy the twin into itself, an apply would write into
 * it), and either an existing twin or an empty or missing folder. No control character (a NUL,
 * a newline) in it. Refuses with
 * REPO_PLACE_INVALID, REPO_NOT_DIRECTORY or REPO_NOT_TWIN; changes nothing on disk.
 */
export async function checkTwinPlace(input: string, mirrored: readonly MirroredPath[], gitFactory: GitClientFactory, target?: RunTarget): Promise<TwinPlace> {
  const { dir, entry } = placeOf(input, mirrored, target)
  if (entry === undefined) return { dir, holds: 'missing' }
  if (isKind(entry, S_IFDIR) && readdirSync(dir).length === 0) return { dir, holds: 'empty' }
  // A directory with something in it must be a twin; open() says why not (REPO_NOT_DIRECTORY, REPO_NOT_TWIN, REPO_INVALID).
  const info = await new TwinRepository({ dir, source: 'config' }, gitFactory, target).open()
  return { dir, holds: 'twin', info }
}

/**
 * The rule's own refusals of a place (checkTwinPlace's first half): an absolute path with no
 * control character, not a symlink, neither inside a mirrored path nor around one. What is there
 * is not looked at: `entry` is the place's lstat (undefined when nothing is there). A caller that
 * opens the twin at the place itself right after (a snapshot: SnapshotService.snapshot opens it
 * before anything else) gets checkTwinPlace's other refusals from that open.
 */
export function placeOf(input: string, mirrored: readonly MirroredPath[], target?: RunTarget): { dir: string; entry: StatData | undefined } {
  const raw = refuseUnprintable(input.trim())
  const expanded = expandHome(raw)
  if (!isAbsolute(expanded)) {
    throw placeInvalid(raw, `"${raw}" is not an absolute path`, 'Give the twin repository as an absolute path, such as /var/lib/twinsync/twin.')
  }
  const dir = resolve(expanded)
  // Synchronous calls: a dozen or more a run (one realpath a mirrored path), each a round trip
  // through libuv's thread pool when awaited (issue 22).
  const entry = lstatOrUndefined(dir)
  if (isKind(entry, S_IFLNK)) {
    throw placeInvalid(dir, `${dir} is a symlink`, `Give the folder the link points at (\`readlink -f ${quoteArg(dir)}\` prints it), so the twin cannot be moved by changing the link.`)
  }
  const realpaths = new RealPaths()
  const real = realpaths.ofExisting(dir)
  for (const m of mirrored) {
    const path = realpaths.ofExisting(m.path)
    const inside = within(real, path)
    if (inside || within(path, real)) {
      throw placeInvalid(
        dir,
        inside ? `${dir} is inside ${m.include}, which snapshots mirror` : `${dir} holds ${m.include}, which snapshots mirror`,
        `Choose a place outside the mirrored paths, such as /var/lib/twinsync/twin (\`${target?.line(['config']) ?? twinsyncLine(['config'], { root: '/' })}\` lists files.include).`,
      )
    }
  }
  return { dir, entry }
}

function within(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith('/') ? folder : `${folder}/`)
}

/**
 * The real path of the deepest part of a path that exists, with the rest appended (symlinked
 * parents resolved), for several paths: each folder worked out once.
 *
 * Speed (issue 22): realpath(3) of each mirrored path (and, for one that does not exist, of each
 * parent in turn, each failure a thrown error) read every folder of every path again with
 * readlink(2): the services root under the bench's folder made 137 such calls, 123 of them
 * failing, in every snapshot. Now a path is its parent's answer and its name, after one lstat;
 * realpath(3) only for a name that is a symlink. The same answers: realpath of a name that is no
 * symlink is its parent's realpath and the name, and where the name is missing (or cannot be
 * reached) the rule appends it to its parent's answer all the same.
 */
export class RealPaths {
  private readonly known = new Map<string, string>([['/', '/']])

  /** `path`: absolute. */
  ofExisting(path: string): string {
    return this.of(resolve(path))
  }

  private of(path: string): string {
    const kept = this.known.get(path)
    if (kept !== undefined) return kept
    const parent = dirname(path)
    const base = this.of(parent)
    const candidate = base === '/' ? `/${basename(path)}` : `${base}/${basename(path)}`
    let real = candidate
    if (isKind(lstatOrUndefined(candidate), S_IFLNK)) {
      try {
        real = realpathSync.native(candidate)
      } catch {
        real = candidate // a dangling link or a loop: the rest appended as it is
      }
    }
    this.known.set(path, real)
    return real
  }
}

/** The path's lstat numbers (stat-data.ts: no Stats object); undefined when it cannot be had. */
function lstatOrUndefined(path: string): StatData | undefined {
  try {
    return lstatData(path)
  } catch {
    return undefined
  }
}

const isKind = (st: StatData | undefined, type: number): boolean => st !== undefined && (st.mode & S_IFMT) === type

function placeInvalid(dir: string, why: string, nextStep: string): TwinSyncError {
  return new TwinSyncError('REPO_PLACE_INVALID', `The twin cannot live at ${dir}: ${why}`, { nextStep, details: { repo: dir } })
}
