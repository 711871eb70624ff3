/**
 * Wait until 150 ms into the next second. A refresh of the index's stat data smudges an entry
 * whose ctime lies in the refresh's second while its mtime is older (`smudgeCtimeRacy` in
 * quick-status.ts: git, comparing times to the second, could not see an edit made in that second).
 * A test that expects one refresh to leave no stat data doubtful runs it in a later second than
 * the last change it made (and more than 100 ms after it: the quick check's racy rule).
 */
export async function pastThisSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 150))
}
