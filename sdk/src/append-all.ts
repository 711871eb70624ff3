/**
 * Add every one of `items` to `list`, in place, one at a time. Never `list.push(...items)` for a
 * list a twin or a machine sizes: a spread passes each item as an argument, and past about
 * 120,000 of them V8 throws RangeError "Maximum call stack size exceeded" (session 37: 150,000
 * apt packages ended `plan` in an internal error; session 38: a twin of 130,000 files outside the
 * files provider's include set, one FILES_OUTSIDE_SCOPE warning each, ended `plan` so, and status
 * with as many pending changes; MAX_INCOMING_FILES lets 500,000 through). In the SDK so that the
 * plugins use it too (core through core/src/append-to.ts).
 */
export function appendAll<T>(list: T[], items: Iterable<T>): void {
  // A list appended to itself: its items as they were (what the spread took), not for ever.
  for (const item of items === list ? list.slice() : items) list.push(item)
}
