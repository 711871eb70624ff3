import { rmdirSync, rmSync, unlinkSync } from 'node:fs'

/**
 * Remove one file (a symlink as a link); nothing when nothing is there (ENOENT). Any other
 * error is thrown: a folder there (EISDIR), a folder that refuses it (EPERM, EACCES, EROFS).
 * For TwinSync's own records, markers, indexes and temp files; a folder goes with
 * `rm(path, { recursive: true, force: true })` as before.
 *
 * Speed (issue 22): not `rm(path, { force: true })` nor `rmSync(path, { force: true })`, which in
 * Node 20 load and compile Node's rimraf (its module and 8 functions) for one file, there or not.
 * Session 39 (forgotten-paths.ts's record, cleared by every snapshot): 2.1 M instructions alone
 * (callgrind, `node -e` with fs/promises loaded either way: 517.7 -> 515.6 M); services root,
 * unchanged snapshot 469.5 -> 467.7 M (3 pairs, medians). Session 40 (atomic-snapshot.ts's
 * private index, markers and temp files): the first snapshot after one that committed (its index
 * refreshed, refreshIndex) loaded rimraf; minbase 470.4 -> 468.0 M (5 interleaved pairs, medians).
 */
export function removeFile(path: string): void {
  try {
    unlinkSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

/**
 * Remove a folder and what it holds; nothing when nothing is there (a file or a symlink there is
 * unlinked). An empty folder goes with one rmdir; only a folder that holds something goes with
 * `rmSync(path, { recursive: true, force: true })`, which loads Node's rimraf (see removeFile).
 * Speed (issue 22, session 49): a committing snapshot's stage folder (atomic-snapshot.ts's move)
 * is absent when the move begins and empty once its files are renamed in; and the pack writer's
 * temp files are gone after their renames (pack-writer.ts): a first snapshot loaded rimraf for them
 * (and for its ref locks, init's link probe, the plan-seal key's temp file: removeFile now).
 * `rmSync` of a missing file in a fresh `node -e`: 95.9 → 94.7 M instructions (callgrind).
 */
export function removeFolder(path: string): void {
  try {
    rmdirSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return
    if (code === 'ENOTDIR') return removeFile(path)
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
    rmSync(path, { recursive: true, force: true })
  }
}
