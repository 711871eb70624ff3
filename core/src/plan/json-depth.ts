/**
 * How deep JSON text nests, counted on the text before it is parsed. `JSON.parse` itself takes
 * any depth (V8's parser does not recurse), but what walks the value afterwards does: the
 * seal's and the record's `stableStringify`, typebox's checks. A value nested 100,000 deep (200 KB
 * of brackets) overflowed the stack there: a saved plan so nested was "internal error: Maximum
 * call stack size exceeded", and such a value in the twin's record of run-once commands (a
 * pull takes an entry this twin signed with any value beside its signature) ended every apply
 * that way after its steps had run, its journal and record never committed (session 36).
 * Nothing TwinSync writes nests more than a dozen levels.
 */
export const MAX_JSON_DEPTH = 256

/** True when `text` opens more than `limit` arrays or objects inside each other (brackets in strings not counted). */
export function jsonTooDeep(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // A string: skip to its closing quote, a backslash escaping the next character.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i)
        if (s === 0x5c) i++
        else if (s === 0x22) break
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}
