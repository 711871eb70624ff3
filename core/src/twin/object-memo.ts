/**
 * What git says of an object never changes: a commit's tree, the differences between two trees,
 * a tree's listing (paths, modes, sizes), a commit's message. Asked by their full ids, the
 * answers are remembered for the life of the process (one command), per twin, so one apply does
 * not ask git the same question again and again: its checkpoint, its promotion, the steps'
 * unpromotion and the snapshot after it each compared the same trees. Only what a full object id
 * names is remembered (never HEAD, a ref or the working twin), and a failed answer is forgotten.
 *
 * Speed (session 23): `twinsync apply --yes` of one edited /etc file on the base Debian root
 * (minbase, --root, nothing else pending) ran 93 git processes (`strace -f -e execve`): 14
 * `rev-parse X^{tree}`, 12 `diff-tree` (one pair seven times), 16 `ls-tree` of whole trees, 3
 * `log -1` of the same intent commit. With this memo (and IntentService.promote comparing once
 * per tree) 55; in-process 92 → 54, an apply with another edit left pending 135 → 83; CPU of
 * the apply (user + sys with children, load 11–15) 4.3–4.7 → 3.0–3.4 s. The count is guarded
 * by test/integration/apply-git-count.test.ts.
 */

/** A full object id (SHA-1 or SHA-256): the only names whose answers cannot change. */
export function isObjectId(name: string): boolean {
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(name)
}

/** Bounded: a tree's listing of the scale root (24,000 files) is a few MB. */
const LIMIT = 64

const memo = new Map<string, Promise<unknown>>()

/**
 * The answer to `question` about the objects `ids` of the twin `dir`, remembered when every id
 * is a full object id; asked again otherwise, and after a failure.
 */
export function remembered<T>(dir: string, kind: string, ids: readonly string[], ask: () => Promise<T>): Promise<T> {
  if (!ids.every(isObjectId)) return ask()
  const key = `${dir}\0${kind}\0${ids.join('\0')}`
  const known = memo.get(key) as Promise<T> | undefined
  if (known !== undefined) {
    // Most recently used last: the oldest goes first when the memo is full.
    memo.delete(key)
    memo.set(key, known)
    return known
  }
  const answer = ask()
  memo.set(key, answer)
  answer.catch(() => {
    if (memo.get(key) === answer) memo.delete(key)
  })
  while (memo.size > LIMIT) memo.delete(memo.keys().next().value as string)
  return answer
}

/** Tests: forget everything (a test that rewrites a twin's objects under the same ids, none known). */
export function forgetObjectMemo(): void {
  memo.clear()
}
