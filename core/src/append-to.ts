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

/** A whole list added in place, never `list.push(...items)` (past about 120,000 items it throws): the SDK's, which the plugins use too. */
export { appendAll } from '@twinsync/sdk/light'
