/**
 * What a provider writes into the twin: a file at a twin-relative POSIX path, such as
 * "system/packages/apt.json" or "filesystem/etc/hosts".
 */
export interface TwinDocument {
  path: string
  content: string | Uint8Array
  /** Stored with the executable bit (the only mode bit Git keeps; the manifest keeps the rest). */
  executable?: boolean
}

/** Top-level folders of the twin, from the spec's layout. */
export const TWIN_LAYOUT = [
  'filesystem',
  'system',
  'system/packages',
  'system/services',
  'system/startup',
  'system/network',
  'system/processes',
  'system/logs',
  'system/runtime',
  'plans',
  'scripts',
] as const

/**
 * Facts that change from one minute to the next live under these folders only, so a scheduled
 * `snapshot --if-changed` can tell "only the clock moved" from a real change.
 */
export const VOLATILE_PREFIXES = ['system/processes/', 'system/logs/', 'system/runtime/'] as const

export function isVolatileTwinPath(path: string): boolean {
  return VOLATILE_PREFIXES.some((prefix) => path.startsWith(prefix))
}

/** Twin path of a mirrored machine path: "/etc/hosts" is "filesystem/etc/hosts". */
export function mirrorPath(targetPath: string): string {
  return 'filesystem' + targetPath
}

/** Machine path of a twin path under filesystem/, or undefined for any other twin path. */
export function machinePathOf(twinPath: string): string | undefined {
  return twinPath.startsWith('filesystem/') ? twinPath.slice('filesystem'.length) : undefined
}

/** Read access to a twin (the working tree or any commit of it). */
export interface TwinReader {
  /** The file's content, or undefined when the twin does not have it. */
  read(path: string): Promise<Uint8Array | undefined>
  readText(path: string): Promise<string | undefined>
  /** Every file path under a folder prefix ("filesystem/etc/"), sorted. */
  list(prefix: string): Promise<string[]>
  /**
   * Whether `list` names exactly this path (any file the twin holds there, a symlink too),
   * learnt without listing: a reader that holds its paths in a map (a snapshot's draft, a
   * commit's tree). Absent on readers that cannot say without a listing. A reader that wraps
   * another and lists fewer paths does not pass it on unchanged. Asked by the files provider's
   * narrowing (a snapshot's diary line), so that its cost grows with what changed.
   */
  has?(path: string): Promise<boolean>
  /**
   * The git blob id of the regular file at `path` when the reader knows it without reading the
   * file: the working twin was found, a moment ago, to be exactly its index (the core's reader for
   * a `plan` or `status`); undefined otherwise (then `read` it). A provider may take a document
   * whose id is that of a text it already holds as that text. Absent on other readers.
   */
  blobOf?(path: string): string | undefined
  /**
   * The size in bytes of the regular file at `path`, learnt without reading it (a stat of the
   * working twin, the tree's entry through git), or undefined when the twin has no regular file
   * there. A provider that must not hold an oversized document in memory (the files provider's
   * limits.maxFileSize) asks before `read`. Absent on readers that hold their documents already.
   */
  sizeOf?(path: string): Promise<number | undefined>
  /**
   * Whether the regular file at `path` has the executable bit in the twin (its git mode 100755,
   * or the working twin's file mode), learnt without reading it; undefined when the twin has no
   * regular file there or the reader cannot say. The only mode bit git keeps (TwinDocument's
   * `executable`): the files provider plans a new executable document as 0755 and gives a listed
   * file whose manifest mode has no x bit the x bits where its r bits are (session 42: before, a
   * mirror's `chmod +x` was dropped without a word). Every reader that wraps another passes it on.
   */
  executableOf?(path: string): Promise<boolean | undefined>
  /**
   * Whether the regular file at `path` had the executable bit in the last snapshot
   * (`refs/twinsync/observed`), for a reader of what the twin asks for (the working twin, a pulled
   * commit, the intent); a reader of a snapshot (its own tree, history's, the last snapshot read
   * as the machine was) says its own bit; a reader of another commit read as a whole (a revert's
   * target) the bit before the commit that last changed it, where that commit kept the content
   * (session 44, core's AS_MADE); undefined when there is no regular file there or the
   * reader cannot say. A twin's bit that differs from it is a
   * person's or a mirror's change (a `chmod -x` or `chmod +x` in the twin); one that does not is
   * what TwinSync committed, and the manifest's mode stands (session 43: the files provider's
   * `twinMode`). Every reader that wraps another passes it on.
   */
  observedExecutableOf?(path: string): Promise<boolean | undefined>
}
