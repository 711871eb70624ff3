/**
 * Add `value` to the list `map` holds for `key`, in place. Speed: the copy-and-append form
 * (`map.set(k, [...(map.get(k) ?? []), v])`) is quadratic in a list's length, and a twin's
 * manifest can ask for 30,000 subfolders of one folder: every one of them is a create ordered
 * after the folder's, all of one provider. `plan` of that twin: 24.2 s of CPU (13.9 s of it
 * garbage collection) before, 5.3 s with this in the plan graph alone (session 37).
 */
export function appendTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}

/**
 * Add every one of `items` to `list`, in place, one at a time. Never `list.push(...items)` for a
 * list a twin or a machine sizes: a spread passes each item as an argument, and past about
 * 120,000 of them V8 throws RangeError "Maximum call stack size exceeded" (session 38: a pulled
 * twin of 130,000 files outside the files provider's include set, one FILES_OUTSIDE_SCOPE warning
 * each, ended `plan` in "internal error: Maximum call stack size exceeded"; MAX_INCOMING_FILES
 * lets 500,000 through).
 */
export function appendAll<T>(list: T[], items: Iterable<T>): void {
  for (const item of items) list.push(item)
}
